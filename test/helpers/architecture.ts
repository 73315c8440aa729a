/**
 * The design's rules of the road as a check (design.md, "The design as a test"): reads every import
 * of every module under a source folder with the TypeScript compiler's own parser and resolver, and
 * reports each breach by file and import.
 *
 * What counts as an import: `import ... from`, `import type`, `export ... from`, `import x = require()`,
 * dynamic `import()` and `require()` with a literal specifier. Type-only imports count: a layer that
 * needs another layer's types depends on it all the same. Package imports (`fastify`, `node:fs`) are
 * not Warden code and are ignored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** As written in the source. */
  specifier: string;
  /** The imported module, relative to the project root with forward slashes. */
  target: string;
  line: number;
}

export interface SourceModule {
  /** Relative to the project root with forward slashes, e.g. `src/access/decide.ts`. */
  file: string;
  lines: number;
  imports: ImportEdge[];
  /** Relative specifiers that name no module on disk (a typo the compiler would also catch). */
  unresolved: string[];
}

export interface ArchitectureRules {
  /** The pure core: may import nothing of the project outside itself. */
  pureCore: string;
  /** The transport layer: nothing outside it imports it, except the composition roots. */
  transport: string;
  /**
   * Where the application is put together: these may import anything, the transport included. A
   * folder (ending in `/`) or one file.
   */
  compositionRoots: string[];
  /** `[from, to]`: nothing in folder `from` imports folder `to`. */
  forbidden: Array<[from: string, to: string]>;
  maxLines: number;
}

/**
 * Warden's rules. The composition roots are the command line (src/cli/: each command opens the
 * store, wires the access cache over it and starts the server) and the Fastify application
 * (src/http/app.ts, which is inside the transport anyway: it registers the routes over the domain).
 */
export const WARDEN_RULES: ArchitectureRules = {
  pureCore: 'src/access/',
  transport: 'src/http/',
  compositionRoots: ['src/cli/', 'src/http/app.ts'],
  forbidden: [['src/store/', 'src/cache/']],
  maxLines: 400,
};

export interface Breach {
  rule: 'pure-core' | 'transport' | 'forbidden' | 'cycle' | 'size' | 'unresolved';
  file: string;
  /** The import as written, where the breach is one import. */
  specifier?: string;
  message: string;
}

const SOURCE = /\.(ts|tsx|mts|cts)$/;
const DECLARATION = /\.d\.(ts|mts|cts)$/;

const posix = (path: string) => path.split(sep).join('/');

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (SOURCE.test(entry.name) && !DECLARATION.test(entry.name)) found.push(path);
  }
  return found.sort();
}

