import {
  DataType,
  DataValue,
  HistoryData,
  HistoryReadResult,
  ReadProcessedDetails,
  ReadRawModifiedDetails,
  StatusCodes,
  Variant,
  VariantArrayType,
  type ISessionContext,
  type UAVariable,
} from 'node-opcua';
import type { AggregateName } from '../../domain/history/aggregates.js';
import type { TagValue } from '../../domain/tag-types.js';
import type { BucketItem, RawItem } from '../../runtime/history-query.js';
import type { Actor } from '../../services/actor.js';
import { CollectingSink, type HistoryService } from '../../services/history-service.js';
import type { TagState } from '../../runtime/tag-engine.js';
import { statusOfError } from './status.js';
import { BUILT_IN_OF, statusOfQuality, toOpcUaValue } from './values.js';

/** OPC UA aggregate functions (Part 13) served, by the numeric id of their AggregateFunction object. */
const AGGREGATE_OF: ReadonlyMap<number, AggregateName> = new Map([
  [2342, 'avg'], // AggregateFunction_Average
  [2346, 'min'], // AggregateFunction_Minimum
  [2347, 'max'], // AggregateFunction_Maximum
  [2352, 'count'], // AggregateFunction_Count
]);

/** Raw values per node and call when the client sets no limit (numValuesPerNode 0): the rest follows by continuation point. */
export const DEFAULT_HISTORY_VALUES = 10_000;
/** OPC UA's "no time": DateTime 0 (1601-01-01) arrives as a Date at or before this. */
const MIN_DATE = Date.UTC(1601, 0, 2);

type ContinuationData = { continuationPoint?: Buffer | null; releaseContinuationPoints?: boolean } | undefined;

/**
 * HistoryRead of one history-logging tag, served by the history service as the session's user (the same
 * `history:read` check, budgets and answers as `GET /tags/{name}/history`): raw values (ReadRawModifiedDetails,
 * continuation points are the REST cursor) and processed ones (ReadProcessedDetails with Average, Minimum,
 * Maximum or Count; buckets of `processingInterval`).
 */
export function bindHistoryRead(
  variable: UAVariable,
  tag: TagState,
  history: HistoryService,
  actorOf: (context: ISessionContext) => Actor | undefined,
): void {
  const read = async (context: ISessionContext, details: unknown, _indexRange: unknown, _encoding: unknown, cont: ContinuationData) => {
    const actor = actorOf(context);
    if (!actor) return new HistoryReadResult({ statusCode: StatusCodes.BadUserAccessDenied });
    try {
      if (details instanceof ReadRawModifiedDetails) return await readRaw(history, actor, tag, details, cont);
      if (details instanceof ReadProcessedDetails) return await readProcessed(history, actor, tag, details);
      return new HistoryReadResult({ statusCode: StatusCodes.BadHistoryOperationUnsupported });
    } catch (err) {
      return new HistoryReadResult({ statusCode: statusOfError(err) });
    }
  };
  (variable as unknown as { historyRead: unknown }).historyRead = (...args: unknown[]) => {
    const callback = typeof args.at(-1) === 'function' ? (args.at(-1) as (e: Error | null, r?: HistoryReadResult) => void) : undefined;
    const p = read(args[0] as ISessionContext, args[1], args[2], args[3], args[4] as ContinuationData);
    if (!callback) return p;
    p.then((r) => callback(null, r), callback);
    return undefined;
  };
}

function range(
  start: Date | null | undefined,
  end: Date | null | undefined,
): { from: number | undefined; to: number | undefined; reverse: boolean } {
  const s = start && start.getTime() > MIN_DATE ? start.getTime() : undefined;
  const e = end && end.getTime() > MIN_DATE ? end.getTime() : undefined;
  if (s !== undefined && e !== undefined && e < s) return { from: e, to: s, reverse: true };
  return { from: s, to: e, reverse: false };
}

