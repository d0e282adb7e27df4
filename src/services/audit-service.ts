import type { AuditRow } from '../domain/audit/chain.js';
import { TagwayError } from '../domain/problems.js';
import { isoTimeParam } from '../domain/time-param.js';
import type { Actor } from './actor.js';

/** The query side of the audit store (the audit repository implements it). */
export interface AuditQueryPort {
  query(q: {
    from?: string | undefined;
    to?: string | undefined;
    user?: string | undefined;
    action?: readonly string[] | undefined;
    tag?: string | undefined;
    order?: 'asc' | 'desc' | undefined;
    limit?: number | undefined;
    cursor?: string | undefined;
  }): Promise<{ items: AuditRow[]; next: string | null }>;
}

export interface AuditFilter {
  /** Inclusive, any ISO 8601 date-time. */
  from?: string | undefined;
  /** Exclusive. */
  to?: string | undefined;
  user?: string | undefined;
  /** Any of these actions. */
  actions?: readonly string[] | undefined;
  /** Rows about this tag: on it (`target`), or listing it among a bulk write's items. Exact, case-sensitive. */
  tag?: string | undefined;
  order?: 'asc' | 'desc' | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** Reading the audit trail (needs `audit:read`, which has no tag scope): filters and keyset paging. */
export class AuditService {
  constructor(private readonly store: AuditQueryPort) {}

  async query(actor: Actor, f: AuditFilter): Promise<{ items: AuditRow[]; next: string | null }> {
    // audit:read has no tag scope; a scoped grant (refused on input) must not read everything.
    if (!actor.principal.permissions.unscoped('audit:read')) throw new TagwayError('FORBIDDEN', "You lack the permission 'audit:read'");
    try {
      return await this.store.query({
        // Stored times are ISO strings with milliseconds; normalised bounds make string comparison time comparison.
        from: isoTimeParam(f.from, 'from'),
        to: isoTimeParam(f.to, 'to'),
        user: f.user,
        tag: f.tag,
        order: f.order,
        limit: f.limit,
        cursor: f.cursor,
        action: f.actions && f.actions.length > 0 ? f.actions : undefined,
      });
    } catch (err) {
      if (err instanceof RangeError)
        throw new TagwayError('VALIDATION_FAILED', 'cursor is not valid', {
          errors: [{ field: 'querystring.cursor', message: 'is not valid' }],
        });
      throw err;
    }
  }
}
