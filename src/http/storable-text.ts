import type { FastifyInstance } from 'fastify';
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
 * learn nothing) and before any handler could pass such a value to the database.
 */
export function rejectUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (!request.routeOptions.config.access) return;
    // The console's catch-all stores nothing; the API paths it is handed (a segment too long for the
    // router) go on to the not-found handler, which answers in their own shape (SCIM's under /scim/v2).
    if (request.routeOptions.url === '/*') return;
    if (findUnstorable(request.params)) throw new HttpError(404, notFoundBody());
    for (const source of [request.query, request.body]) {
      const problem = findUnstorable(source);
      if (problem) throw new HttpError(400, errorBody('validation_error', problem.code, problem.detail, problem.attr));
    }
  });
}