async function readRaw(
  history: HistoryService,
  actor: Actor,
  tag: TagState,
  d: ReadRawModifiedDetails,
  cont: ContinuationData,
): Promise<HistoryReadResult> {
  if (d.isReadModified) return new HistoryReadResult({ statusCode: StatusCodes.BadHistoryOperationUnsupported });
  if (cont?.releaseContinuationPoints) return new HistoryReadResult({ statusCode: StatusCodes.Good });
  const { from, to, reverse } = range(d.startTime, d.endTime);
  // Part 11: a start time alone reads forwards with no end; an end time alone reads backwards from it.
  const sink = new CollectingSink();
  await history.query(
    actor,
    tag.def.name,
    {
      from: from ?? 0,
      to,
      order: reverse || (from === undefined && to !== undefined) ? 'desc' : 'asc',
      limit: d.numValuesPerNode > 0 ? Math.min(d.numValuesPerNode, DEFAULT_HISTORY_VALUES) : DEFAULT_HISTORY_VALUES,
      cursor: cont?.continuationPoint?.length ? cont.continuationPoint.toString('utf8') : undefined,
    },
    sink,
  );
  const answer = sink.tags[0];
  if (!answer || 'error' in answer) return new HistoryReadResult({ statusCode: StatusCodes.BadInternalError });
  const dataValues = (answer.items as RawItem[]).map((i) => rawValue(tag, i));
  const next = answer.tail?.next;
  return new HistoryReadResult({
    statusCode: StatusCodes.Good,
    ...(next ? { continuationPoint: Buffer.from(next, 'utf8') } : {}),
    historyData: new HistoryData({ dataValues }),
  });
}

async function readProcessed(history: HistoryService, actor: Actor, tag: TagState, d: ReadProcessedDetails): Promise<HistoryReadResult> {
  const aggregateId = d.aggregateType?.[0];
  const aggregate = aggregateId && aggregateId.namespace === 0 ? AGGREGATE_OF.get(aggregateId.value as number) : undefined;
  if (!aggregate) return new HistoryReadResult({ statusCode: StatusCodes.BadAggregateNotSupported });
  const { from, to } = range(d.startTime, d.endTime);
  if (from === undefined || to === undefined) return new HistoryReadResult({ statusCode: StatusCodes.BadInvalidArgument });
  // processingInterval 0: one interval over the whole range (Part 11, 6.4.4.2).
  const intervalMs = d.processingInterval > 0 ? Math.round(d.processingInterval) : Math.max(1, to - from);
  const sink = new CollectingSink();
  await history.query(actor, tag.def.name, { from, to, interval: `${intervalMs}ms`, aggregate }, sink);
  const answer = sink.tags[0];
  if (!answer || 'error' in answer) return new HistoryReadResult({ statusCode: StatusCodes.BadInternalError });
  const dataValues = (answer.items as BucketItem[]).map((b) => bucketValue(tag, aggregate, b));
  return new HistoryReadResult({ statusCode: StatusCodes.Good, historyData: new HistoryData({ dataValues }) });
}

function rawValue(tag: TagState, i: RawItem): DataValue {
  const at = new Date(i.timestamp);
  return new DataValue({
    value: variantOrNull(tag, i.value),
    statusCode: statusOfQuality(i.qualityCode),
    sourceTimestamp: at,
    serverTimestamp: at,
  });
}

function bucketValue(tag: TagState, aggregate: AggregateName, b: BucketItem): DataValue {
  const at = new Date(b.timestamp);
  let value: Variant;
  if (b.value === null) value = new Variant({ dataType: DataType.Null });
  else if (aggregate === 'count') value = new Variant({ dataType: DataType.Int32, value: Number(b.value) });
  else if (aggregate === 'avg') value = new Variant({ dataType: DataType.Double, value: Number(b.value) });
  else value = variantOrNull(tag, b.value);
  return new DataValue({
    value,
    statusCode: b.value === null ? StatusCodes.BadNoData : StatusCodes.Good,
    sourceTimestamp: at,
    serverTimestamp: at,
  });
}

function variantOrNull(tag: TagState, v: TagValue | null): Variant {
  if (v === null) return new Variant({ dataType: DataType.Null });
  return new Variant({
    dataType: BUILT_IN_OF[tag.def.type] as DataType,
    arrayType: VariantArrayType.Scalar,
    value: toOpcUaValue(tag.def.type, v),
  });
}
