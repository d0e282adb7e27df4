import {
  AttributeIds,
  MonitoredItem,
  MonitoredItemCreateResult,
  PermissionType,
  SessionContext,
  StatusCodes,
  Subscription,
  type BaseNode,
  type ISessionContext,
} from 'node-opcua';

/**
 * Decides one OPC UA permission (Browse, Read, Write, ReadHistory…) for the session of `context` on one of our
 * nodes. Our nodes answer from Tagway's permissions through the services, not from OPC UA role permissions.
 */
export type AccessHook = (context: ISessionContext, permission: PermissionType) => boolean;

const hooks = new WeakMap<BaseNode, AccessHook>();
let installed = false;

/** Puts a node under a hook; nodes without one keep node-opcua's own rules (the standard nodes, other servers). */
export function guardNode(node: BaseNode, hook: AccessHook): void {
  installOnce();
  hooks.set(node, hook);
}

/**
 * Puts a node and everything below it (properties such as EngineeringUnits, a condition's state variables) under
 * a hook; children are only ever browsed and read through it, never written.
 */
export function guardTree(node: BaseNode, hook: AccessHook): void {
  guardNode(node, hook);
  const readOnly: AccessHook = (ctx, p) =>
    (p === PermissionType.Browse ||
      p === PermissionType.Read ||
      p === PermissionType.ReadRolePermissions ||
      p === PermissionType.Call ||
      p === PermissionType.ReceiveEvents) &&
    hook(ctx, p === PermissionType.Call ? PermissionType.Read : p);
  const seen = new Set<BaseNode>([node]);
  const walk = (n: BaseNode): void => {
    const children = (n as unknown as { findReferencesExAsObject(ref: string, dir: number): BaseNode[] }).findReferencesExAsObject(
      'HasChild',
      0,
    );
    for (const c of children) {
      if (seen.has(c) || hooks.has(c)) continue;
      seen.add(c);
      hooks.set(c, readOnly);
      walk(c);
    }
  };
  walk(node);
}

/**
 * node-opcua asks `SessionContext#checkPermission` for every browse, read, write and history read (and for the
 * UserAccessLevel it reports), so one wrapper there puts all of them under our rules. It does not ask when a
 * monitored item is created (its preCreateMonitoredItem says "check that item can be read by current user
 * session" and does not), and a monitored item then hears every change of its node: without the second wrapper,
 * a user could watch a tag they may not read by subscribing to its NodeId. Events are not filtered by node-opcua
 * either (the third wrapper). The wrappers change nothing for a node without a hook.
 */
function installOnce(): void {
  if (installed) return;
  installed = true;
  const proto = SessionContext.prototype as unknown as { checkPermission(node: BaseNode, p: PermissionType): boolean };
  const checkPermission = proto.checkPermission;
  proto.checkPermission = function (this: SessionContext, node: BaseNode, permission: PermissionType): boolean {
    const hook = hooks.get(node);
    // An in-process caller (no session: the server sampling its own nodes) is trusted, as node-opcua does.
    if (hook && this.session) return hook(this, permission);
    return checkPermission.call(this, node, permission);
  };
  const sub = Subscription.prototype as unknown as {
    preCreateMonitoredItem(addressSpace: unknown, timestamps: unknown, request: MonitoredItemRequest): unknown;
    $session?: { sessionContext?: ISessionContext };
  };
  const preCreate = sub.preCreateMonitoredItem;
  sub.preCreateMonitoredItem = function (this: typeof sub, addressSpace: unknown, timestamps: unknown, request: MonitoredItemRequest) {
    const item = request.itemToMonitor;
    const node = (addressSpace as { findNode(id: unknown): BaseNode | null }).findNode(item.nodeId);
    const hook = node ? hooks.get(node) : undefined;
    const context = this.$session?.sessionContext;
    if (hook && context) {
      const permission = item.attributeId === AttributeIds.EventNotifier ? PermissionType.ReceiveEvents : PermissionType.Read;
      if (!hook(context, permission))
        return {
          createResult: new MonitoredItemCreateResult({ statusCode: StatusCodes.BadUserAccessDenied }),
          monitoredItemCreateRequest: request,
        };
    }
    return preCreate.call(this, addressSpace, timestamps, request);
  };
  // Events (alarms) reach every event monitored item of the notifier; each is let through only to sessions that
  // may receive the events of its source node (the alarm's condition: `alarms:read` on its tag).
  const mi = MonitoredItem.prototype as unknown as {
    _on_opcua_event(eventData: { getEventDataSource?(): BaseNode }): void;
    getSessionContext(): ISessionContext | null;
  };
  const onEvent = mi._on_opcua_event;
  mi._on_opcua_event = function (this: typeof mi, eventData: { getEventDataSource?(): BaseNode }) {
    const source = eventData.getEventDataSource?.();
    const hook = source ? hooks.get(source) : undefined;
    if (hook) {
      const context = this.getSessionContext();
      if (!context || !hook(context, PermissionType.ReceiveEvents)) return;
    }
    onEvent.call(this, eventData);
  };
}

interface MonitoredItemRequest {
  itemToMonitor: { nodeId: unknown; attributeId: number };
}
