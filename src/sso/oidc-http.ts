import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';

/** What openid-client hands its custom fetch (oauth4webapi's CustomFetchOptions). */
export interface OidcFetchOptions {
  method: string;
  headers: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
}
export type OidcFetch = (url: string, options: OidcFetchOptions) => Promise<Response>;

/** Larger answers than this from a provider (metadata, keys, tokens, userinfo) are refused. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
const SOCKET_TIMEOUT_MS = 10_000;

function encodeBody(body: unknown): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  throw new TypeError('unsupported request body for an OIDC provider');
}

/**
 * The HTTP client Warden talks to OIDC providers with: https only, the system's CAs plus an
 * optional extra one (WARDEN_OIDC_CA_FILE, for a private PKI), bounded answers and timeouts.
 */
export function oidcFetch(caFile: string | undefined): OidcFetch {
  const ca = caFile ? [...rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
  const agent = new Agent({ keepAlive: false, ...(ca ? { ca } : {}) });
  return (url, options) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== 'https:') {
        reject(new TypeError('OIDC providers are reached over https only.'));
        return;
      }
      const body = encodeBody(options.body);
      const headers: Record<string, string | number> = { ...options.headers };
      if (body) headers['content-length'] = body.length;
      const req = request(
        target,
        { method: options.method, headers, agent, timeout: SOCKET_TIMEOUT_MS, ...(options.signal ? { signal: options.signal } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('The OIDC provider answered with too large a response.'));
            else chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const out = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              if (Array.isArray(value)) for (const v of value) out.append(name, v);
              else if (value !== undefined) out.set(name, String(value));
            }
            const status = res.statusCode ?? 502;
            const empty = status === 204 || status === 205 || status === 304;
            try {
              resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers: out }));
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('The OIDC provider did not answer in time.')));
      req.on('error', reject);
      req.end(body);
    });
}
