/**
 * Reads an access-matrix file (YAML text, or the same structure already parsed) into its parts,
 * checking everything that needs no live data: the YAML itself, unknown keys, value types, scopes
 * against the catalogue, resources and levels against the access-control catalogue. Every problem
 * carries the line and column of the offending key or value.
 */
import { Document, isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Alias, type Node, type Pair } from 'yaml';
import { ACCESS_CONTROL_RESOURCES, accessLevelsFor, minimumAccessLevel, type AccessControlResource } from '../access/resources.js';
import { isValidScope } from '../access/scopes.js';
import { Problems } from './errors.js';
import type { Origin, ProjectAccessLevel } from './model.js';
import { CAPABILITIES, DEFAULT_LEVEL, DELETE_FLAGS, GRANT_KEYS, isServiceAccountKey, PROJECT_ACCESS_LEVELS, ROOT_KEYS, SCOPES_KEY } from './vocabulary.js';

export interface Located<T> {
  value: T;
  origin: Origin;
}

export interface ParsedGrant {
  /** The project key as written (`staging_project`). */
  project: Located<string>;
  role: Located<ProjectAccessLevel> | null;
  /** Capability flag -> value. */
  flags: Map<string, Located<boolean>>;
  deleteFlags: Located<boolean> | null;
  /** Resource -> level or `default`. */
  resources: Map<string, Located<string>>;
  origin: Origin;
}

export interface ParsedGroup {
  name: Located<string>;
  members: Located<string>[] | null;
  idpGroups: Located<string>[] | null;
  grants: ParsedGrant[];
}

export interface ParsedServiceAccount {
  name: Located<string>;
  keys: Array<{ project: Located<string>; scopes: string[]; origin: Origin }>;
}

export interface MatrixFile {
  /** `projects:`: project key -> a project name or id. */
  projects: Map<string, Located<string | number>>;
  ssoDomain: Located<string> | null;
  groups: ParsedGroup[];
  serviceAccounts: ParsedServiceAccount[];
}

const isResource = (value: string): value is (typeof ACCESS_CONTROL_RESOURCES)[number] => (ACCESS_CONTROL_RESOURCES as readonly string[]).includes(value);

/** How many entries aliases may repeat beyond the file's own: a "billion laughs" file is refused, not walked. */
export const MAX_ALIAS_EXPANSION = 10_000;

/** Walks the YAML nodes, reporting problems at their positions. */
class Reader {
  /** Each alias's anchor, found in one pass (yaml's own Alias.resolve walks the whole document each time). */
  private readonly anchors = new Map<Alias, Node>();
  /** Entries left to read: the file's own nodes plus MAX_ALIAS_EXPANSION. */
  private budget = MAX_ALIAS_EXPANSION;

  constructor(
    doc: Document,
    private readonly lines: LineCounter | null,
    readonly problems: Problems,
  ) {
    // An alias means the last node anchored with its name before it, as in YAML (and yaml's resolve).
    const named = new Map<string, Node>();
    visit(doc, {
      Node: (_key, node) => {
        this.budget++;
        if (isAlias(node)) {
          const anchor = named.get(node.source);
          if (anchor) this.anchors.set(node, anchor);
          else problems.add(this.origin(node, ''), `alias *${node.source} has no anchor &${node.source} before it`);
        } else if (node.anchor) {
          named.set(node.anchor, node);
        }
      },
    });
  }

  /** Counts one entry read; throws once aliases have repeated more than MAX_ALIAS_EXPANSION. */
  private spend(node: unknown, path: string): void {
    if (--this.budget >= 0) return;
    this.problems.add(this.origin(node, path), `aliases repeat more than ${MAX_ALIAS_EXPANSION} entries; write them out or use fewer aliases`);
    this.problems.throwIfAny();
  }

