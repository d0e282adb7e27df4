import type { LiveValue } from '../../client/src/index.js';

/** A value for display: numbers with a sensible precision, booleans as words, times in local time. */
export function formatValue(v: LiveValue | { value: unknown } | undefined, type?: string): string {
  if (!v) return '…';
  const x = v.value;
  if (x === null || x === undefined) return '—';
  if (typeof x === 'boolean') return x ? 'true' : 'false';
  if (typeof x === 'number') {
    if (type && /Int/.test(type)) return String(x);
    return Math.abs(x) >= 1000 ? x.toFixed(1) : Number(x.toPrecision(6)).toString();
  }
  if (type === 'DateTime' && typeof x === 'string') return new Date(x).toLocaleString();
  return String(x);
}

export function formatTime(iso: string | undefined | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : '';
}

export function formatDateTime(iso: string | undefined | null): string {
  return iso ? new Date(iso).toLocaleString() : '';
}
