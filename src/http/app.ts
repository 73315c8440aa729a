import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyInstance } from 'fastify';
import type { WardenConfig } from '../config.js';
import { backgroundChainer } from '../domain/activity/activity-chain.js';
import type { Database } from '../store/database.js';
import type { Deps } from './deps.js';
import { errorBody, HttpError, sendError, toErrorResponse } from './errors.js';
import { recordRefusal } from './refusals.js';
import { guardStep, requireAccessDeclarations } from './guard.js';
import { addSecurityHeaders } from './security-headers.js';
import { loggedRequest } from './log-redaction.js';
import { corsStep } from './cors.js';
import { registerOpenApi } from './openapi.js';
import { installMetrics } from './metrics.js';
import { RateLimiter } from './rate-limits.js';
import { metricsRoutes } from './routes/metrics.js';
import { VERSION } from '../version.js';
import { schemaRoutes } from './routes/schema.js';
import { checkStorableText } from './storable-text.js';
import { allowedMethods, collectRouteTable, type RouteEntry } from './route-table.js';
import { accessControlRoutes } from './routes/access-controls.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { preflightRoutes } from './routes/preflight.js';
import { inviteRoutes } from './routes/invites.js';
import { memberRoutes } from './routes/members.js';
import { organizationRoutes } from './routes/organizations.js';
import { projectMemberRoutes } from './routes/project-members.js';
import { projectRoutes } from './routes/projects.js';
import { serviceAccountRoutes } from './routes/service-accounts.js';
import { userRoutes } from './routes/users.js';
import { twoFactorRoutes } from './routes/two-factor.js';
import { sessionRoutes } from './routes/sessions.js';
import { passkeyRoutes } from './routes/passkeys.js';
import { changeRequestRoutes } from './routes/change-requests.js';
import { accessRequestRoutes } from './routes/access-requests.js';
import { roleRoutes } from './routes/roles.js';
import { sessionRecordingRoutes } from './routes/session-recordings.js';
import { dashboardRoutes } from './routes/dashboards.js';
import { insightRoutes } from './routes/insights.js';
import { eventRoutes } from './routes/events.js';
import { ingestionRoutes } from './routes/ingestion.js';
import { flagEvaluationRoutes } from './routes/flag-evaluation.js';
import { remoteConfigRoutes } from './routes/remote-config.js';
import { featureFlagRoutes } from './routes/feature-flags.js';
import { activityLogRoutes } from './routes/activity-log.js';
import { activitySinkRoutes } from './routes/activity-sinks.js';
import { startActivityJobs } from '../domain/activity/activity-jobs.js';
import { startGrantSweeper } from '../domain/access-control/grant-expiry.js';
import { activityExportEntry } from './serializers/activity-log.js';
import { domainRoutes } from './routes/domains.js';
import { samlRoutes } from './routes/saml.js';
import { oidcRoutes } from './routes/oidc.js';
import { answerScimNotFound, scimFrameworkError, scimRoutes } from './routes/scim.js';
import { accessMatrixRoutes } from './routes/access-matrix.js';
import { consoleRoutes } from './routes/console.js';
import { keyInventoryRoutes } from './routes/key-inventory.js';
import { advancedActivityLogRoutes } from './routes/advanced-activity-logs.js';
import { usersWithAccessRoutes } from './routes/users-with-access.js';
import { accessReviewRoutes } from './routes/access-reviews.js';

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A proxy's X-Request-Id when it is sane, else a fresh uuid. */
function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** A request the HTTP parser refused, answered on the raw socket in PostHog's error shape. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? 431 : 400;
  const body = JSON.stringify(
    tooLarge
      ? errorBody('invalid_request', 'request_header_fields_too_large', 'Request header fields are too large.')
      : errorBody('invalid_request', 'parse_error', 'Malformed HTTP request.'),
  );
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export interface WardenApp {
  app: FastifyInstance;
  routes: readonly RouteEntry[];
}

