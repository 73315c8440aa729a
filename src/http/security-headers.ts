import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every response that does not set its own (the console, the SAML pages and
 * the API docs send stricter ones of their own).
 *
 * - `X-Content-Type-Options: nosniff`: a JSON body is never sniffed into HTML or script.
 * - `X-Frame-Options: DENY` and, on anything but HTML, `Content-Security-Policy: default-src 'none';
 *   frame-ancestors 'none'`: an API response rendered by a browser can load nothing and be framed
 *   nowhere.
 * - `Referrer-Policy: no-referrer`.
 * - `Cache-Control: no-store` on `/api/` answers: they carry per-person data (and shown-once secrets).
 *
 * CORS is src/http/cors.ts: the SDK routes take any origin, the management API only the origins an
 * operator lists.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const set = (name: string, value: string) => {
      if (!reply.hasHeader(name)) reply.header(name, value);
    };
    set('x-content-type-options', 'nosniff');
    set('x-frame-options', 'DENY');
    set('referrer-policy', 'no-referrer');
    const type = String(reply.getHeader('content-type') ?? '');
    if (!type.startsWith('text/html')) set('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    if (request.url.startsWith('/api/') && !request.url.startsWith('/api/schema/')) set('cache-control', 'no-store');
    return payload;
  });
}
