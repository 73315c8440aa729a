import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import type { Deps } from '../deps.js';
import { TextBody } from '../schemas/documents.js';

/**
 * The admin console (console/, built by `npm run build` into dist/console): its files at `/`, and
 * index.html for any other GET that asks for a page (the console routes in the browser). The API's
 * paths keep their JSON 404 and 405 answers: the not-found handler answers them.
 */

/** dist/console, from src/http/routes (tests) or dist/http/routes (the built server). */
export const CONSOLE_DIR = resolve(import.meta.dirname, '../../../dist/console');

const API_PREFIXES = ['/api', '/scim', '/login', '/complete', '/flags', '/decide', '/capture', '/batch', '/e', '/i', '/array', '/_health'];

export function isApiPath(path: string): boolean {
  const lower = path.toLowerCase();
  return API_PREFIXES.some((p) => lower === p || lower.startsWith(`${p}/`));
}

/**
 * The console's own responses: no inline scripts or styles, no framing, no sniffing, and the
 * referrer kept to this site (tokens never appear in the console's URLs, but links leave it).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
}

/** Every file of the built console, as URL paths ("/assets/index-abc.js"): nothing else is served. */
function builtFiles(dir: string): Set<string> {
  const files = new Set<string>();
  if (!existsSync(dir)) return files;
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const full = join(at, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.add(`/${relative(dir, full).split(sep).join('/')}`);
    }
  };
  walk(dir);
  return files;
}

const acceptsHtml = (request: FastifyRequest) => /\btext\/html\b/i.test(String(request.headers.accept ?? ''));

export function consoleRoutes(app: FastifyInstance, _deps: Deps): void {
  const files = builtFiles(CONSOLE_DIR);
  const hasIndex = files.has('/index.html');

  // In its own scope: @fastify/static decorates the reply, which other plugins may also do in theirs.
  void app.register(async (scope) => {
    await scope.register(fastifyStatic, { root: CONSOLE_DIR, serve: false, index: false, dotfiles: 'deny' });

    const page = (reply: FastifyReply) =>
      securityHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').sendFile('index.html', { cacheControl: false });

    const handler = async (request: FastifyRequest, reply: FastifyReply) => {
      let path: string;
      try {
        path = decodeURIComponent((request.url.split('?')[0] ?? '/').replace(/\/{2,}/g, '/'));
      } catch {
        return reply.callNotFound();
      }
      if (isApiPath(path)) return reply.callNotFound();
      if (path !== '/index.html' && files.has(path)) {
        const immutable = path.startsWith('/assets/');
        return securityHeaders(reply)
          .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
          .sendFile(path.slice(1), { cacheControl: false });
      }
      if (hasIndex && (path === '/' || (acceptsHtml(request) && !path.startsWith('/assets/')))) return page(reply);
      return reply.callNotFound();
    };

    const schema = { response: { 200: TextBody('text/html', 'The admin console (its page, scripts and styles)') } };
    scope.get('/', { config: { access: publicRoute }, schema }, handler);
    scope.get('/*', { config: { access: publicRoute }, schema }, handler);
  });
}
