import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Transpiles src/ as it is now into `outDir/src` (one .js per .ts, same layout, like `npm run build` but without
 * the type check), next to a copy of package.json and projects/ and a link to node_modules, and returns the
 * path of the CLI entry. A CLI test then runs plain `node`: never a stale dist/, and no TypeScript loader
 * hooked into every module load of every child process (that costs seconds of CPU per start on two cores).
 */
export function buildCli(outDir: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
    );
  for (const file of walk(join(ROOT, 'src'))) {
    const out = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2023, verbatimModuleSyntax: true },
      reportDiagnostics: false,
    });
    const target = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText);
  }
  cpSync(join(ROOT, 'package.json'), join(outDir, 'package.json'));
  cpSync(join(ROOT, 'projects'), join(outDir, 'projects'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return join(outDir, 'src', 'cli', 'run.js');
}
