import {
  AttributeIds,
  DataType,
  type DataValue,
  makeAccessLevelFlag,
  makeEUInformation,
  PermissionType,
  type StatusCode,
  StatusCodes,
  Variant,
  VariantArrayType,
  type AddressSpace,
  type BaseNode,
  type ISessionContext,
  type Namespace,
  type UAObject,
  type UAVariable,
} from 'node-opcua';
import type { Logger } from 'pino';
import { compileGlob } from '../../domain/glob.js';
import { isNumericType } from '../../domain/tag-types.js';
import { BUILT_IN_NAMES, variantToWire } from '../../drivers/opcua/values.js';
import type { Actor } from '../../services/actor.js';
import type { HistoryService } from '../../services/history-service.js';
import type { TagService } from '../../services/tag-service.js';
import type { TagChange, TagState } from '../../runtime/tag-engine.js';
import { guardNode, guardTree } from './access.js';
import { statusOfError } from './status.js';
import { BUILT_IN_OF, statusOfQuality, toOpcUaValue } from './values.js';

/** Folder NodeIds start with `@`, which no tag name may contain: a folder can never take a tag's NodeId. */
export const ROOT_NODE_ID = 's=@Tagway';
const folderNodeId = (path: string): string => `s=@${path}`;

export interface AddressSpaceDeps {
  tags: TagService;
  history: HistoryService;
  actorOf(context: ISessionContext): Actor | undefined;
  logger: Logger;
}

/** Reading a history-logging tag's history is the history module's (history.ts); it is bound per variable. */
export type HistoryReadBinder = (variable: UAVariable, tag: TagState) => void;

/**
 * `Objects/Tagway/<segments>` with one variable per exposed tag (`ns=1;s=<tag name>`), its value kept current from
 * the tag engine's changes (no sampling: monitored items with sampling interval 0 hear each change as it happens).
 * Every browse, read, write and history read of these nodes is decided by the services for the session's user.
 */
export class TagAddressSpace {
  readonly root: UAObject;
  private readonly variables = new Map<number, UAVariable>();
  private readonly variablesByNode = new WeakSet<object>();
  /** Per principal (a new one after each rights change) and folder: whether any tag below may be read. */
  private readonly folderVisibility = new WeakMap<object, Map<string, boolean>>();

  constructor(
    addressSpace: AddressSpace,
    private readonly ns: Namespace,
    private readonly d: AddressSpaceDeps,
  ) {
    this.root = ns.addObject({
      organizedBy: addressSpace.rootFolder.objects,
      browseName: 'Tagway',
      nodeId: ROOT_NODE_ID,
      typeDefinition: 'FolderType',
      description: 'The tags of this Tagway server',
      eventNotifier: 1, // SubscribeToEvents: alarms are raised here
    });
    guardNode(this.root, (ctx) => this.d.actorOf(ctx) !== undefined);
  }

  /** Adds the tags matching the glob, in project order. */
  build(tags: readonly TagState[], glob: string, bindHistory: HistoryReadBinder): number {
    const match = compileGlob(glob);
    const folders = new Map<string, { node: UAObject; tags: string[] }>();
    let count = 0;
    for (const tag of tags) {
      const name = tag.def.name;
      if (!match(name)) continue;
      let parent: UAObject = this.root;
      const segments = splitName(name);
      let offset = 0;
      for (let i = 0; i < segments.length - 1; i++) {
        offset += segments[i]!.length;
        const path = name.slice(0, offset);
        offset += 1; // the separator
        let f = folders.get(path);
        if (!f) {
          const node = this.ns.addObject({
            organizedBy: parent,
            typeDefinition: 'FolderType',
            browseName: segments[i]!,
            nodeId: folderNodeId(path),
          });
          f = { node, tags: [] };
          folders.set(path, f);
          guardNode(node, (ctx, p) => this.folderAllowed(ctx, p, path, f!.tags));
        }
        f.tags.push(name);
        parent = f.node;
      }
      try {
        const variable = this.addVariable(parent, segments.at(-1)!, tag);
        this.variables.set(tag.index, variable);
        this.variablesByNode.add(variable);
        if (tag.def.history) bindHistory(variable, tag);
        count++;
      } catch (err) {
        this.d.logger.warn({ tag: name, err: (err as Error).message }, 'OPC UA server: tag not exposed');
      }
    }
    return count;
  }

  /** The variable of a tag (undefined when the tag is not exposed). */
  variableOf(tag: TagState): UAVariable | undefined {
    return this.variables.get(tag.index);
  }

  variableByName(name: string): UAVariable | undefined {
    const node = this.ns.findNode(`s=${name}`);
    return node && this.variablesByNode.has(node) ? (node as UAVariable) : undefined;
  }

  /** The tag engine's change listener: one DataValue per change of an exposed tag, nothing for the others. */
  readonly onChange = (c: TagChange): void => {
    const v = this.variables.get(c.tag.index);
    if (v) v.setValueFromSource(variantOf(c.tag), statusOfQuality(c.tag.quality), new Date(c.tag.timestamp));
  };

