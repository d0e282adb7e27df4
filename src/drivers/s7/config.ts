import type { TagType } from '../../domain/tag-types.js';
import type { TagDefinition } from '../../domain/tag-definition.js';
import { GENERIC_CONNECTION_KEYS, OptionReader, type OptionProblem } from '../shared/options.js';
import { validateScaling, type Scaling } from '../shared/scaling.js';
import { NATURAL_TAG_TYPE, parseS7Address, type S7Address } from './address.js';

/** Connection options of `driver: s7`, defaults filled in. */
export interface S7ConnectionOptions {
  host: string;
  port: number;
  rack: number;
  slot: number;
  localTSAP: number | undefined;
  remoteTSAP: number | undefined;
  timeoutMs: number;
  pollMs: number;
  /** Largest gap in bytes nodes7 reads through to merge two items into one request. */
  maxGap: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export function readS7ConnectionOptions(src: Record<string, unknown>, problems: OptionProblem[] = []): S7ConnectionOptions {
  const r = new OptionReader(src, { problems, known: GENERIC_CONNECTION_KEYS });
  const o: S7ConnectionOptions = {
    host: r.string('host', { required: true }) ?? '',
    port: r.int('port', 102, 1, 65535),
    rack: r.int('rack', 0, 0, 7),
    slot: r.int('slot', 1, 0, 31),
    localTSAP: r.optionalInt('localTSAP', 0, 0xffff),
    remoteTSAP: r.optionalInt('remoteTSAP', 0, 0xffff),
    timeoutMs: r.int('timeoutMs', 1500, 10, 60_000),
    pollMs: r.int('pollMs', 1000, 10, 3_600_000),
    maxGap: r.int('maxGap', 5, 0, 200),
    reconnectMinMs: r.int('reconnectMinMs', 500, 1, 600_000),
    reconnectMaxMs: r.int('reconnectMaxMs', 30_000, 1, 3_600_000),
  };
  if ((o.localTSAP === undefined) !== (o.remoteTSAP === undefined))
    r.problem('remoteTSAP', 'localTSAP and remoteTSAP go together (they replace rack and slot)');
  if (o.reconnectMaxMs < o.reconnectMinMs) r.problem('reconnectMaxMs', 'must not be below reconnectMinMs');
  r.rejectUnknown();
  return o;
}

export interface S7Binding {
  address: S7Address;
  /** The tag type the device value has before conversion/scaling (Int8 for a BYTE read as signed). */
  rawType: TagType;
  scaling: Scaling | undefined;
  pollMs: number;
}

const NUMERIC = new Set(['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float32', 'Float64']);

type TagLike = Pick<TagDefinition, 'address' | 'options' | 'scaling'> & { type: TagType | string };

/** A tag's binding or problems. Tag options: `pollMs`. */
export function readS7Binding(
  tag: TagLike,
  conn: Pick<S7ConnectionOptions, 'pollMs'>,
  problems: OptionProblem[] = [],
): S7Binding | undefined {
  const start = problems.length;
  if (!tag.address) {
    problems.push(['address', 'an s7 tag needs an address such as DB1,REAL4']);
    return undefined;
  }
  const address = parseS7Address(tag.address, tag.type);
  if (typeof address === 'string') {
    problems.push(['address', address]);
    return undefined;
  }
  const r = new OptionReader(tag.options ?? {}, { problems, prefix: 'options.' });
  const pollMs = r.int('pollMs', conn.pollMs, 10, 3_600_000);
  r.rejectUnknown();
  const natural = NATURAL_TAG_TYPE[address.type];
  let rawType = natural as TagType;
  if (natural === 'Bool' || natural === 'String') {
    if (tag.type !== natural)
      problems.push([
        'type',
        `${address.canonical} is ${address.type === 'X' ? 'a bit' : address.type}: the tag type must be ${natural}, not ${tag.type}`,
      ]);
    if (tag.scaling) problems.push(['scaling', 'scaling applies to numeric tags only']);
  } else if (!NUMERIC.has(tag.type)) {
    problems.push(['type', `${address.canonical} is a number (${address.type}); the tag type must be numeric, not ${tag.type}`]);
  } else if (address.type === 'BYTE' && tag.type === 'Int8') {
    rawType = 'Int8'; // S7 has no signed byte type in nodes7; the driver converts
  }
  const sp = validateScaling(tag.scaling);
  if (sp) problems.push(['scaling', sp]);
  if (problems.length > start) return undefined;
  return { address, rawType, scaling: tag.scaling, pollMs };
}
