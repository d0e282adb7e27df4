/**
 * Derives the WinCC Unified GraphQL contract fixture from a copy of the real server's SDL:
 *
 *   npx tsx scripts/wincc-unified-fixture.ts <path to the reference SDL> [out file]
 *
 * The fixture keeps only what a client depends on: every type reachable from Query, Mutation and Subscription with
 * its fields, arguments, defaults, enum values and input fields, and their types. Description texts are left out
 * on purpose (they are not ours to copy), and so are the `phmi_*` types no root reaches. The conformance test
 * (test/unit/adapters/wincc-unified/schema-conformance.test.ts) checks our schema against the result.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  astFromValue,
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  print,
  type GraphQLArgument,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

type Arg = { type: string; default?: string };
type Field = { type: string; args?: Record<string, Arg> };
export type ContractType =
  | { kind: 'OBJECT'; fields: Record<string, Field> }
  | { kind: 'INPUT_OBJECT'; fields: Record<string, Arg> }
  | { kind: 'ENUM'; values: string[] }
  | { kind: 'SCALAR' };
export interface Contract {
  roots: string[];
  types: Record<string, ContractType>;
}

function arg(a: GraphQLArgument | GraphQLInputField): Arg {
  const out: Arg = { type: String(a.type) };
  if (a.defaultValue !== undefined) {
    const ast = astFromValue(a.defaultValue, a.type);
    if (ast) out.default = print(ast);
  }
  return out;
}

export function contractOf(schema: GraphQLSchema): Contract {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t) => t != null);
  const types: Record<string, ContractType> = {};
  const queue: GraphQLNamedType[] = [...roots];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const t = queue.shift()!;
    if (seen.has(t.name) || t.name.startsWith('__') || t.name.startsWith('phmi_')) continue;
    seen.add(t.name);
    if (isObjectType(t) || isInterfaceType(t)) {
      const fields: Record<string, Field> = {};
      for (const f of Object.values(t.getFields())) {
        const field: Field = { type: String(f.type) };
        if (f.args.length > 0) field.args = Object.fromEntries(f.args.map((a) => [a.name, arg(a)]));
        fields[f.name] = field;
        queue.push(getNamedType(f.type));
        for (const a of f.args) queue.push(getNamedType(a.type));
      }
      types[t.name] = { kind: 'OBJECT', fields };
    } else if (isInputObjectType(t)) {
      const fields: Record<string, Arg> = {};
      for (const f of Object.values(t.getFields())) {
        fields[f.name] = arg(f);
        queue.push(getNamedType(f.type));
      }
      types[t.name] = { kind: 'INPUT_OBJECT', fields };
    } else if (isEnumType(t)) {
      types[t.name] = { kind: 'ENUM', values: t.getValues().map((v) => v.name) };
    } else if (isScalarType(t)) {
      types[t.name] = { kind: 'SCALAR' };
    } else if (isUnionType(t)) {
      throw new Error(`union ${t.name}: not expected in this schema`);
    }
  }
  const sorted: Record<string, ContractType> = {};
  for (const k of Object.keys(types).sort()) sorted[k] = types[k]!;
  return { roots: roots.map((r) => r.name), types: sorted };
}

function main(): void {
  const [sdlPath, outPath = 'test/fixtures/wincc-unified-contract.json'] = process.argv.slice(2);
  if (!sdlPath) {
    process.stderr.write('usage: tsx scripts/wincc-unified-fixture.ts <reference SDL> [out.json]\n');
    process.exit(2);
  }
  const schema = buildSchema(readFileSync(resolve(sdlPath), 'utf8'));
  writeFileSync(resolve(outPath), JSON.stringify(contractOf(schema), null, 2) + '\n');
  process.stdout.write(`wrote ${outPath}\n`);
}

if (process.argv[1] && resolve(process.argv[1]).endsWith('wincc-unified-fixture.ts')) main();
