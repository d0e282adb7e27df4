/**
 * Unified's `browse` filters over Tagway's named objects. Names are `<system>::<object>[:<sub-element>]`; a tag's
 * dots are its hierarchy levels, as in Tagway's own globs. In a name filter `*` matches within one level (no `.`
 * or `:`), `**` across levels (no `:`), `?` one character of a level; a filter without `::` applies to the name
 * without the system prefix; the filter `*` alone matches everything. Entries of one list are alternatives (OR),
 * the lists combine with AND.
 */

export type ObjectType = 'SIMPLETAG' | 'LOGGINGTAG' | 'ALARM' | 'ALARMCLASS';

export interface BrowseObject {
  /** Prefixed name, `<system>::<local>`. */
  name: string;
  /** Name without the system prefix. */
  local: string;
  displayName: string;
  objectType: ObjectType;
  dataType: string | null;
}

/** What each filter value of ObjectTypesEnum selects (TAG covers every tag kind; Tagway's tags are simple tags). */
const SELECTS: Record<string, readonly ObjectType[]> = {
  TAG: ['SIMPLETAG'],
  SIMPLETAG: ['SIMPLETAG'],
  STRUCTURETAG: [],
  TAGTYPE: [],
  STRUCTURETAGTYPE: [],
  SIMPLETAGTYPE: [],
  ALARM: ['ALARM'],
  ALARMCLASS: ['ALARMCLASS'],
  LOGGINGTAG: ['LOGGINGTAG'],
};

/** Unified's data type names for Tagway's tag types. */
export const DATA_TYPES: Record<string, string> = {
  Bool: 'Bool',
  Int8: 'SInt',
  UInt8: 'USInt',
  Int16: 'Int',
  UInt16: 'UInt',
  Int32: 'DInt',
  UInt32: 'UDInt',
  Int64: 'LInt',
  UInt64: 'ULInt',
  Float32: 'Real',
  Float64: 'LReal',
  String: 'WString',
  DateTime: 'DateTime',
};

export function nameFilter(pattern: string): (o: BrowseObject) => boolean {
  if (pattern === '*') return () => true;
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      src += '[^:]*';
      i++;
    } else if (c === '*') src += '[^.:]*';
    else if (c === '?') src += '[^.:]';
    else src += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${src}$`, 's');
  return pattern.includes('::') ? (o) => re.test(o.name) : (o) => re.test(o.local);
}

export interface BrowseFilters {
  nameFilters: readonly string[];
  objectTypeFilters: readonly string[];
  baseTypeFilters: readonly string[];
}

/** The objects matching every filter list (an empty list does not filter). */
export function browse(objects: Iterable<BrowseObject>, f: BrowseFilters, system: string): BrowseObject[] {
  const names = f.nameFilters.map(nameFilter);
  const types = new Set(f.objectTypeFilters.flatMap((t) => SELECTS[t] ?? []));
  const bases = new Set(f.baseTypeFilters.map((b) => (b.startsWith(`${system}::`) ? b.slice(system.length + 2) : b)));
  const out: BrowseObject[] = [];
  for (const o of objects) {
    if (names.length > 0 && !names.some((m) => m(o))) continue;
    if (f.objectTypeFilters.length > 0 && !types.has(o.objectType)) continue;
    if (f.baseTypeFilters.length > 0 && (o.dataType === null || !bases.has(o.dataType))) continue;
    out.push(o);
  }
  return out;
}
