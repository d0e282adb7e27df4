import { hash } from 'node:crypto';

/**
 * The audit trail is a hash chain: each row carries the SHA-256 of its own canonical form, and that form
 * includes the previous row's hash. Changing, inserting or deleting a row in the middle breaks every link
 * after it, so `verifyChain` can name the first row that no longer fits. (Cutting rows off the *end* leaves a
 * valid shorter chain; only an external copy of the head hash can reveal that — see `headHash`.)
 */

/** The fields that are hashed, in a fixed order. */
export interface AuditEntryFields {
  id: number;
  /** ISO 8601 UTC with milliseconds. */
  at: string;
  action: string;
  user: string | null;
  clientAddress: string | null;
  target: string | null;
  /** Canonical JSON text (see `canonicalJson`), or null. Stored as text so the hashed bytes are the stored bytes. */
  details: string | null;
  result: string;
}

export interface AuditRow extends AuditEntryFields {
  prevHash: string;
  hash: string;
}

/** The previous-hash of the very first row. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted at every level, so the same details always serialise to the same bytes
 * whatever order the caller built them in.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return typeof v === 'bigint' ? v.toString() : v;
}

/**
 * The exact bytes that are hashed. A JSON array (not concatenation with separators) so that no field's content
 * can be shifted into its neighbour to produce the same input.
 */
export function canonicalRow(f: AuditEntryFields, prevHash: string): string {
  return JSON.stringify([f.id, f.at, f.action, f.user, f.clientAddress, f.target, f.details, f.result, prevHash]);
}

export function rowHash(f: AuditEntryFields, prevHash: string): string {
  // One-shot hashing: a third of the cost of createHash().update().digest() for a row-sized input.
  return hash('sha256', canonicalRow(f, prevHash), 'hex');
}

/** Builds the complete row that follows `prevHash`. */
export function chainRow(f: AuditEntryFields, prevHash: string): AuditRow {
  return { ...f, prevHash, hash: rowHash(f, prevHash) };
}

/** Chains entries onto a head (`id` 0 and GENESIS_HASH for an empty trail): the rows to insert, in order. */
export function chainRows(entries: ReadonlyArray<Omit<AuditEntryFields, 'id'>>, head: { id: number; hash: string }): AuditRow[] {
  const rows = new Array<AuditRow>(entries.length);
  let id = head.id;
  let prevHash = head.hash;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const row: AuditRow = {
      id: ++id,
      at: e.at,
      action: e.action,
      user: e.user,
      clientAddress: e.clientAddress,
      target: e.target,
      details: e.details,
      result: e.result,
      prevHash,
      hash: '',
    };
    row.hash = rowHash(row, prevHash);
    prevHash = row.hash;
    rows[i] = row;
  }
  return rows;
}

export interface ChainVerdict {
  /** Id of the first row that does not fit, or null when the whole chain is intact. */
  firstBad: number | null;
  reason?: 'hash-mismatch' | 'broken-link' | 'id-gap' | undefined;
  checked: number;
  /** Hash of the last good row (the head when intact). */
  headHash: string;
}

/**
 * Walks rows in id order. Accepts any iterable so that the CLI can stream a large table without loading it.
 * Checks three things per row: its stored hash matches its content, its prevHash is the previous row's hash,
 * and ids are consecutive (a deleted row whose successor was re-hashed by an attacker still leaves a gap).
 */
export function verifyChainDetailed(
  rows: Iterable<AuditRow>,
  start: { prevHash: string; prevId: number } = { prevHash: GENESIS_HASH, prevId: 0 },
): ChainVerdict {
  let prevHash = start.prevHash;
  let prevId = start.prevId;
  let checked = 0;
  for (const r of rows) {
    if (r.id !== prevId + 1) return { firstBad: r.id, reason: 'id-gap', checked, headHash: prevHash };
    if (r.prevHash !== prevHash) return { firstBad: r.id, reason: 'broken-link', checked, headHash: prevHash };
    if (rowHash(r, r.prevHash) !== r.hash) return { firstBad: r.id, reason: 'hash-mismatch', checked, headHash: prevHash };
    prevHash = r.hash;
    prevId = r.id;
    checked++;
  }
  return { firstBad: null, checked, headHash: prevHash };
}

/** First tampered row id, or null when intact. */
export function verifyChain(rows: Iterable<AuditRow>): number | null {
  return verifyChainDetailed(rows).firstBad;
}