  origin(node: unknown, path: string): Origin {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!range || !this.lines) return { path };
    const { line, col } = this.lines.linePos(range[0]);
    return { path, line, column: col };
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? this.anchors.get(node) : node;
  }

  /** The pairs of a mapping (empty for null); a problem when it is something else. */
  pairs(node: unknown, path: string, at: unknown = node): Array<{ key: string; keyNode: unknown; value: unknown; path: string }> {
    const resolved = this.resolve(node);
    if (resolved === null || resolved === undefined || (isScalar(resolved) && resolved.value === null)) return [];
    if (!isMap(resolved)) {
      this.problems.add(this.origin(resolved ?? at, path), 'expected a mapping of keys to values');
      return [];
    }
    const out = [];
    for (const pair of resolved.items as Pair<unknown, unknown>[]) {
      this.spend(pair.key, path);
      const keyNode = this.resolve(pair.key);
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        this.problems.add(this.origin(keyNode ?? resolved, path), 'keys must be plain words');
        continue;
      }
      const key = String(keyNode.value);
      out.push({ key, keyNode, value: pair.value == null ? null : this.resolve(pair.value), path: path ? `${path}.${key}` : key });
    }
    return out;
  }

  scalar<T>(node: unknown, path: string, check: (value: unknown) => value is T, expected: string, at: unknown = node): Located<T> | null {
    const resolved = this.resolve(node);
    const value = isScalar(resolved) ? resolved.value : undefined;
    if (!check(value)) {
      this.problems.add(this.origin(resolved ?? at, path), `expected ${expected}, found ${describe(resolved)}`);
      return null;
    }
    return { value, origin: this.origin(resolved, path) };
  }

  list(node: unknown, path: string, at: unknown): Located<string>[] | null {
    const resolved = this.resolve(node);
    if (resolved === null || (isScalar(resolved) && resolved.value === null)) return [];
    if (!isSeq(resolved)) {
      this.problems.add(this.origin(resolved ?? at, path), `expected a list, found ${describe(resolved)}`);
      return null;
    }
    const out: Located<string>[] = [];
    resolved.items.forEach((item, i) => {
      this.spend(item, path);
      const s = this.scalar(item, `${path}[${i}]`, isNonBlankString, 'a word or quoted text');
      if (s) out.push({ value: s.value.trim(), origin: s.origin });
    });
    return out;
  }

  unknownKey(keyNode: unknown, path: string, key: string, expected: readonly string[]): void {
    this.problems.add(this.origin(keyNode, path), `unknown key "${key}"; expected ${expected.join(', ')}`);
  }
}

const isNonBlankString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isProjectAccess = (v: unknown): v is ProjectAccessLevel => (PROJECT_ACCESS_LEVELS as readonly unknown[]).includes(v);
const isProjectTarget = (v: unknown): v is string | number => isNonBlankString(v) || (Number.isInteger(v) && (v as number) > 0);

function describe(node: unknown): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return node.value === null ? 'nothing' : `${typeof node.value} ${JSON.stringify(node.value)}`;
  return 'nothing';
}

/** Parses YAML text, or a structure already parsed from it (positions are then unknown). */
export function parseMatrix(input: unknown, fileName = 'access-matrix.yaml'): MatrixFile {
  const problems = new Problems(fileName);
  let doc: Document;
  let lines: LineCounter | null = null;
  if (typeof input === 'string') {
    lines = new LineCounter();
    doc = parseDocument(input, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    for (const error of [...doc.errors]) {
      const pos = lines.linePos(error.pos[0]);
      problems.add({ path: '', line: pos.line, column: pos.col }, error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''));
    }
    problems.throwIfAny();
  } else {
    doc = new Document(input);
  }
  const reader = new Reader(doc, lines, problems);
  const file: MatrixFile = { projects: new Map(), ssoDomain: null, groups: [], serviceAccounts: [] };
  let sawMatrix = false;
  for (const { key, keyNode, value, path } of reader.pairs(doc.contents, '', doc.contents)) {
    if (key === 'access_matrix') {
      sawMatrix = true;
      readMatrix(reader, value, keyNode, file);
    } else if (key === 'projects') {
      for (const p of reader.pairs(value, path, keyNode)) {
        const target = reader.scalar(p.value, p.path, isProjectTarget, 'a project name or id', p.keyNode);
        if (target)
          file.projects.set(p.key, { value: typeof target.value === 'string' ? target.value.trim() : target.value, origin: reader.origin(p.keyNode, p.path) });
      }
    } else if (key === 'sso_domain') {
      file.ssoDomain = reader.scalar(value, path, isNonBlankString, 'a domain name', keyNode);
    } else {
      reader.unknownKey(keyNode, path, key, ROOT_KEYS);
    }
  }
  if (!sawMatrix) problems.add({ path: '', line: lines ? 1 : undefined, column: lines ? 1 : undefined }, 'the file has no "access_matrix:" section');
  problems.throwIfAny();
  return file;
}

function readMatrix(reader: Reader, node: unknown, at: unknown, file: MatrixFile): void {
  for (const { key, keyNode, value, path } of reader.pairs(node, 'access_matrix', at)) {
    const name = { value: key, origin: reader.origin(keyNode, path) };
    if (isServiceAccountKey(key)) file.serviceAccounts.push(readServiceAccount(reader, name, value, keyNode));
    else file.groups.push(readGroup(reader, name, value, keyNode));
  }
}

