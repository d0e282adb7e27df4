import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** The React example of docs/client.md ("Build your own screen") compiles against the client library as written. */
describe('docs/client.md', () => {
  it('its React example type-checks against @tagway/client', () => {
    const md = readFileSync(join(ROOT, 'docs', 'client.md'), 'utf8');
    const block = /```tsx\n([\s\S]*?)```/.exec(md)?.[1];
    expect(block, 'a ```tsx block').toBeDefined();
    expect(block!.split('\n').length).toBeLessThanOrEqual(40);
    const dir = mkdtempSync(join(ROOT, 'test', 'web', '.example-'));
    try {
      const file = join(dir, 'example.tsx');
      writeFileSync(file, block!);
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        jsx: ts.JsxEmit.ReactJSX,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
        types: ['node'],
        skipLibCheck: true,
        baseUrl: ROOT,
        // What the package.json of client/ exports.
        paths: { '@tagway/client': ['client/src/index.ts'], '@tagway/client/react': ['client/src/react.ts'] },
      });
      // Only the example's own diagnostics: the library and the server types behind it are checked by `npm run lint`.
      const source = program.getSourceFile(file)!;
      const problems = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map(
        (d) =>
          `${d.file ? `${d.file.fileName.replace(ROOT, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
