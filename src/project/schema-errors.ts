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

export interface PathMessage { path: string; message: string }

export function summariseSchemaErrors(errors: Iterable<SchemaError>): PathMessage[] {
  const out: PathMessage[] = [];
  const unionConsts = new Map<string, unknown[]>();
  const seen = new Set<string>();
  const push = (path: string, message: string) => {
    const key = path + '\0' + message;
    if (!seen.has(key)) { seen.add(key); out.push({ path, message }); }
  };
  for (const e of errors) {
    if (e.keyword === 'boolean') continue; // the additionalProperties error below names the key
    if (e.keyword === 'additionalProperties') {
      for (const k of (e.params.additionalProperties as string[] | undefined) ?? []) push(`${e.instancePath}/${k}`, `unknown key '${k}'`);
      continue;
    }
    if (e.keyword === 'const' && /\/anyOf\/\d+$/.test(e.schemaPath)) {
      const list = unionConsts.get(e.instancePath) ?? [];
      list.push(e.params.allowedValue);
      unionConsts.set(e.instancePath, list);
      continue;
    }
    if (e.keyword === 'enum') { push(e.instancePath, `must be one of ${((e.params.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}`); continue; }
    if (e.keyword === 'anyOf') continue; // reported through its branches
    if (e.keyword === 'required') {
      const props = (e.params.requiredProperties as string[] | undefined) ?? [];
      for (const p of props) push(e.instancePath, `missing required key '${p}'`);
      if (props.length === 0) push(e.instancePath, e.message);
      continue;
    }
    if (e.keyword === 'pattern') { push(e.instancePath, `has characters or a form that is not allowed (${e.message})`); continue; }
    push(e.instancePath, e.message);
  }
  for (const [path, values] of unionConsts) {
    // A union of literals that also had a non-literal branch reports that branch's error too; keep both.
    push(path, `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  return out;
}
