import { invalid } from './errors.js';
import { normaliseName } from './names.js';

/**
 * Request bodies as classic WinCC clients write them: property names in any case (.NET serialisers send
 * `VariableNames`), names normalised (names.ts). Shape only: what a value means is the services' to judge.
 */
export function field(body: unknown, key: string): unknown {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  if (key in o) return o[key];
  const k = key.toLowerCase();
  for (const [name, v] of Object.entries(o)) if (name.toLowerCase() === k) return v;
  return undefined;
}

export function requireObject(body: unknown, what: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid(`The body must be a JSON object ${what}`);
  return body as Record<string, unknown>;
}

/** A list of names (`variableNames`, `typeNames`), each a string, normalised. */
export function names(body: unknown, key: string): string[] {
  const list = field(requireObject(body, `with "${key}": [names]`), key);
  if (!Array.isArray(list)) throw invalid(`"${key}" must be an array of names`);
  return list.map((n, i) => {
    if (typeof n !== 'string') throw invalid(`"${key}"[${i}] must be a string`);
    return normaliseName(n);
  });
}
