import type { FastifyRequest } from 'fastify';
import { errorBody, HttpError, notFoundBody } from './errors.js';

/** A NUL, or a UTF-16 surrogate without its pair: text Postgres cannot store (and DRF's CharField refuses). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function unstorable(value: string): { code: string; detail: string } | null {
  if (value.includes('\u0000')) return { code: 'null_characters_not_allowed', detail: 'Null characters are not allowed.' };
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate) {
    const hex = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return { code: 'surrogate_characters_not_allowed', detail: `Surrogate characters are not allowed: U+${hex}.` };
  }
  return null;
}

/** Text Postgres can store (the object gate looks an object up by its path parameter before the check below runs). */
export const isStorableText = (value: string): boolean => unstorable(value) === null;

/** Any character that could make text unstorable (a NUL or any surrogate): one scan, no allocation. */
const SUSPECT = /[\u0000\ud800-\udfff]/;

/**
 * Whether a parsed value holds no character that could be unstorable: the cheap walk every request
 * takes (flat parameters and queries are a loop over their values). Only when it finds one does
 * findUnstorable walk again, exactly, naming the path.
 */
function plainlyStorable(root: unknown): boolean {
  if (root === undefined || root === null) return true;
  if (typeof root === 'string') return !SUSPECT.test(root);
  if (typeof root !== 'object') return true;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (SUSPECT.test(value)) return false;
    } else if (value !== null && typeof value === 'object') {
      if (Array.isArray(value)) {
        for (const child of value) stack.push(child);
      } else {
        for (const key in value) if (Object.hasOwn(value, key)) stack.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return true;
}

/** The first unstorable string in a parsed value, with its path as DRF names it (`field__0`). Iterative: bodies may nest deeply. */
function findUnstorable(root: unknown): { attr: string | null; code: string; detail: string } | null {
  type Path = { key: string; parent: Path } | null;
  const stack: Array<[unknown, Path]> = [[root, null]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      const problem = unstorable(value);
      if (!problem) continue;
      const keys: string[] = [];
      for (let p = path; p; p = p.parent) keys.unshift(p.key);
      return { attr: keys.length > 0 ? keys.join('__') : null, ...problem };
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value)) stack.push([child, { key, parent: path }]);
    }
  }
  return null;
}

/**
 * Path parameters, query and body are checked once, after the guard (so callers without access
 * learn nothing) and before any handler could pass such a value to the database: the second step of
 * the app's preValidation hook. A request without a body (every GET, HEAD and OPTIONS) has no body
 * to walk; parameters and query are one regular-expression test per value unless one looks suspect.
 */
export function checkStorableText(request: FastifyRequest): void {
  // The console's catch-all stores nothing; the API paths it is handed (a segment too long for the
  // router) go on to the not-found handler, which answers in their own shape (SCIM's under /scim/v2).
  if (request.routeOptions.url === '/*') return;
  if (!plainlyStorable(request.params) && findUnstorable(request.params)) throw new HttpError(404, notFoundBody());
  rejectUnstorable(request.query);
  rejectUnstorable(request.body);
}

function rejectUnstorable(source: unknown): void {
  if (plainlyStorable(source)) return;
  const problem = findUnstorable(source);
  if (problem) throw new HttpError(400, errorBody('validation_error', problem.code, problem.detail, problem.attr));
}
