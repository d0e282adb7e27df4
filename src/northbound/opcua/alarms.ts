import {
  type LocalizedText,
  StatusCodes,
  type AddressSpace,
  type BaseNode,
  type ISessionContext,
  type Namespace,
  type StatusCode,
  type UAAlarmConditionEx,
  type UAObject,
  type UAVariable,
  type Variant,
} from 'node-opcua';
import type { Logger } from 'pino';
import type { StateMachine } from '../../domain/alarms/definition.js';
import type { AlarmEventRecord, AlarmOccurrence } from '../../domain/alarms/records.js';
import { requiresAcknowledgement, requiresReset } from '../../domain/alarms/state-machine.js';
import { PermissionSet } from '../../domain/permissions.js';
import { TagwayError } from '../../domain/problems.js';
import type { Actor } from '../../services/actor.js';
import type { AlarmService } from '../../services/alarm-service.js';
import { guardNode, guardTree, type AccessHook } from './access.js';
import type { TagAddressSpace } from './address-space.js';
import { statusOfError } from './status.js';

/** The server reading the alarm definitions and current list for itself (never on a client's behalf). */
const SYSTEM: Actor = {
  principal: {
    username: 'system',
    displayName: 'system',
    groups: [],
    permissions: new PermissionSet([{ permission: 'alarms:read' }]),
    authMethod: 'none',
  },
  clientAddress: '127.0.0.1',
  via: 'system',
};

interface ConditionRecord {
  alarm: string;
  tag: string | null;
  machine: StateMachine;
  node: UAAlarmConditionEx;
  /** The occurrence the condition shows now, undefined when none is open. */
  occurrence: number | undefined;
}

type MethodCallback = (err: Error | null, result?: { statusCode: StatusCode }) => void;

/**
 * Tagway's alarms as OPC UA Alarms & Conditions: one AlarmConditionType instance per alarm definition, a component
 * of the `Tagway` object (which is an event notifier of the Server object) with the tag's variable as its source.
 * It shows the alarm's newest occurrence. Acknowledge (and Confirm, for classes that need a reset) go to the alarm
 * service as the session's user; the condition changes only when the alarm engine has committed the response, so
 * what OPC UA clients see is exactly the journal.
 */
export class OpcUaAlarms {
  private readonly byName = new Map<string, ConditionRecord>();
  private readonly byNode = new Map<object, ConditionRecord>();

  constructor(
    private readonly addressSpace: AddressSpace,
    private readonly ns: Namespace,
    private readonly space: TagAddressSpace,
    private readonly alarms: AlarmService,
    private readonly actorOf: (context: ISessionContext) => Actor | undefined,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const definitions = this.alarms.definitions(SYSTEM);
    if (definitions.length === 0) return;
    const machines = new Map(this.alarms.classes(SYSTEM).map((c) => [c.name, c.stateMachine]));
    const server = this.addressSpace.rootFolder.objects.server;
    server.addReference({ referenceType: 'HasNotifier', nodeId: this.space.root.nodeId });
    this.bindTypeMethods();
    const sources = new Set<unknown>();
    for (const def of definitions) {
      const machine = machines.get(def.class) ?? 'RAISE_CLEAR_REQUIRES_ACKNOWLEDGMENT';
      const variable = this.variableOf(def.tag);
      // A condition of a variable raises its events through the one object that has the variable as event
      // source (Part 9): the Tagway object, which passes them on to the Server object.
      if (variable && !sources.has(variable)) {
        this.space.root.addReference({ referenceType: 'HasEventSource', nodeId: variable.nodeId });
        sources.add(variable);
      }
      const confirm = requiresReset(machine);
      try {
        const node = this.ns.instantiateAlarmCondition('AlarmConditionType', {
          componentOf: this.space.root,
          browseName: def.name,
          nodeId: `s=@alarm:${def.name}`,
          conditionName: def.name,
          conditionSource: (variable ?? this.space.root) as UAObject,
          conditionOf: variable ?? this.space.root,
          inputNode: (variable ?? this.space.root) as never,
          optionals: confirm ? ['ConfirmedState', 'Confirm'] : [],
        });
        node.setEnabledState(def.enabled);
        const branch = node.currentBranch();
        branch.setRetain(false);
        branch.setSeverity(severityOf(def.priority));
        branch.setMessage(def.text);
        branch.setAckedState(true);
        if (confirm) branch.setConfirmedStateIfExists(true);
        const rec: ConditionRecord = { alarm: def.name, tag: def.tag, machine, node, occurrence: undefined };
        this.byName.set(def.name, rec);
        this.byNode.set(node, rec);
        // A session sees (and acts on) the condition only with `alarms:read` on its tag; the service decides acts.
        guardTree(node, (ctx) => this.mayRead(ctx, def.tag));
        this.bindInstanceMethods(node);
      } catch (err) {
        this.logger.warn({ alarm: def.name, err: (err as Error).message }, 'OPC UA server: alarm not exposed');
      }
    }
    for (const o of await this.alarms.current(SYSTEM)) this.show(o.alarm, occurrenceState(o), false);
  }

  stop(): void {
    this.byName.clear();
    this.byNode.clear();
  }

  /** A committed journal event: the condition takes the occurrence's new state and raises its event. */
  onEvent(e: AlarmEventRecord): void {
    const rec = this.byName.get(e.alarm);
    if (!rec) return;
    const current = rec.occurrence;
    // An older occurrence's event (acknowledging an earlier coming) does not replace the newest one's state.
    if (current !== undefined && e.id < current) return;
    this.show(
      e.alarm,
      { id: e.id, state: e.state, text: e.text, priority: e.priority, at: e.at, user: e.user, reset: e.event === 'RESET' },
      true,
    );
  }

