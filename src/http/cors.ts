import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Cross-origin requests, as PostHog answers them.
 *
 * - The routes PostHog's browser SDK calls (capture, flag evaluation, remote config) take any
 *   origin: `Access-Control-Allow-Origin: *`, never credentials (they take the project token, not
 *   cookies), the request's own headers allowed on a preflight, and `OPTIONS` answered 204.
 * - The management API (`/api/…`) has no CORS, so a page elsewhere cannot read it, unless the
 *   operator lists origins (`WARDEN_CORS_ORIGINS`): those get their origin back, with the
 *   `Authorization` header (personal API keys) and no credentials (cookies stay same-origin).
 */

const SDK_PATHS = new Set(['/flags', '/decide', '/e', '/i/v0/e', '/batch', '/capture']);
const REMOTE_CONFIG = /^\/array\/[^/]+\/config(\.js)?$/;
/**
 * posthog-js asks its api_host for extension scripts (`/static/surveys.js`, even with surveys off).
 * Warden serves none; with CORS the page sees a plain 404 instead of a CORS failure.
 */
const SDK_ASSET = /^\/static\/[^?]*\.js$/;
/** A comma-separated list of header names (RFC 9110 tokens), as browsers send in a preflight. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
const MAX_AGE = '86400';

/** Whether posthog-js calls this path (the query string removed, one trailing slash ignored). */
export function isSdkPath(path: string): boolean {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return SDK_PATHS.has(trimmed) || REMOTE_CONFIG.test(trimmed) || SDK_ASSET.test(trimmed);
}

const isManagementPath = (path: string) => path === '/api' || path.startsWith('/api/');

function requestedHeaders(value: string | string[] | undefined, fallback: string): string {
  return typeof value === 'string' && value.length <= 1000 && HEADER_LIST.test(value.trim()) ? value.trim() : fallback;
}

function preflight(reply: FastifyReply, methods: string, headers: string): FastifyReply {
  return reply
    .header('access-control-allow-methods', methods)
    .header('access-control-allow-headers', headers)
    .header('access-control-max-age', MAX_AGE)
    .header('allow', methods)
    .code(204)
    .send();
}

/**
 * The CORS step of the app's onRequest hook: adds the headers, and answers a preflight itself
 * (then it returns true and the request goes no further).
 */
export function corsStep(allowedOrigins: readonly string[]): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const allowed = new Set(allowedOrigins);
  return (request, reply) => {
    const url = request.url;
    const at = url.indexOf('?');
    const path = at < 0 ? url : url.slice(0, at);
    if (isSdkPath(path)) {
      reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', 'Retry-After, X-Request-Id');
      if (request.method === 'OPTIONS') {
        preflight(reply, 'GET, POST, OPTIONS', requestedHeaders(request.headers['access-control-request-headers'], 'Content-Type'));
        return true;
      }
      return false;
    }
    if (allowed.size === 0) return false;
    const origin = request.headers.origin;
    if (!isManagementPath(path) || typeof origin !== 'string' || !allowed.has(origin)) return false;
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', 'Retry-After, X-Request-Id');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      preflight(reply, 'GET, POST, PUT, PATCH, DELETE, OPTIONS', 'Authorization, Content-Type');
      return true;
    }
    return false;
  };
}
