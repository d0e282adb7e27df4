import { coerceValue } from '../../domain/coerce.js';
import { TagwayError } from '../../domain/problems.js';
import type { TagType, TagValue } from '../../domain/tag-types.js';

/**
 * Conversion between OPC UA built-in types (Part 6, 5.1.2) and Tagway's wire values. Numbers are written out
 * (fixed by the standard) so this loads without node-opcua. node-opcua represents Int64/UInt64 as
 * `[high, low]` pairs of UInt32 and DateTime as `Date`.
 */
export const BuiltIn = {
  Null: 0,
  Boolean: 1,
  SByte: 2,
  Byte: 3,
  Int16: 4,
  UInt16: 5,
  Int32: 6,
  UInt32: 7,
  Int64: 8,
  UInt64: 9,
  Float: 10,
  Double: 11,
  String: 12,
  DateTime: 13,
  Guid: 14,
  ByteString: 15,
  XmlElement: 16,
  NodeId: 17,
  ExpandedNodeId: 18,
  StatusCode: 19,
  QualifiedName: 20,
  LocalizedText: 21,
  ExtensionObject: 22,
  DataValue: 23,
  Variant: 24,
  DiagnosticInfo: 25,
} as const;

export const BUILT_IN_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(BuiltIn).map(([k, v]) => [v, k]));

/** The tag type whose range and form match a built-in type exactly (for range checks on writes). */
const TAG_TYPE_OF: Readonly<Record<number, TagType>> = {
  [BuiltIn.Boolean]: 'Bool',
  [BuiltIn.SByte]: 'Int8',
  [BuiltIn.Byte]: 'UInt8',
  [BuiltIn.Int16]: 'Int16',
  [BuiltIn.UInt16]: 'UInt16',
  [BuiltIn.Int32]: 'Int32',
  [BuiltIn.UInt32]: 'UInt32',
  [BuiltIn.Int64]: 'Int64',
  [BuiltIn.UInt64]: 'UInt64',
  [BuiltIn.Float]: 'Float32',
  [BuiltIn.Double]: 'Float64',
  [BuiltIn.String]: 'String',
  [BuiltIn.DateTime]: 'DateTime',
};

export function tagTypeForBuiltIn(dataType: number): TagType | undefined {
  return TAG_TYPE_OF[dataType];
}

function pairToBigInt(v: unknown): bigint | undefined {
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
    return (BigInt(v[0] >>> 0) << 32n) | BigInt(v[1] >>> 0);
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  return undefined;
}

/**
 * A variant's value in wire form (not yet checked against the tag type; `coerceValue` does that strictly).
 * Anything that has no wire form (arrays, structures, byte strings) comes back unchanged and fails coercion.
 */
export function variantToWire(dataType: number, value: unknown): unknown {
  switch (dataType) {
    case BuiltIn.Int64: {
      const b = pairToBigInt(value);
      return b === undefined ? value : BigInt.asIntN(64, b).toString();
    }
    case BuiltIn.UInt64: {
      const b = pairToBigInt(value);
      return b === undefined ? value : BigInt.asUintN(64, b).toString();
    }
    case BuiltIn.DateTime:
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : value;
    case BuiltIn.LocalizedText:
      return value !== null && typeof value === 'object' && 'text' in value ? ((value as { text: unknown }).text ?? '') : value;
    case BuiltIn.XmlElement:
      return value;
    default:
      return value;
  }
}

export interface VariantValue {
  dataType: number;
  value: unknown;
}

/**
 * A Tagway value (already valid for its tag's type) as a value of the node's built-in type. Conversions are
 * lossless or refused: an integer tag may be written to any wider integer or float node, a Float64 value to a
 * Float node only when within the Float range, and a value never becomes a string or a boolean.
 * Throws TagwayError TYPE_MISMATCH / OUT_OF_RANGE.
 */
export function wireToVariant(dataType: number, value: TagValue, tagName: string): VariantValue {
  const nodeType = TAG_TYPE_OF[dataType];
  if (nodeType === undefined) {
    throw new TagwayError(
      'TYPE_MISMATCH',
      `Tag '${tagName}': the node's data type ${BUILT_IN_NAMES[dataType] ?? dataType} cannot be written by Tagway`,
    );
  }
  let candidate: unknown = value;
  // 64-bit tag values travel as decimal strings; a 32-bit or float node takes them when exactly representable.
  if (
    typeof value === 'string' &&
    nodeType !== 'String' &&
    nodeType !== 'DateTime' &&
    nodeType !== 'Int64' &&
    nodeType !== 'UInt64' &&
    /^-?(0|[1-9][0-9]*)$/.test(value)
  ) {
    const n = Number(value);
    if (!Number.isSafeInteger(n))
      throw new TagwayError('OUT_OF_RANGE', `Tag '${tagName}': ${value} does not fit the node's data type ${BUILT_IN_NAMES[dataType]}`);
    candidate = n;
  }
  const r = coerceValue(nodeType, candidate);
  if (!r.ok) throw new TagwayError(r.code, `Tag '${tagName}': the node's data type is ${BUILT_IN_NAMES[dataType]}; ${r.message}`);
  switch (dataType) {
    case BuiltIn.Int64:
    case BuiltIn.UInt64: {
      const u = BigInt.asUintN(64, BigInt(r.value as string));
      return { dataType, value: [Number(u >> 32n), Number(u & 0xffffffffn)] };
    }
    case BuiltIn.DateTime:
      return { dataType, value: new Date(r.value as string) };
    default:
      return { dataType, value: r.value };
  }
}