  private show(alarm: string, o: ShownOccurrence, raise: boolean): void {
    const rec = this.byName.get(alarm);
    if (!rec) return;
    const active = o.state === 'RAISED' || o.state === 'RAISED_ACKNOWLEDGED';
    const acked = !requiresAcknowledgement(rec.machine) || o.state.includes('ACKNOWLEDGED');
    const confirmed = !requiresReset(rec.machine) || o.reset;
    const closed = !active && acked && confirmed;
    const branch = rec.node.currentBranch();
    branch.setActiveState(active);
    branch.setAckedState(acked);
    branch.setConfirmedStateIfExists(confirmed);
    branch.setRetain(!closed);
    branch.setSeverity(severityOf(o.priority));
    branch.setMessage(o.text);
    branch.setTime(new Date(o.at));
    if (o.user) branch.setClientUserId(o.user);
    rec.occurrence = closed ? undefined : o.id;
    if (raise) rec.node.raiseConditionEvent(branch, true);
  }

  private variableOf(tag: string | null): UAVariable | undefined {
    if (tag === null) return undefined;
    return this.space.variableByName(tag);
  }

  private mayRead(ctx: ISessionContext, tag: string | null): boolean {
    const actor = this.actorOf(ctx);
    if (!actor) return false;
    const p = actor.principal.permissions;
    return tag === null ? p.unscoped('alarms:read') : p.allows('alarms:read', tag);
  }

  // Clients call the type's methods (AcknowledgeableConditionType.Acknowledge, i=9111) with the condition as the
  // object, or the instance's; both are bound to the same router.
  private bindTypeMethods(): void {
    const type = this.addressSpace.findObjectType('AcknowledgeableConditionType') as unknown as {
      acknowledge: { bindMethod(f: unknown): void };
      confirm?: { bindMethod(f: unknown): void };
    };
    type.acknowledge.bindMethod(this.router('acknowledge'));
    type.confirm?.bindMethod(this.router('confirm'));
    // These standard methods are callable by every session of ours (the router and node-opcua's ConditionRefresh
    // decide per condition); node-opcua's role rules would refuse them to our users, who have no OPC UA roles.
    const session: AccessHook = (ctx) => this.actorOf(ctx) !== undefined;
    for (const m of [type.acknowledge, type.confirm]) if (m) guardNode(m as unknown as BaseNode, session);
    for (const id of ['i=3875', 'i=12912']) {
      const refresh = this.addressSpace.findNode(id); // ConditionType.ConditionRefresh, ConditionRefresh2
      if (refresh) guardNode(refresh, session);
    }
  }

  private bindInstanceMethods(node: UAAlarmConditionEx): void {
    const n = node as unknown as { acknowledge?: { bindMethod(f: unknown): void }; confirm?: { bindMethod(f: unknown): void } };
    n.acknowledge?.bindMethod(this.router('acknowledge'));
    n.confirm?.bindMethod(this.router('confirm'));
  }

  private router(what: 'acknowledge' | 'confirm') {
    return (inputArguments: Variant[], context: ISessionContext, callback: MethodCallback): void => {
      const done = (statusCode: StatusCode): void => callback(null, { statusCode });
      const rec = context.object ? this.byNode.get(context.object) : undefined;
      if (!rec) return done(StatusCodes.BadNodeIdUnknown);
      const actor = this.actorOf(context);
      if (!actor) return done(StatusCodes.BadUserAccessDenied);
      const eventId = inputArguments[0]?.value as Buffer | null | undefined;
      const branch = rec.node.currentBranch();
      if (rec.occurrence === undefined || !eventId || !Buffer.from(branch.getEventId()).equals(eventId))
        return done(StatusCodes.BadEventIdUnknown);
      const comment = inputArguments[1]?.value as LocalizedText | undefined;
      const id = rec.occurrence;
      const act = what === 'acknowledge' ? this.alarms.acknowledge(actor, id) : this.alarms.reset(actor, id);
      act.then(
        () => {
          if (comment?.text) rec.node.currentBranch().setComment(comment.text);
          done(StatusCodes.Good);
        },
        (err: unknown) => {
          if (err instanceof TagwayError && err.code === 'INVALID_STATE')
            return done(
              what === 'acknowledge' ? StatusCodes.BadConditionBranchAlreadyAcked : StatusCodes.BadConditionBranchAlreadyConfirmed,
            );
          if (err instanceof TagwayError && err.code === 'NOT_FOUND') return done(StatusCodes.BadEventIdUnknown);
          done(statusOfError(err));
        },
      );
    };
  }
}

interface ShownOccurrence {
  id: number;
  state: AlarmOccurrence['state'];
  text: string;
  priority: number;
  at: string;
  user: string | null;
  reset: boolean;
}

function occurrenceState(o: AlarmOccurrence): ShownOccurrence {
  return {
    id: o.id,
    state: o.state,
    text: o.text,
    priority: o.priority,
    at: o.acknowledgedAt ?? o.clearedAt ?? o.raisedAt,
    user: o.acknowledgedBy,
    reset: false,
  };
}

/** Tagway priority 0…16 → OPC UA severity 1…1000. */
export function severityOf(priority: number): number {
  return Math.max(1, Math.min(1000, Math.round((priority / 16) * 1000)));
}