function readGroup(reader: Reader, name: Located<string>, node: unknown, at: unknown): ParsedGroup {
  const group: ParsedGroup = { name, members: null, idpGroups: null, grants: [] };
  for (const { key, keyNode, value, path } of reader.pairs(node, name.origin.path, at)) {
    if (key === 'members') group.members = reader.list(value, path, keyNode);
    else if (key === 'idp_groups') group.idpGroups = reader.list(value, path, keyNode);
    else group.grants.push(readGrant(reader, { value: key, origin: reader.origin(keyNode, path) }, value, keyNode));
  }
  return group;
}

const GRANT_EXPECTED = [...GRANT_KEYS, ...CAPABILITIES.map((c) => c.flag), DELETE_FLAGS];

function readGrant(reader: Reader, project: Located<string>, node: unknown, at: unknown): ParsedGrant {
  const grant: ParsedGrant = { project, role: null, flags: new Map(), deleteFlags: null, resources: new Map(), origin: project.origin };
  for (const { key, keyNode, value, path } of reader.pairs(node, project.origin.path, at)) {
    if (key === 'role') {
      grant.role = reader.scalar(value, path, isProjectAccess, `one of ${PROJECT_ACCESS_LEVELS.join(', ')}`, keyNode);
    } else if (key === DELETE_FLAGS) {
      grant.deleteFlags = reader.scalar(value, path, isBoolean, 'true or false', keyNode);
    } else if (CAPABILITIES.some((c) => c.flag === key)) {
      const flag = reader.scalar(value, path, isBoolean, 'true or false', keyNode);
      if (flag) grant.flags.set(key, flag);
    } else if (key === 'resources') {
      readResources(reader, value, path, keyNode, grant);
    } else if (key === SCOPES_KEY) {
      reader.problems.add(reader.origin(keyNode, path), `"${SCOPES_KEY}" belongs to a service account (a name ending in _service_account)`);
    } else {
      reader.unknownKey(keyNode, path, key, GRANT_EXPECTED);
    }
  }
  // A capability flag written after `resources:` conflicts just the same (one written before it kept
  // the resource out of grant.resources), so this is checked once all of the grant is read.
  for (const c of CAPABILITIES) {
    const flag = grant.flags.get(c.flag);
    if (flag && grant.resources.has(c.resource)) {
      reader.problems.add(flag.origin, `${c.flag} sets ${c.resource}, which resources: sets too; use one or the other`);
    }
  }
  return grant;
}

function readResources(reader: Reader, node: unknown, path: string, at: unknown, grant: ParsedGrant): void {
  for (const r of reader.pairs(node, path, at)) {
    if (!isResource(r.key)) {
      reader.problems.add(reader.origin(r.keyNode, r.path), `unknown resource "${r.key}"; expected one of ${ACCESS_CONTROL_RESOURCES.join(', ')}`);
      continue;
    }
    const resource: AccessControlResource = r.key;
    const minimum = minimumAccessLevel(resource);
    const levels = accessLevelsFor(resource).slice(accessLevelsFor(resource).indexOf(minimum));
    const allowed = [...levels, DEFAULT_LEVEL];
    const level = reader.scalar(r.value, r.path, (v): v is string => allowed.includes(v as string), `one of ${allowed.join(', ')}`, r.keyNode);
    if (!level) continue;
    const capability = CAPABILITIES.find((c) => c.resource === resource);
    const flag = capability ? grant.flags.get(capability.flag) : undefined;
    if (capability && flag) {
      reader.problems.add(level.origin, `${resource} is already given by ${capability.flag} (line ${flag.origin.line ?? '?'}); use one or the other`);
      continue;
    }
    grant.resources.set(resource, level);
  }
}

function readServiceAccount(reader: Reader, name: Located<string>, node: unknown, at: unknown): ParsedServiceAccount {
  const account: ParsedServiceAccount = { name, keys: [] };
  for (const { key, keyNode, value, path } of reader.pairs(node, name.origin.path, at)) {
    const project = { value: key, origin: reader.origin(keyNode, path) };
    let scopes: string[] | null = null;
    for (const entry of reader.pairs(value, path, keyNode)) {
      if (entry.key !== SCOPES_KEY) {
        reader.unknownKey(entry.keyNode, entry.path, entry.key, [SCOPES_KEY]);
        continue;
      }
      const list = reader.list(entry.value, entry.path, entry.keyNode);
      if (!list) continue;
      if (list.length === 0) reader.problems.add(reader.origin(entry.keyNode, entry.path), 'a key needs at least one scope');
      for (const s of list) {
        if (!isValidScope(s.value)) reader.problems.add(s.origin, `"${s.value}" is not a scope in the catalogue (object:read or object:write, or *)`);
      }
      scopes = [...new Set(list.map((s) => s.value))].sort();
    }
    if (scopes === null) {
      reader.problems.add(project.origin, `a service account's project needs "${SCOPES_KEY}"`);
      continue;
    }
    account.keys.push({ project, scopes, origin: project.origin });
  }
  return account;
}
