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

const COMMA = { text: ',' };
const CLOSE_ARRAY = { text: ']' };
const CLOSE_OBJECT = { text: '}' };
class Key {
  constructor(readonly key: string) {}
}

/**
 * Length and SHA-256 of a JSON value's text as JSON.stringify writes it. Ordinary values go through the native
 * JSON.stringify; one too deep for it (a RangeError) is walked with an explicit stack instead: any depth works, and
 * the text is hashed in pieces rather than built whole.
 */
export function jsonDigest(root: unknown): { bytes: number; sha256: string } {
  try {
    const text = JSON.stringify(root) ?? 'null';
    return { bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
  }
  const hash = createHash('sha256');
  let bytes = 0;
  let chunk = '';
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    let s: string;
    if (v === COMMA || v === CLOSE_ARRAY || v === CLOSE_OBJECT) s = (v as { text: string }).text;
    else if (v instanceof Key) s = `${JSON.stringify(v.key)}:`;
    else if (v === null || typeof v !== 'object' || v instanceof Date)
      s = (typeof v === 'bigint' ? JSON.stringify(v.toString()) : JSON.stringify(v)) ?? 'null';
    else if (Array.isArray(v)) {
      s = '[';
      stack.push(CLOSE_ARRAY);
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i]);
        if (i > 0) stack.push(COMMA);
      }
    } else {
      s = '{';
      stack.push(CLOSE_OBJECT);
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      let last = true;
      for (let i = keys.length - 1; i >= 0; i--) {
        const x = o[keys[i]!];
        if (x === undefined) continue;
        if (!last) stack.push(COMMA);
        last = false;
        stack.push(x, new Key(keys[i]!));
      }
    }
    chunk += s;
    if (chunk.length >= 16_384) {
      bytes += Buffer.byteLength(chunk);
      hash.update(chunk);
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  hash.update(chunk);
  return { bytes, sha256: hash.digest('hex') };
}
