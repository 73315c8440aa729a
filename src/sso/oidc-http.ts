import { readFileSync } from 'node:fs';
import { outboundFetch, type OutboundFetch } from '../net/outbound-fetch.js';
import type { OutboundPolicy } from '../net/outbound-policy.js';

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
const TIMEOUT_MS = 10_000;

/**
 * The HTTP client Warden talks to OIDC providers with (discovery, keys, token, userinfo): the
 * instance's outbound client (https, no internal addresses unless the operator allows them), with
 * the system's CAs plus an optional extra one (WARDEN_OIDC_CA_FILE, for a private PKI).
 */
export function oidcFetch(policy: OutboundPolicy, caFile: string | undefined): OidcFetch {
  const send: OutboundFetch = outboundFetch(policy, {
    maxBytes: MAX_RESPONSE_BYTES,
    timeoutMs: TIMEOUT_MS,
    ...(caFile ? { ca: readFileSync(caFile, 'utf8') } : {}),
  });
  return (url, options) => send(url, options);
}
