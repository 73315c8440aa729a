import type { FastifyRequest } from 'fastify';

/**
 * What a log line says about a request: its method and URL with every credential Warden accepts in
 * a URL replaced by "[redacted]". Read from the parsed request (the route's parameters, the query
 * as Fastify decoded it), not from the raw text, so an encoding the parser understands
 * (`personal%5Fapi%5Fkey=…`) is redacted as surely as the plain name. Headers (Authorization, the
 * session and CSRF cookies, SCIM bearer tokens) and bodies are never logged at all.
 */

/** Query parameters that authenticate (keys, project tokens) or are one-time secrets (OIDC code and state). */
const SECRET_QUERY = new Set(['personal_api_key', 'token', 'api_key', 'code', 'state', 'access_token', 'id_token', 'password', 'secret', 'client_secret']);
/** Path parameters that are credentials: an invite's id lets its holder join the organization. */
const SECRET_PARAMS = new Set(['invite_id']);
const REDACTED = '[redacted]';

function redactedPath(request: FastifyRequest, rawPath: string): string {
  const pattern = request.routeOptions?.url;
  const params = (request.params ?? {}) as Record<string, unknown>;
  if (!pattern || !Object.keys(params).some((name) => SECRET_PARAMS.has(name))) return rawPath;
  // Rebuild from the route's pattern: the secret parameter never appears, in any encoding.
  return pattern.replace(/:([A-Za-z0-9_]+)/g, (_m, name: string) => (SECRET_PARAMS.has(name) ? REDACTED : encodeURIComponent(String(params[name] ?? ''))));
}

function redactedQuery(request: FastifyRequest, rawQuery: string): string {
  const query = request.query;
  if (query === null || typeof query !== 'object') return rawQuery ? `?${REDACTED}` : '';
  const out = new URLSearchParams();
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    const secret = SECRET_QUERY.has(name.toLowerCase().trim());
    for (const v of Array.isArray(value) ? value : [value]) out.append(name, secret ? REDACTED : String(v));
  }
  const text = out.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED);
  return text ? `?${text}` : '';
}

export function loggedRequest(request: FastifyRequest): { method: string; url: string } {
  const url = request.url ?? '';
  const at = url.indexOf('?');
  const [path, query] = at < 0 ? [url, ''] : [url.slice(0, at), url.slice(at + 1)];
  try {
    return { method: request.method, url: redactedPath(request, path) + redactedQuery(request, query) };
  } catch {
    return { method: request.method, url: `${path.split('/').slice(0, 3).join('/')}/${REDACTED}` };
  }
}
