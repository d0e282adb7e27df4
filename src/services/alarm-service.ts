import type { AlarmClass } from '../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../domain/alarms/records.js';
import type { PermissionSet } from '../domain/permissions.js';
import { TagwayError, type ItemError } from '../domain/problems.js';
import type { TagValue } from '../domain/tag-types.js';
import type { AuditAction, AuditEvent } from '../runtime/audit.js';
import type { AlarmEngine, AlarmDefinitionView, CurrentFilter } from '../runtime/alarms/engine.js';
import type { Actor } from './actor.js';

/** Archive query as the service takes it (times in epoch ms; `from` inclusive, `to` exclusive). */
export type AlarmArchiveQuery = Parameters<AlarmEngine['archivePage']>[0];
export type AlarmArchivePage = ReturnType<AlarmEngine['archivePage']>;

export type AlarmAckItem = { id: number; state: AlarmOccurrence['state'] } | { id: number; error: ItemError };

export interface AlarmServiceOptions {
  engine: AlarmEngine;
  /** The audit trail (overrides of definitions are recorded; acknowledgements come from the journal). */
  audit: { record(e: AuditEvent): unknown };
  /** Most ids in one bulk acknowledgement. */
  maxBulkItems: number;
}

/** What one caller may see and do: `alarms:read` and `alarms:acknowledge`, each scoped by tag globs. */
class AlarmRights {
  /** Undefined when `alarms:read` covers every tag, so the common case costs nothing per item. */
  readonly visible: ((tag: string | null) => boolean) | undefined;

  constructor(private readonly permissions: PermissionSet) {
    this.visible = permissions.unscoped('alarms:read') ? undefined : (tag) => tag === null || permissions.allows('alarms:read', tag);
  }

  canRead(tag: string | null): boolean {
    return this.visible === undefined || this.visible(tag);
  }

  /** Alarms bound to no tag (connection-lost) are acted on only with an unscoped grant: no glob covers them. */
  canAct(tag: string | null): boolean {
    return tag === null ? this.permissions.unscoped('alarms:acknowledge') : this.permissions.allows('alarms:acknowledge', tag);
  }
}

/**
 * The alarm operations every front end shares: permissions with their tag scopes, validation, budgets and audit
 * live here; the engine does what it is told. Reading needs `alarms:read`, acting (acknowledge, reset, enable,
 * disable, shelve, unshelve) `alarms:acknowledge`, and both are checked against the alarm's tag. An alarm the
 * caller may not read answers exactly like one that does not exist (NOT_FOUND), so scopes reveal nothing; one
 * the caller may read but not act on is FORBIDDEN.
 *
 * In a cluster every check here runs on the node that took the request (it lists every occurrence); the engine
 * then carries the action to the node that owns the alarm's connection, which journals it (and audits an
 * acknowledgement or reset) once; overrides are audited here, once.
 */
export class AlarmService {
  private readonly engine: AlarmEngine;
  private readonly audit: AlarmServiceOptions['audit'];
  private readonly maxBulk: number;

  constructor(opts: AlarmServiceOptions) {
    this.engine = opts.engine;
    this.audit = opts.audit;
    this.maxBulk = opts.maxBulkItems;
  }

  private rights(actor: Actor, permission: 'alarms:read' | 'alarms:acknowledge'): AlarmRights {
    const p = actor.principal.permissions;
    if (!p.has(permission)) throw new TagwayError('FORBIDDEN', `You lack the permission '${permission}'`);
    return new AlarmRights(p);
  }

  // ---- reads -------------------------------------------------------------------------------------------------

  /** The current list the caller may see, newest first; texts in `lang` where the alarm has one. */
  async current(actor: Actor, filter: CurrentFilter = {}, lang?: string): Promise<AlarmOccurrence[]> {
    const { visible } = this.rights(actor, 'alarms:read');
    const items = await this.engine.current(filter);
    return this.localize(lang, visible ? items.filter((o) => visible(o.tag)) : items);
  }

  /** One archive page of the events the caller may see (keyset cursor, stable while events arrive). */
  async archive(actor: Actor, query: AlarmArchiveQuery, lang?: string): Promise<AlarmArchivePage> {
    const { visible } = this.rights(actor, 'alarms:read');
    const page = await this.engine.archivePage(query, visible ? (e: AlarmEventRecord) => visible(e.tag) : undefined);
    return { ...page, items: this.localize(lang, page.items) };
  }

  definitions(actor: Actor): AlarmDefinitionView[] {
    const { visible } = this.rights(actor, 'alarms:read');
    const all = this.engine.definitions();
    return visible ? all.filter((d) => visible(d.tag)) : all;
  }

  definition(actor: Actor, name: string): AlarmDefinitionView {
    const r = this.rights(actor, 'alarms:read');
    return this.visibleDefinition(r, name);
  }