  private addVariable(parent: UAObject, browseName: string, tag: TagState): UAVariable {
    const def = tag.def;
    const writable = def.access === 'readwrite';
    const access = makeAccessLevelFlag(
      ['CurrentRead', writable ? 'CurrentWrite' : '', def.history ? 'HistoryRead' : ''].filter(Boolean).join(' | '),
    );
    const common = {
      organizedBy: parent,
      browseName,
      nodeId: `s=${def.name}`,
      description: def.description,
      dataType: BUILT_IN_NAMES[BUILT_IN_OF[def.type]]!,
      accessLevel: access,
      userAccessLevel: access,
      historizing: def.history !== undefined,
      // 0: a monitored item that asks for sampling interval 0 is told of each change (no timer); see docs.
      minimumSamplingInterval: 0,
    };
    let variable: UAVariable;
    if (def.unit && isNumericType(def.type)) {
      const range = typeof def.min === 'number' && typeof def.max === 'number' ? { low: def.min, high: def.max } : undefined;
      variable = this.ns.addAnalogDataItem({
        ...common,
        engineeringUnits: makeEUInformation(def.unit, def.unit, def.unit),
        ...(range ? { engineeringUnitsRange: range } : {}),
      }) as unknown as UAVariable;
    } else {
      variable = this.ns.addVariable({ ...common });
    }
    variable.setValueFromSource(variantOf(tag), statusOfQuality(tag.quality), new Date(tag.timestamp));
    const name = def.name;
    guardTree(variable, (ctx, p) => this.tagAllowed(ctx, p, name));
    overrideWrite(variable, tag, this.d);
    return variable;
  }

  private tagAllowed(ctx: ISessionContext, p: PermissionType, name: string): boolean {
    const actor = this.d.actorOf(ctx);
    if (!actor) return false;
    switch (p) {
      case PermissionType.Write:
        return this.d.tags.mayWrite(actor, name);
      case PermissionType.ReadHistory:
        return this.d.history.mayRead(actor, name);
      case PermissionType.Browse:
      case PermissionType.Read:
      case PermissionType.ReadRolePermissions:
        return mayRead(this.d.tags, actor, name);
      default:
        return false;
    }
  }

  private folderAllowed(ctx: ISessionContext, p: PermissionType, path: string, names: readonly string[]): boolean {
    const actor = this.d.actorOf(ctx);
    if (!actor) return false;
    if (p !== PermissionType.Browse && p !== PermissionType.Read && p !== PermissionType.ReadRolePermissions) return false;
    let cache = this.folderVisibility.get(actor.principal);
    if (!cache) this.folderVisibility.set(actor.principal, (cache = new Map()));
    let visible = cache.get(path);
    if (visible === undefined) {
      visible = names.some((n) => mayRead(this.d.tags, actor, n));
      cache.set(path, visible);
    }
    return visible;
  }
}

/** Tag names split into browse names on `.` and `/`; empty segments (`a..b`) keep their place. */
export function splitName(name: string): string[] {
  return name.split(/[./]/);
}

function mayRead(tags: TagService, actor: Actor, name: string): boolean {
  try {
    tags.read(actor, name);
    return true;
  } catch {
    return false;
  }
}

function variantOf(tag: TagState): Variant {
  return new Variant({
    dataType: BUILT_IN_OF[tag.def.type] as DataType,
    arrayType: VariantArrayType.Scalar,
    value: toOpcUaValue(tag.def.type, tag.value),
  });
}

type WriteCallback = (err: Error | null, status?: StatusCode) => void;

/**
 * A client write goes to the tag service as the session's user: the same permission check, coercion, device
 * write and audit row as a REST write. The node's value changes only when the tag engine publishes the accepted
 * value; a refused write changes nothing and answers BadUserAccessDenied (no right), BadNotWritable (read-only
 * tag), BadTypeMismatch / BadOutOfRange (value) or the device's failure.
 */
function overrideWrite(variable: UAVariable, tag: TagState, d: AddressSpaceDeps): void {
  const name = tag.def.name;
  const write = (context: ISessionContext, dataValue: DataValue, ...args: unknown[]): Promise<StatusCode> | undefined => {
    const callback = (typeof args.at(-1) === 'function' ? args.at(-1) : undefined) as WriteCallback | undefined;
    const indexRange = args.length === 2 ? (args[0] as { isEmpty?(): boolean } | null) : null;
    const run = async (): Promise<StatusCode> => {
      const actor = d.actorOf(context);
      if (!actor) return StatusCodes.BadUserAccessDenied;
      if (indexRange && indexRange.isEmpty && !indexRange.isEmpty()) return StatusCodes.BadIndexRangeNoData;
      const variant = dataValue.value;
      if (!variant || variant.dataType === DataType.Null) return StatusCodes.BadTypeMismatch;
      try {
        await d.tags.write(actor, name, variantToWire(variant.dataType, variant.value));
        return StatusCodes.Good;
      } catch (err) {
        return statusOfError(err);
      }
    };
    const p = run();
    if (!callback) return p;
    p.then(
      (s) => callback(null, s),
      () => callback(null, StatusCodes.BadInternalError),
    );
    return undefined;
  };
  const v = variable as unknown as {
    writeValue: typeof write;
    writeAttribute(context: ISessionContext, wv: { attributeId: number; value: DataValue; indexRange?: unknown }, cb: WriteCallback): void;
  };
  v.writeValue = write;
  // node-opcua checks the Write permission before it calls writeValue, and would answer BadUserAccessDenied
  // itself, unaudited: the Value attribute goes to the service directly, which checks, audits and answers.
  const writeAttribute = v.writeAttribute.bind(variable);
  v.writeAttribute = (context, wv, cb) => {
    if (wv.attributeId === AttributeIds.Value) write(context, wv.value, wv.indexRange ?? null, cb);
    else writeAttribute(context, wv, cb);
  };
}

export type { BaseNode };