/** Every import specifier of one file, with its line, as the compiler parses it. */
export function importSpecifiers(fileName: string, text: string): Array<{ specifier: string; line: number }> {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: Array<{ specifier: string; line: number }> = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined) => {
    if (literal && ts.isStringLiteralLike(literal)) {
      found.push({ specifier: literal.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) add(node, node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  allowJs: false,
  jsx: ts.JsxEmit.ReactJSX,
};

/** Reads the modules under `dir` (relative to `root`) and resolves their imports as the compiler would. */
export function readModules(root: string, dir = 'src'): SourceModule[] {
  const host = ts.createCompilerHost(COMPILER_OPTIONS);
  const cache = ts.createModuleResolutionCache(root, (name) => name, COMPILER_OPTIONS);
  return sourceFiles(join(root, dir)).map((path) => {
    const text = readFileSync(path, 'utf8');
    const file = posix(relative(root, path));
    const module: SourceModule = { file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0), imports: [], unresolved: [] };
    for (const { specifier, line } of importSpecifiers(path, text)) {
      const relativeSpecifier = specifier.startsWith('./') || specifier.startsWith('../');
      // The file is read as an ES module (the project is "type": "module").
      const resolved = ts.resolveModuleName(specifier, path, COMPILER_OPTIONS, host, cache, undefined, ts.ModuleKind.ESNext).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) {
        if (relativeSpecifier) module.unresolved.push(specifier);
        continue;
      }
      const target = posix(relative(root, resolved.resolvedFileName));
      if (target.startsWith('../') || target.includes('node_modules/')) continue;
      module.imports.push({ specifier, target, line });
    }
    return module;
  });
}

const within = (file: string, place: string) => (place.endsWith('/') ? file.startsWith(place) : file === place);

/** The cycles of the import graph: one path per strongly connected component, e.g. `a -> b -> a`. */
export function findCycles(modules: SourceModule[]): string[][] {
  const edges = new Map(modules.map((m) => [m.file, [...new Set(m.imports.map((i) => i.target))]]));
  // Tarjan's strongly connected components, iteratively (no recursion limit on deep graphs).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  for (const start of edges.keys()) {
    if (index.has(start)) continue;
    const work: Array<{ node: string; child: number }> = [{ node: start, child: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = edges.get(frame.node) ?? [];
      if (frame.child < targets.length) {
        const target = targets[frame.child++]!;
        if (!edges.has(target)) continue;
        if (!index.has(target)) {
          index.set(target, next);
          low.set(target, next++);
          stack.push(target);
          onStack.add(target);
          work.push({ node: target, child: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && (edges.get(member) ?? []).includes(member);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  // One shortest cycle through the component's first file (breadth-first, inside the component).
  return components.map((component) => {
    const members = new Set(component);
    const first = component[0]!;
    const previous = new Map<string, string>();
    const queue = [first];
    while (queue.length > 0) {
      const node = queue.shift()!;
      for (const target of edges.get(node) ?? []) {
        if (!members.has(target)) continue;
        if (target === first) {
          const path = [node];
          while (path[0] !== first) path.unshift(previous.get(path[0]!)!);
          return [...path, first];
        }
        if (!previous.has(target)) {
          previous.set(target, node);
          queue.push(target);
        }
      }
    }
    return [...component, first];
  });
}

/** Every breach of the rules, in file order. */
export function checkArchitecture(modules: SourceModule[], rules: ArchitectureRules): Breach[] {
  const breaches: Breach[] = [];
  const isRoot = (file: string) => rules.compositionRoots.some((root) => within(file, root));
  for (const module of modules) {
    const { file } = module;
    if (module.lines > rules.maxLines) {
      breaches.push({ rule: 'size', file, message: `${file} has ${module.lines} lines (at most ${rules.maxLines})` });
    }
    for (const specifier of module.unresolved) {
      breaches.push({ rule: 'unresolved', file, specifier, message: `${file} imports '${specifier}', which names no module` });
    }
    for (const edge of module.imports) {
      const at = `${file}:${edge.line} imports '${edge.specifier}' (${edge.target})`;
      if (within(file, rules.pureCore) && !within(edge.target, rules.pureCore)) {
        breaches.push({
          rule: 'pure-core',
          file,
          specifier: edge.specifier,
          message: `${at}: ${rules.pureCore} imports nothing of the project outside itself`,
        });
      }
      if (within(edge.target, rules.transport) && !within(file, rules.transport) && !isRoot(file)) {
        breaches.push({
          rule: 'transport',
          file,
          specifier: edge.specifier,
          message: `${at}: only ${rules.transport} and the composition roots import ${rules.transport}`,
        });
      }
      for (const [from, to] of rules.forbidden) {
        if (within(file, from) && within(edge.target, to)) {
          breaches.push({ rule: 'forbidden', file, specifier: edge.specifier, message: `${at}: ${from} does not import ${to}` });
        }
      }
    }
  }
  for (const cycle of findCycles(modules)) {
    breaches.push({ rule: 'cycle', file: cycle[0]!, message: `import cycle: ${cycle.join(' -> ')}` });
  }
  return breaches;
}
