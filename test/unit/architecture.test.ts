/**
 * The design as a test (issue 21, item 3): the access core imports nothing of Warden, nothing outside
 * src/http/ imports it but the composition roots (src/cli/, src/http/app.ts), src/store/ does not
 * import src/cache/, there is no import cycle, and no file in src/ passes 400 lines. The checker itself
 * is proven first, on a small project written for the purpose.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Breach, checkArchitecture, findCycles, readModules, WARDEN_RULES } from '../helpers/architecture.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const describeBreaches = (breaches: Breach[]) => breaches.map((b) => `${b.rule}: ${b.message}`).join('\n');

describe('the architecture checker, on a fixture project', () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'warden-architecture-'));
    write('src/access/levels.ts', 'export const ADMIN = 8;\n');
    // Breaches the pure core: a type import counts.
    write(
      'src/access/decide.ts',
      "import type { Row } from '../store/rows.js';\nimport { ADMIN } from './levels.js';\nexport const decide = (r: Row) => r.level >= ADMIN;\n",
    );
    write('src/store/rows.ts', 'export interface Row { level: number }\n');
    // Breaches store -> cache, through a re-export.
    write('src/store/open.ts', "export { Cache } from '../cache/cache.js';\n");
    write('src/cache/cache.ts', 'export class Cache {}\n');
    // A cycle of three through a dynamic import, and one of them imports the transport.
    write('src/domain/a.ts', "import { b } from './b.js';\nexport const a = () => b();\n");
    write('src/domain/b.ts', "import { c } from './nested/c.js';\nexport const b = () => c();\n");
    write(
      'src/domain/nested/c.ts',
      "export const c = async () => (await import('../a.js')).a;\nimport { HttpError } from '../../http/errors.js';\nexport { HttpError };\n",
    );
    write('src/http/errors.ts', 'export class HttpError extends Error {}\n');
    write('src/http/app.ts', "import { a } from '../domain/a.js';\nexport const app = a;\n");
    // A composition root may import the transport.
    write(
      'src/cli/main.ts',
      "import { app } from '../http/app.js';\nimport { readFileSync } from 'node:fs';\nexport const main = () => [app, readFileSync];\n",
    );
    write('src/big.ts', `${'export const x = 1;\n'.repeat(5)}`);
    write('src/typo.ts', "import { nothing } from './missing.js';\nexport { nothing };\n");
    write('src/self.ts', "export * from './self.js';\n");
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads every kind of import and resolves it to the file on disk', () => {
    const modules = readModules(root);
    const c = modules.find((m) => m.file === 'src/domain/nested/c.ts')!;
    expect(c.imports).toEqual([
      { specifier: '../a.js', target: 'src/domain/a.ts', line: 1 },
      { specifier: '../../http/errors.js', target: 'src/http/errors.ts', line: 2 },
    ]);
    // Package imports are not project code.
    expect(modules.find((m) => m.file === 'src/cli/main.ts')!.imports.map((i) => i.target)).toEqual(['src/http/app.ts']);
    expect(modules.find((m) => m.file === 'src/big.ts')!.lines).toBe(5);
  });

  it('reports each breach with the file and the import', () => {
    const breaches = checkArchitecture(readModules(root), { ...WARDEN_RULES, maxLines: 4 });
    const found = breaches.map((b) => [b.rule, b.file, b.specifier ?? null]);
    expect(found).toEqual(
      expect.arrayContaining([
        ['pure-core', 'src/access/decide.ts', '../store/rows.js'],
        ['forbidden', 'src/store/open.ts', '../cache/cache.js'],
        ['transport', 'src/domain/nested/c.ts', '../../http/errors.js'],
        ['size', 'src/big.ts', null],
        ['unresolved', 'src/typo.ts', './missing.js'],
      ]),
    );
    // The access core's own imports, the transport's own imports and the composition root's are allowed.
    expect(found.filter(([, file]) => ['src/access/levels.ts', 'src/http/app.ts', 'src/cli/main.ts'].includes(file as string))).toEqual([]);
    const cycles = breaches.filter((b) => b.rule === 'cycle').map((b) => b.message);
    expect(cycles).toEqual(
      expect.arrayContaining([
        'import cycle: src/domain/a.ts -> src/domain/b.ts -> src/domain/nested/c.ts -> src/domain/a.ts',
        'import cycle: src/self.ts -> src/self.ts',
      ]),
    );
    expect(breaches).toHaveLength(7);
  });

  it('holds generated files (their first line says so) to every rule but the size', () => {
    const big = { file: 'src/store/schema.ts', lines: 900, unresolved: [], imports: [] };
    expect(checkArchitecture([{ ...big, generated: true }], WARDEN_RULES)).toEqual([]);
    expect(checkArchitecture([{ ...big, generated: false }], WARDEN_RULES).map((b) => b.rule)).toEqual(['size']);
  });

  it('finds no cycle in a graph without one, and the shortest path of a component with several', () => {
    const module = (file: string, ...targets: string[]) => ({
      file,
      lines: 1,
      generated: false,
      unresolved: [],
      imports: targets.map((target) => ({ specifier: target, target, line: 1 })),
    });
    expect(findCycles([module('a', 'b', 'c'), module('b', 'c'), module('c')])).toEqual([]);
    expect(findCycles([module('a', 'b'), module('b', 'c', 'a'), module('c', 'a')])).toEqual([['a', 'b', 'a']]);
  });
});

describe("Warden's source", () => {
  it('keeps the rules of the road', () => {
    const modules = readModules(ROOT);
    expect(modules.length).toBeGreaterThan(100);
    expect(describeBreaches(checkArchitecture(modules, WARDEN_RULES))).toBe('');
  });
});
