import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WardenConfig } from '../config.js';
import type { Database } from '../store/database.js';
import type { Deps } from './deps.js';
import { errorBody, HttpError, notFoundBody, sendError, toErrorResponse } from './errors.js';
import { installGuard, requireAccessDeclarations } from './guard.js';
import { allowedMethods, collectRouteTable, type RouteEntry } from './route-table.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { inviteRoutes } from './routes/invites.js';
import { memberRoutes } from './routes/members.js';
import { organizationRoutes } from './routes/organizations.js';
import { projectMemberRoutes } from './routes/project-members.js';
import { projectRoutes } from './routes/projects.js';
import { serviceAccountRoutes } from './routes/service-accounts.js';
import { userRoutes } from './routes/users.js';

export interface WardenApp {
  app: FastifyInstance;
  routes: readonly RouteEntry[];
}

/** Query parameters that carry secrets and must never reach a log line. */
const SECRET_QUERY = /([?&](?:personal_api_key|token|api_key)=)[^&]*/gi;

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
function rejectUnstorableStrings(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (!request.routeOptions.config.access) return;
    if (findUnstorable(request.params)) throw new HttpError(404, notFoundBody());
    for (const source of [request.query, request.body]) {
      const problem = findUnstorable(source);
      if (problem) throw new HttpError(400, errorBody('validation_error', problem.code, problem.detail, problem.attr));
    }
  });
}

export async function buildApp(db: Database, config: WardenConfig): Promise<WardenApp> {
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            serializers: {
              req: (req) => ({ method: req.method, url: req.url.replace(SECRET_QUERY, '$1[redacted]') }),
            },
          },
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: false } },
    // Malformed percent-encoding and over-long path segments are answered by the router itself.
    frameworkErrors: (error, request, reply) => {
      const { status, body } = toErrorResponse(error, request);
      void sendError(reply, status, body);
    },
  });
  const deps: Deps = { db, config };
  const routes = collectRouteTable(app);
  requireAccessDeclarations(app);
  await app.register(cookie);
  // PostHog's API takes JSON; plain text would otherwise be parsed into a string body.
  app.removeContentTypeParser(['text/plain']);
  installGuard(app, db);
  rejectUnstorableStrings(app);

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toErrorResponse(error, request);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(reply, status, body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = allowedMethods(routes, path);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(reply, 405, errorBody('invalid_request', 'method_not_allowed', `Method "${request.method}" not allowed.`));
    }
    return sendError(reply, 404, errorBody('invalid_request', 'not_found', 'Not found.'));
  });

  for (const register of [
    healthRoutes,
    authRoutes,
    userRoutes,
    organizationRoutes,
    memberRoutes,
    inviteRoutes,
    projectRoutes,
    projectMemberRoutes,
    apiKeyRoutes,
    serviceAccountRoutes,
  ]) {
    register(app, deps);
  }
  await app.ready();
  return { app, routes };
}
