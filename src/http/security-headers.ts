import type { FastifyReply, FastifyRequest } from 'fastify';

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
const COMMON: ReadonlyArray<readonly [string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
];
const CSP: readonly [string, string] = ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"];
const NO_STORE: readonly [string, string] = ['cache-control', 'no-store'];

/** The four sets, built once: with or without the CSP (HTML or not), with or without no-store (`/api/` or not). */
const SETS = {
  apiJson: [...COMMON, CSP, NO_STORE],
  json: [...COMMON, CSP],
  apiHtml: [...COMMON, NO_STORE],
  html: [...COMMON],
} as const;

/** The app's onSend hook calls it: every header of the set that the route did not set itself. */
export function addSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const type = reply.getHeader('content-type');
  const html = typeof type === 'string' ? type.startsWith('text/html') : String(type ?? '').startsWith('text/html');
  const url = request.url;
  const api = url.startsWith('/api/') && !url.startsWith('/api/schema/');
  const set = api ? (html ? SETS.apiHtml : SETS.apiJson) : html ? SETS.html : SETS.json;
  for (const [name, value] of set) if (!reply.hasHeader(name)) reply.header(name, value);
}
