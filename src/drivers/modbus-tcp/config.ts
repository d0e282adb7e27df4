import type { TagType } from '../../domain/tag-types.js';
import type { TagDefinition } from '../../domain/tag-definition.js';
import { GENERIC_CONNECTION_KEYS, OptionReader, type OptionProblem } from '../shared/options.js';
import { validateScaling, type Scaling } from '../shared/scaling.js';
import { isRegisterArea, parseModbusAddress, type ModbusAddress } from './address.js';
import { isRegisterType, registerWidth, stringRegisters, type Order, type RegisterType } from './codec.js';
import { PROTOCOL_LIMITS, type PlanLimits } from './plan.js';

/** Connection options of `driver: modbus-tcp`, defaults filled in. */
export interface ModbusConnectionOptions {
  host: string;
  port: number;
  unitId: number;
  timeoutMs: number;
  pollMs: number;
  byteOrder: Order;
  wordOrder: Order;
  limits: PlanLimits;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  writeMultiple: boolean;
}

export const ORDERS = ['big', 'little'] as const;

export function readConnectionOptions(src: Record<string, unknown>, problems: OptionProblem[] = []): ModbusConnectionOptions {
  const r = new OptionReader(src, { problems, known: GENERIC_CONNECTION_KEYS });
  const o: ModbusConnectionOptions = {
    host: r.string('host', { required: true }) ?? '',
    port: r.int('port', 502, 1, 65535),
    unitId: r.int('unitId', 1, 0, 255),
    timeoutMs: r.int('timeoutMs', 1000, 10, 60_000),
    pollMs: r.int('pollMs', 1000, 10, 3_600_000),
    byteOrder: r.oneOf('byteOrder', ORDERS, 'big'),
    wordOrder: r.oneOf('wordOrder', ORDERS, 'big'),
    limits: {
      maxGap: r.int('maxGap', 10, 0, PROTOCOL_LIMITS.maxRegisters),
      maxBitGap: r.int('maxBitGap', 100, 0, PROTOCOL_LIMITS.maxBits),
      maxRegisters: r.int('maxRegistersPerRequest', PROTOCOL_LIMITS.maxRegisters, 1, PROTOCOL_LIMITS.maxRegisters),
      maxBits: r.int('maxBitsPerRequest', PROTOCOL_LIMITS.maxBits, 1, PROTOCOL_LIMITS.maxBits),
    },
    reconnectMinMs: r.int('reconnectMinMs', 500, 1, 600_000),
    reconnectMaxMs: r.int('reconnectMaxMs', 30_000, 1, 3_600_000),
    writeMultiple: r.boolean('writeMultiple', false),
  };
  if (o.reconnectMaxMs < o.reconnectMinMs) r.problem('reconnectMaxMs', 'must not be below reconnectMinMs');
  r.rejectUnknown();
  return o;
}

/** How one tag maps onto the device, everything resolved. */
export interface ModbusBinding {
  address: ModbusAddress;
  /** Registers (or bits) the tag covers. */
  count: number;
  /** How the value is encoded: a register type, String, or Bool (coil, input, register bit or register ≠ 0). */
  encoding: RegisterType | 'String' | 'Bool';
  /** String field length in bytes (characters). */
  lengthBytes: number;
  byteOrder: Order;
  wordOrder: Order;
  scaling: Scaling | undefined;
  unitId: number;
  pollMs: number;
  writeMultiple: boolean;
}

type TagLike = Pick<TagDefinition, 'address' | 'options' | 'scaling' | 'access'> & { type: TagType | string };

const NUMERIC_TAG_TYPES = new Set(['Int8', 'UInt8', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Int64', 'UInt64', 'Float32', 'Float64']);

/**
 * A tag's binding, or problems. Tag options: `pollMs`, `byteOrder`, `wordOrder`, `length` (String, bytes),
 * `rawType` (register encoding of a numeric tag when it differs from the tag type, e.g. an Int16 register
 * scaled to a Float32 tag), `unitId` (a different unit behind a gateway), `writeMultiple`.
 */
export function readBinding(
  tag: TagLike,
  conn: Pick<ModbusConnectionOptions, 'byteOrder' | 'wordOrder' | 'unitId' | 'pollMs' | 'writeMultiple'>,
  problems: OptionProblem[] = [],
): ModbusBinding | undefined {
  const start = problems.length;
  if (!tag.address) {
    problems.push(['address', 'a modbus-tcp tag needs an address such as holding:0']);
    return undefined;
  }
  const address = parseModbusAddress(tag.address);
  if (typeof address === 'string') {
    problems.push(['address', address]);
    return undefined;
  }
  const r = new OptionReader(tag.options ?? {}, { problems, prefix: 'options.' });
  const byteOrder = r.oneOf('byteOrder', ORDERS, conn.byteOrder);
  const wordOrder = r.oneOf('wordOrder', ORDERS, conn.wordOrder);
  const pollMs = r.int('pollMs', conn.pollMs, 10, 3_600_000);
  const unitId = r.int('unitId', conn.unitId, 0, 255);
  const writeMultiple = r.boolean('writeMultiple', conn.writeMultiple);
  const rawTypeText = r.string('rawType');
  const lengthBytes = r.int('length', 0, 1, PROTOCOL_LIMITS.maxRegisters * 2);
  r.rejectUnknown();
  const scalingProblem = validateScaling(tag.scaling);
  if (scalingProblem) problems.push(['scaling', scalingProblem]);

  let encoding: ModbusBinding['encoding'];
  let count: number;
  const registers = isRegisterArea(address.area);
  if (tag.type === 'Bool') {
    encoding = 'Bool';
    count = 1;
    if (rawTypeText !== undefined) problems.push(['options.rawType', 'does not apply to Bool tags']);
  } else if (!registers || address.bit !== undefined) {
    problems.push(['type', `${tag.address} holds a single bit: the tag type must be Bool, not ${tag.type}`]);
    return undefined;
  } else if (tag.type === 'String') {
    encoding = 'String';
    if (!r.has('length')) problems.push(['options.length', 'a String tag needs options.length, the field size in bytes (2 per register)']);
    count = stringRegisters(Math.max(1, lengthBytes));
  } else if (NUMERIC_TAG_TYPES.has(tag.type)) {
    const raw = rawTypeText ?? tag.type;
    if (!isRegisterType(raw)) {
      problems.push([
        rawTypeText ? 'options.rawType' : 'type',
        `${raw} cannot be held in registers; use one of Int16, UInt16, Int32, UInt32, Int64, UInt64, Float32, Float64${rawTypeText ? '' : ' as options.rawType'}`,
      ]);
      return undefined;
    }
    encoding = raw;
    count = registerWidth(raw);
  } else {
    problems.push(['type', `modbus-tcp does not support ${tag.type} tags`]);
    return undefined;
  }
  if (tag.scaling && (encoding === 'Bool' || encoding === 'String')) problems.push(['scaling', `scaling applies to numeric tags only`]);
  if (tag.access === 'readwrite' && (address.area === 'discrete' || address.area === 'input')) {
    problems.push([
      'access',
      `${address.area === 'input' ? 'input registers' : 'discrete inputs'} are read-only in Modbus; use access: read`,
    ]);
  }
  if (address.offset + count > 65536) problems.push(['address', `the value runs past the last register 65535`]);
  if (problems.length > start) return undefined;
  return { address, count, encoding, lengthBytes, byteOrder, wordOrder, scaling: tag.scaling, unitId, pollMs, writeMultiple };
}
