/**
 * SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON representation; the caller then stores
 * the result as it would a PUT. Accepts what Okta and Entra ID send: operation names in any case
 * (`Replace`), path-less value objects (`{"op":"replace","value":{"active":false}}`), dotted keys in
 * them (`{"name.givenName":"Ada"}`), value filters (`members[value eq "…"]`,
 * `emails[type eq "work"].value`) and `remove` of `members` with a list of values.
 */
import { scimBadRequest } from './errors.js';
import { getAttribute, matches, parsePath, type Filter, type PatchPath } from './filter.js';

export const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const MAX_OPERATIONS = 1000;

type Json = Record<string, unknown>;
export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: unknown;
}

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The operations of a PatchOp body, checked for shape. */
export function readOperations(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw scimBadRequest('invalidSyntax', 'The body must be a PatchOp object.');
  const schemas = getAttribute(body, 'schemas');
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === PATCH_SCHEMA.toLowerCase()))) {
    throw scimBadRequest('invalidSyntax', `schemas must contain "${PATCH_SCHEMA}".`);
  }
  const operations = getAttribute(body, 'Operations');
  if (!Array.isArray(operations) || operations.length === 0) throw scimBadRequest('invalidSyntax', 'Operations must be a non-empty list.');
  if (operations.length > MAX_OPERATIONS) throw scimBadRequest('tooMany', `At most ${MAX_OPERATIONS} operations a request.`);
  return operations.map((raw) => {
    if (!isObject(raw)) throw scimBadRequest('invalidSyntax', 'Each operation must be an object.');
    const op = getAttribute(raw, 'op');
    const path = getAttribute(raw, 'path');
    const name = typeof op === 'string' ? op.toLowerCase() : '';
    if (name !== 'add' && name !== 'replace' && name !== 'remove') throw scimBadRequest('invalidSyntax', `Unknown operation "${String(op)}".`);
    if (path !== undefined && path !== null && typeof path !== 'string') throw scimBadRequest('invalidPath', 'path must be a string.');
    const value = getAttribute(raw, 'value');
    if (name !== 'remove' && value === undefined) throw scimBadRequest('invalidValue', `The "${name}" operation needs a value.`);
    return { op: name, ...(typeof path === 'string' && path.trim() !== '' ? { path } : {}), ...(value !== undefined ? { value } : {}) };
  });
}

/** The key of `object` named `name` in any case; `name` itself when absent. */
function keyIn(object: Json, name: string): string {
  const lower = name.toLowerCase();
  return Object.keys(object).find((k) => k.toLowerCase() === lower) ?? name;
}

/** A multi-valued attribute's element identity: its `value` when it has one, else the whole element. */
const identity = (v: unknown) => JSON.stringify(isObject(v) && getAttribute(v, 'value') !== undefined ? String(getAttribute(v, 'value')).toLowerCase() : v);

function merge(target: unknown, value: unknown): unknown {
  if (isObject(target) && isObject(value)) {
    const out: Json = { ...target };
    for (const [k, v] of Object.entries(value)) {
      // JSON.parse keeps "__proto__" as an own key; assigning it would replace the copy's prototype.
      if (k === '__proto__') throw scimBadRequest('invalidValue', '"__proto__" is not an attribute name.');
      out[keyIn(out, k)] = merge(out[keyIn(out, k)], v);
    }
    return out;
  }
  return value;
}

function addValues(existing: unknown, value: unknown): unknown {
  if (Array.isArray(existing) || Array.isArray(value)) {
    const current = Array.isArray(existing) ? existing : existing === undefined || existing === null ? [] : [existing];
    const added = Array.isArray(value) ? value : [value];
    const seen = new Set(current.map(identity));
    return [...current, ...added.filter((v) => !seen.has(identity(v)) && (seen.add(identity(v)), true))];
  }
  return merge(existing, value);
}

/** An element the filter would match, for `add` through a filter that matches nothing (`type eq "work"` -> `{type: "work"}`). */
function seedFrom(filter: Filter): Json {
  if (filter.op === 'eq' && filter.attr.sub === undefined) return { [filter.attr.name]: filter.value };
  if (filter.op === 'and') return { ...seedFrom(filter.left), ...seedFrom(filter.right) };
  return {};
}

function applyAt(resource: Json, op: PatchOperation['op'], path: PatchPath, value: unknown): void {
  const { attr } = path;
  const key = keyIn(resource, attr.name);
  if (path.filter) {
    const filter = path.filter;
    const list = resource[key];
    const items = Array.isArray(list) ? [...list] : [];
    const hits = items.map((item, i) => (matches(filter, item) ? i : -1)).filter((i) => i >= 0);
    if (op === 'remove') {
      resource[key] =
        path.sub === undefined
          ? items.filter((_, i) => !hits.includes(i))
          : items.map((item, i) => (hits.includes(i) && isObject(item) ? omit(item, path.sub!) : item));
      return;
    }
    if (hits.length === 0) {
      if (op === 'replace' && path.sub === undefined) throw new ScimNoTarget(path);
      items.push(path.sub === undefined ? merge(seedFrom(filter), value) : { ...seedFrom(filter), [path.sub]: value });
    } else {
      for (const i of hits) {
        const item = isObject(items[i]) ? (items[i] as Json) : {};
        items[i] = path.sub === undefined ? merge(item, value) : { ...item, [keyIn(item, path.sub)]: value };
      }
    }
    resource[key] = items;
    return;
  }
  if (attr.sub !== undefined) {
    const parent = isObject(resource[key]) ? { ...(resource[key] as Json) } : {};
    if (op === 'remove') delete parent[keyIn(parent, attr.sub)];
    else {
      const sub = keyIn(parent, attr.sub);
      parent[sub] = op === 'add' ? addValues(parent[sub], value) : value;
    }
    resource[key] = parent;
    return;
  }
  if (op === 'remove') {
    // `remove` of some values of a multi-valued attribute (Entra: members with a value list).
    if (value !== undefined && Array.isArray(resource[key])) {
      const drop = new Set((Array.isArray(value) ? value : [value]).map(identity));
      resource[key] = (resource[key] as unknown[]).filter((v) => !drop.has(identity(v)));
    } else {
      delete resource[key];
    }
    return;
  }
  resource[key] = op === 'add' ? addValues(resource[key], value) : isObject(value) && isObject(resource[key]) ? merge(resource[key], value) : value;
}

function omit(object: Json, name: string): Json {
  const out = { ...object };
  delete out[keyIn(out, name)];
  return out;
}

class ScimNoTarget extends Error {
  constructor(readonly path: PatchPath) {
    super('No value matched the path filter.');
  }
}

/** Applies the operations in order to a copy of `resource`; all or nothing. */
export function applyPatch(resource: Json, operations: readonly PatchOperation[]): Json {
  const out: Json = structuredClone(resource);
  for (const operation of operations) {
    try {
      if (operation.path !== undefined) {
        applyAt(out, operation.op, parsePath(operation.path), operation.value);
        continue;
      }
      if (operation.op === 'remove') throw scimBadRequest('noTarget', 'A remove operation needs a path.');
      if (!isObject(operation.value)) throw scimBadRequest('invalidValue', `A "${operation.op}" without a path takes an object of attributes.`);
      for (const [name, value] of Object.entries(operation.value)) {
        // Entra sends dotted and filtered paths as keys of a path-less value object.
        applyAt(out, operation.op, parsePath(name), value);
      }
    } catch (err) {
      if (err instanceof ScimNoTarget) throw scimBadRequest('noTarget', err.message);
      throw err;
    }
  }
  return out;
}
