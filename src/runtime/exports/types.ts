import type { QualityFlag } from '../../domain/exports/aggregates.js';

/** A computed report: what the webhook receives as its body, and what SAP/Dynamics maps are filled from. */
export interface ReportDocument {
  report: string;
  period: { start: string; end: string; shift: string | null };
  values: Record<string, number | string | null>;
  flags: Record<string, QualityFlag[]>;
  generatedAt: string;
}

/** What an outbox entry of the exports carries: the target's request body as built at enqueue time, and its key. */
export interface ExportPayload {
  /** Idempotency key: stable per report, period and target. */
  key: string;
  report: string;
  /** Epoch ms of the period start: entries of one target are delivered in period order. */
  periodStart: number;
  body: unknown;
}

/** The answer of one delivery attempt, as the target saw it. */
export interface SendResult {
  /** HTTP status; null when no answer came. */
  status: number | null;
  /** Start of the answer body or the network error. */
  answer: string;
  /** Retry-After in ms, when the answer carried one. */
  retryAfterMs?: number | undefined;
}

/** One ERP target (webhook, SAP OData, Dynamics): builds its body from a report and sends it. */
export interface TargetSender {
  readonly name: string;
  readonly kind: string;
  /** The request body for a report (mapped entity for SAP/Dynamics, the report itself for webhooks). */
  prepare(doc: ReportDocument, key: string): unknown;
  /** One attempt; never throws (network errors and timeouts come back with status null). */
  send(body: unknown, key: string): Promise<SendResult>;
  close(): Promise<void>;
}

/** Outcome classes of an attempt (exported for tests and docs). */
export type Verdict = 'delivered' | 'retry' | 'permanent';

/**
 * 2xx delivered; no answer, 408, 429, 5xx retry; 401/403 retry too (credentials fixed by an operator, a token
 * refreshed, a CSRF token fetched again: the sender already retried once inside); any other 4xx is permanent:
 * the receiver refuses this body and will refuse it again.
 */
export function verdictOf(status: number | null): Verdict {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'delivered';
  if (status >= 500 || status === 401 || status === 403 || status === 408 || status === 429) return 'retry';
  return status >= 400 ? 'permanent' : 'retry';
}

/** Retry-After as seconds or an HTTP date, in ms from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | null | undefined, now: number): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
