import { Settings } from 'typebox/system';
import { didYouMean } from '../domain/suggest.js';

/**
 * Turns JSON-Schema validator errors into one readable message per real problem: unknown keys are named,
 * the noise of unions (one error per branch) becomes "must be one of …".
 */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
}

export interface PathMessage {
  path: string;
  message: string;
}

/** A JSON-pointer segment (RFC 6901): `~` and `/` in a key are escaped. */
export function pointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

const ARTICLE: Record<string, string> = {
  number: 'a number',
  integer: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
  null: 'empty',
};

/** What a "did you mean" needs: the schema the errors' schemaPaths point into, and the checked value. */
export interface SuggestionContext {
  root: unknown;
  data: unknown;
}

/**
 * @param patternMessages readable messages for known `pattern`s (tag names, identifiers), instead of the regex.
 * @param context with it, an unknown key or a value outside an enum that is a likely typo gets "did you mean".
 */
export function summariseSchemaErrors(
  errors: Iterable<SchemaError>,
  patternMessages: ReadonlyMap<string, string> = new Map(),
  context?: SuggestionContext,
): PathMessage[] {
  const valueAt = (path: string): unknown => (context ? atPointer(context.data, path) : undefined);
  const suggest = (path: string, allowed: unknown[]): string => {
    const v = valueAt(path);
    return typeof v === 'string'
      ? didYouMean(
          v,
          allowed.filter((a): a is string => typeof a === 'string'),
        )
      : '';
  };
  const out: PathMessage[] = [];
  const unionConsts = new Map<string, unknown[]>();
  const unionTypes = new Map<string, string[]>();
  const seen = new Set<string>();
  const push = (path: string, message: string) => {
    const key = path + '\0' + message;
    if (!seen.has(key)) {
      seen.add(key);
      out.push({ path, message });
    }
  };
  for (const e of errors) {
    if (e.keyword === 'boolean') continue; // the additionalProperties error below names the key
    if (e.keyword === 'additionalProperties') {
      for (const k of (e.params.additionalProperties as string[] | undefined) ?? [])
        push(
          `${e.instancePath}/${pointerSegment(k)}`,
          `unknown key '${k}'${context ? didYouMean(k, knownKeys(context.root, e.schemaPath)) : ''}`,
        );
      continue;
    }
    if (e.keyword === 'const' && /\/anyOf\/\d+$/.test(e.schemaPath)) {
      const list = unionConsts.get(e.instancePath) ?? [];
      list.push(e.params.allowedValue);
      unionConsts.set(e.instancePath, list);
      continue;
    }
    if (e.keyword === 'type' && /\/anyOf\/\d+$/.test(e.schemaPath)) {
      // Union([Number, String]) fails once per branch: say "must be a number or a string" once.
      const list = unionTypes.get(e.instancePath) ?? [];
      for (const t of [e.params.type].flat()) list.push(ARTICLE[String(t)] ?? String(t));
      unionTypes.set(e.instancePath, list);
      continue;
    }
    if (e.keyword === 'type') {
      push(
        e.instancePath,
        `must be ${[e.params.type]
          .flat()
          .map((t) => ARTICLE[String(t)] ?? String(t))
          .join(' or ')}`,
      );
      continue;
    }
    if (e.keyword === 'enum') {
      const allowed = (e.params.allowedValues as unknown[]) ?? [];
      push(e.instancePath, `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${suggest(e.instancePath, allowed)}`);
      continue;
    }
    if (e.keyword === 'anyOf') continue; // reported through its branches
    if (e.keyword === 'required') {
      const props = (e.params.requiredProperties as string[] | undefined) ?? [];
      for (const p of props) push(e.instancePath, `missing required key '${p}'`);
      if (props.length === 0) push(e.instancePath, e.message);
      continue;
    }
    if (e.keyword === 'pattern') {
      push(e.instancePath, patternMessages.get(String(e.params.pattern)) ?? `has characters or a form that is not allowed (${e.message})`);
      continue;
    }
    push(e.instancePath, e.message);
  }
  for (const [path, values] of unionConsts) {
    // A union of literals that also had a non-literal branch reports that branch's error too; keep both.
    push(path, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}${suggest(path, values)}`);
  }
  for (const [path, types] of unionTypes) {
    const alternatives = [...new Set(types)];
    push(
      path,
      `must be ${alternatives.length > 1 ? `${alternatives.slice(0, -1).join(', ')} or ${alternatives.at(-1)}` : alternatives[0]}`,
    );
  }
  return out;
}

/** The value at a JSON pointer (RFC 6901), or undefined. */
export function atPointer(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

/** The property names of the object schema at a schemaPath like `#/properties/tags/items`. */
function knownKeys(root: unknown, schemaPath: string): string[] {
  const schema = atPointer(root, schemaPath.replace(/^#/, '')) as { properties?: Record<string, unknown> } | undefined;
  return schema?.properties ? Object.keys(schema.properties) : [];
}

/**
 * Every schema error, not just the first few: TypeBox buffers at most `maxErrors` (default 8, a guard for
 * untrusted API bodies), which would hide most problems of a project file. The file is trusted local input,
 * so the cap is lifted for this one synchronous call and restored at once.
 */
export function allSchemaErrors(check: { Errors(data: unknown): unknown }, data: unknown): SchemaError[] {
  const previous = Settings.Get().maxErrors;
  Settings.Set({ maxErrors: 100_000 });
  try {
    return [...(check.Errors(data) as Iterable<SchemaError>)];
  } finally {
    Settings.Set({ maxErrors: previous });
  }
}

/** The indices of list entries that have a schema problem other than an unknown key (`/3/limit` → 3). */
export function brokenEntries(errors: readonly SchemaError[]): Set<number> {
  const out = new Set<number>();
  for (const e of errors) {
    if (e.keyword === 'additionalProperties' || e.keyword === 'boolean') continue;
    const m = /^\/(\d+)/.exec(e.instancePath);
    if (m) out.add(Number(m[1]));
  }
  return out;
}