  classes(actor: Actor): AlarmClass[] {
    this.rights(actor, 'alarms:read');
    return this.engine.classList();
  }

  // ---- responses ---------------------------------------------------------------------------------------------

  async acknowledge(actor: Actor, id: number): Promise<AlarmOccurrence> {
    await this.checkOccurrence(this.rights(actor, 'alarms:acknowledge'), id);
    return this.engine.acknowledge(id, actor.principal.username);
  }

  async reset(actor: Actor, id: number): Promise<AlarmOccurrence> {
    await this.checkOccurrence(this.rights(actor, 'alarms:acknowledge'), id);
    return this.engine.reset(id, actor.principal.username);
  }

  /** Each id succeeds or fails alone (NOT_FOUND, FORBIDDEN, INVALID_STATE); one journal commit for all. */
  async acknowledgeMany(actor: Actor, ids: readonly number[]): Promise<AlarmAckItem[]> {
    const r = this.rights(actor, 'alarms:acknowledge');
    if (ids.length > this.maxBulk) throw new TagwayError('PAYLOAD_TOO_LARGE', `At most ${this.maxBulk} ids per request; got ${ids.length}`);
    const out: AlarmAckItem[] = new Array(ids.length);
    const allowed: number[] = [];
    const at: number[] = [];
    for (const [i, id] of ids.entries()) {
      try {
        await this.checkOccurrence(r, id);
        allowed.push(id);
        at.push(i);
      } catch (err) {
        if (!(err instanceof TagwayError)) throw err;
        out[i] = { id, error: { code: err.code, message: err.message } };
      }
    }
    if (allowed.length > 0) {
      const done = await this.engine.acknowledgeMany(allowed, actor.principal.username);
      done.forEach((d, k) => (out[at[k]!] = d));
    }
    return out;
  }

  // ---- overrides of definitions ------------------------------------------------------------------------------

  async setEnabled(actor: Actor, name: string, enabled: boolean): Promise<AlarmDefinitionView> {
    this.checkDefinition(actor, name);
    const v = await this.engine.setEnabled(name, enabled);
    await this.record(actor, enabled ? 'alarm.enable' : 'alarm.disable', name, { tag: v.tag });
    return v;
  }

  async shelve(actor: Actor, name: string, durationMs: number): Promise<AlarmDefinitionView> {
    this.checkDefinition(actor, name);
    const v = await this.engine.shelve(name, durationMs);
    await this.record(actor, 'alarm.shelve', name, { tag: v.tag, durationMs, shelvedUntil: v.shelvedUntil });
    return v;
  }

  async unshelve(actor: Actor, name: string): Promise<AlarmDefinitionView> {
    this.checkDefinition(actor, name);
    const v = await this.engine.unshelve(name);
    await this.record(actor, 'alarm.unshelve', name, { tag: v.tag });
    return v;
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  /** NOT_FOUND for an occurrence unknown or hidden by the read scope (the same answer), FORBIDDEN outside the act scope. */
  private async checkOccurrence(r: AlarmRights, id: number): Promise<void> {
    const occ = await this.engine.lookup(id);
    if (!occ || !r.canRead(occ.tag)) throw new TagwayError('NOT_FOUND', `No alarm occurrence ${id}`);
    if (!r.canAct(occ.tag)) throw new TagwayError('FORBIDDEN', `You lack the permission 'alarms:acknowledge' for alarm occurrence ${id}`);
  }

  private checkDefinition(actor: Actor, name: string): void {
    const r = this.rights(actor, 'alarms:acknowledge');
    const d = this.visibleDefinition(r, name);
    if (!r.canAct(d.tag)) throw new TagwayError('FORBIDDEN', `You lack the permission 'alarms:acknowledge' for alarm '${name}'`);
  }

  private visibleDefinition(r: AlarmRights, name: string): AlarmDefinitionView {
    let d: AlarmDefinitionView | undefined;
    try {
      d = this.engine.definition(name);
    } catch (err) {
      if (!(err instanceof TagwayError) || err.code !== 'NOT_FOUND') throw err;
    }
    if (!d || !r.canRead(d.tag)) throw new TagwayError('NOT_FOUND', `No alarm named '${name}'`);
    return d;
  }

  private async record(actor: Actor, action: AuditAction, target: string, details: Record<string, unknown>): Promise<void> {
    await this.audit.record({
      action,
      user: actor.principal.username,
      clientAddress: actor.clientAddress,
      target,
      details: { ...details, via: actor.via },
      result: 'OK',
    });
  }

  /** Occurrences or archive events with `text` in the asked language, where the alarm has one. */
  private localize<T extends { alarm: string; text: string; value: unknown }>(lang: string | undefined, items: T[]): T[] {
    if (!lang) return items;
    return items.map((i) => {
      const text = this.engine.textIn(i.alarm, lang, i.value as TagValue | null);
      return text === undefined ? i : { ...i, text };
    });
  }
}
