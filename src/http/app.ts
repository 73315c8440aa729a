import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WardenConfig } from '../config.js';
import { backgroundChainer } from '../domain/activity-chain.js';
import type { Database } from '../store/database.js';
import type { Deps } from './deps.js';
import { errorBody, sendError, toErrorResponse } from './errors.js';
import { installGuard, requireAccessDeclarations } from './guard.js';
import { rejectUnstorableText } from './storable-text.js';
import { allowedMethods, collectRouteTable, type RouteEntry } from './route-table.js';
import { accessControlRoutes } from './routes/access-controls.js';
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
import { changeRequestRoutes } from './routes/change-requests.js';
import { roleRoutes } from './routes/roles.js';
import { sessionRecordingRoutes } from './routes/session-recordings.js';
import { dashboardRoutes } from './routes/dashboards.js';
import { insightRoutes } from './routes/insights.js';
import { eventRoutes } from './routes/events.js';
import { ingestionRoutes } from './routes/ingestion.js';
import { flagEvaluationRoutes } from './routes/flag-evaluation.js';
import { featureFlagRoutes } from './routes/feature-flags.js';
import { activityLogRoutes } from './routes/activity-log.js';
import { domainRoutes } from './routes/domains.js';
import { samlRoutes } from './routes/saml.js';
import { oidcRoutes } from './routes/oidc.js';
import { scimRoutes } from './routes/scim.js';

export interface WardenApp {
  app: FastifyInstance;
  routes: readonly RouteEntry[];
}

/** Query parameters that carry secrets and must never reach a log line. */
const SECRET_QUERY = /([?&](?:personal_api_key|token|api_key)=)[^&]*/gi;

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
  rejectUnstorableText(app);
  // Activity entries are hash-chained after their transaction commits: after every write, and at start.
  const chainer = backgroundChainer(db, (err) => app.log.error({ err }, 'activity chaining failed'));
  app.addHook('onResponse', async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') chainer.schedule();
  });
  app.addHook('onClose', () => chainer.stop());
  chainer.schedule();

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
    featureFlagRoutes,
    flagEvaluationRoutes,
    ingestionRoutes,
    eventRoutes,
    insightRoutes,
    dashboardRoutes,
    sessionRecordingRoutes,
    roleRoutes,
    accessControlRoutes,
    changeRequestRoutes,
    activityLogRoutes,
    domainRoutes,
    samlRoutes,
    oidcRoutes,
    scimRoutes,
  ]) {
    register(app, deps);
  }
  await app.ready();
  return { app, routes };
}
