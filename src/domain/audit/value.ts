import { createHash } from 'node:crypto';

/** Values whose JSON is longer than this enter the audit trail only as their size and hash. */
export const AUDIT_VALUE_MAX_BYTES = 256;

/** What the trail keeps of a value too large (or too deep) to store as sent. */
export interface TruncatedValue {
  truncated: true;
  /** Length of the value's JSON text in UTF-8 bytes. */
  bytes: number;
  /** SHA-256 (hex) of that JSON text: proves which value it was without storing it. */
  sha256: string;
}

/**
 * A client's value as the audit trail may keep it: scalars as they are (64-bit integers and dates as strings),
 * anything whose JSON exceeds `maxBytes` as `{truncated, bytes, sha256}`. The append-only trail cannot be
 * cleaned up later, so a 1 MB value must not enter it; and a value nested 100,000 deep must not reach code that
 * recurses (redaction, canonical JSON, clients parsing /audit), so non-scalars are walked without recursion.
 */
export function auditValue(v: unknown, maxBytes = AUDIT_VALUE_MAX_BYTES): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'string') {
    // Cheap bound first: JSON of a string is at least its length + 2 and at most 6 bytes per UTF-16 unit.
    if (v.length * 6 + 2 <= maxBytes) return v;
    const json = JSON.stringify(v);
    const bytes = Buffer.byteLength(json);
    if (bytes <= maxBytes) return v;
    return { truncated: true, bytes, sha256: createHash('sha256').update(json).digest('hex') } satisfies TruncatedValue;
  }
  if (typeof v !== 'object') return null;
  const { bytes, sha256 } = jsonDigest(v);
  // Small enough to keep: also shallow enough (depth < bytes / 2) for the trail's recursive canonical JSON.
  if (bytes <= maxBytes) return v;
  return { truncated: true, bytes, sha256 } satisfies TruncatedValue;
}

/**
 * Length and SHA-256 of a JSON value's text (as JSON.stringify would write it for parsed JSON), computed with an
 * explicit stack: no recursion, so any depth is fine; the text is hashed in pieces and never built whole.
 */
export function jsonDigest(root: unknown): { bytes: number; sha256: string } {
  const hash = createHash('sha256');
  let bytes = 0;
  let chunk = '';
  const emit = (s: string): void => {
    chunk += s;
    if (chunk.length >= 16_384) {
      bytes += Buffer.byteLength(chunk);
      hash.update(chunk);
      chunk = '';
    }
  };
  // Work items: a value to write, or a literal piece of text (closing brackets, separators).
  const stack: Array<{ value: unknown } | string> = [{ value: root }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item === 'string') {
      emit(item);
      continue;
    }
    const v = item.value;
    if (v === null || typeof v !== 'object' || v instanceof Date) {
      const s = typeof v === 'bigint' ? JSON.stringify(v.toString()) : JSON.stringify(v);
      emit(s === undefined ? 'null' : s);
      continue;
    }
    if (Array.isArray(v)) {
      emit('[');
      stack.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ value: v[i] });
        if (i > 0) stack.push(',');
      }
      continue;
    }
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    emit('{');
    stack.push('}');
    for (let i = keys.length - 1; i >= 0; i--) {
      stack.push({ value: (v as Record<string, unknown>)[keys[i]!] });
      stack.push(`${JSON.stringify(keys[i])}:`);
      if (i > 0) stack.push(',');
    }
  }
  bytes += Buffer.byteLength(chunk);
  hash.update(chunk);
  return { bytes, sha256: hash.digest('hex') };
}