export async function buildApp(db: Database, config: WardenConfig): Promise<WardenApp> {
  const app = Fastify({
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            serializers: {
              req: loggedRequest,
            },
          },
    bodyLimit: config.bodyLimit,
    // One id per request: in every log line, the X-Request-Id response header and the activity log.
    requestIdHeader: false,
    genReqId: requestId,
    trustProxy: config.trustProxy,
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: false } },
    // Requests Node's HTTP parser refuses (headers too large, malformed) still get PostHog's shape.
    clientErrorHandler: answerClientError,
    // Malformed percent-encoding and over-long path segments are answered by the router itself.
    frameworkErrors: (error, request, reply) => {
      if (scimFrameworkError(error, request, reply)) return;
      const { status, body } = toErrorResponse(error, request);
      void sendError(reply, status, body);
    },
  });
  const limiter = new RateLimiter(db, config.rateLimits);
  const metrics = installMetrics(app, db);
  const deps: Deps = { db, config, metrics: metrics.registry, limiter };
  const routes = collectRouteTable(app);
  requireAccessDeclarations(app);
  // Cookies are parsed in Warden's own onRequest hook (below): one hook turn fewer per request.
  await app.register(cookie, { hook: false });
  await registerOpenApi(app, VERSION);
  // PostHog's API takes JSON; plain text would otherwise be parsed into a string body.
  app.removeContentTypeParser(['text/plain']);
  // One hook per phase, each calling its steps as plain functions (cookies, request id and CORS;
  // guard and text check; security headers; metrics and activity chaining): every hook Fastify runs
  // costs a turn of its hook runner, and an async one a promise.
  const cors = corsStep(config.corsOrigins);
  const guard = guardStep(app, db, limiter);
  // Activity entries are hash-chained after their transaction commits: after every write, and at start.
  const chainer = backgroundChainer(db, (err) => app.log.error({ err }, 'activity chaining failed'));
  app.addHook('onRequest', (request, reply, done) => {
    const cookies = request.headers.cookie;
    // A new object per request, as @fastify/cookie's own hook makes (handlers may add to it).
    request.cookies = cookies ? app.parseCookie(cookies) : {};
    reply.header('x-request-id', request.id);
    // A preflight CORS answers itself: the chain stops there (done is not called).
    if (!cors(request, reply)) done();
  });
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (!access) return;
    await guard(request, access);
    checkStorableText(request);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    addSecurityHeaders(request, reply);
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.recordRequest(request, reply);
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS') chainer.schedule();
    done();
  });
  app.addHook('onClose', () => chainer.stop());
  chainer.schedule();
  // Delivery to activity-log sinks and retention run in the background (src/domain/activity/activity-jobs.ts).
  const activityJobs = startActivityJobs(db, config, app.log, activityExportEntry);
  app.addHook('onClose', () => activityJobs.stop());
  // Expired time-bound grants: removed and logged (src/domain/access-control/grant-expiry.ts).
  const grantSweeper = startGrantSweeper(db, app.log);
  app.addHook('onClose', () => grantSweeper.stop());

  app.setErrorHandler(async (error, request, reply) => {
    await recordRefusal(db, request, error);
    const { status, body } = toErrorResponse(error, request);
    if (error instanceof HttpError) reply.headers(error.headers);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(reply, status, body);
  });
  app.setNotFoundHandler((request, reply) => {
    if (answerScimNotFound(request, reply)) return reply;
    const path = request.url.split('?')[0] ?? '/';
    const allowed = allowedMethods(routes, path);
    // A path the route table knows for this very method but the router refused (a parameter over
    // its length limit) is simply not found; another method of a known path is a 405.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '));
      return sendError(reply, 405, errorBody('invalid_request', 'method_not_allowed', `Method "${request.method}" not allowed.`));
    }
    return sendError(reply, 404, errorBody('invalid_request', 'not_found', 'Not found.'));
  });

  for (const register of [
    healthRoutes,
    preflightRoutes,
    schemaRoutes,
    metricsRoutes,
    authRoutes,
    userRoutes,
    twoFactorRoutes,
    sessionRoutes,
    passkeyRoutes,
    organizationRoutes,
    memberRoutes,
    inviteRoutes,
    projectRoutes,
    projectMemberRoutes,
    apiKeyRoutes,
    serviceAccountRoutes,
    featureFlagRoutes,
    flagEvaluationRoutes,
    remoteConfigRoutes,
    ingestionRoutes,
    eventRoutes,
    insightRoutes,
    dashboardRoutes,
    sessionRecordingRoutes,
    roleRoutes,
    accessControlRoutes,
    changeRequestRoutes,
    accessRequestRoutes,
    activityLogRoutes,
    activitySinkRoutes,
    domainRoutes,
    samlRoutes,
    oidcRoutes,
    scimRoutes,
    accessMatrixRoutes,
    keyInventoryRoutes,
    advancedActivityLogRoutes,
    usersWithAccessRoutes,
    accessReviewRoutes,
    // The admin console last: its catch-all GET answers only what no API route does.
    consoleRoutes,
  ]) {
    register(app, deps);
  }
  await app.ready();
  return { app, routes };
}
