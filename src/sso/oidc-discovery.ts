import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { DomainRecord } from '../domain/sso/sso-domains.js';
import type { OidcFetch } from './oidc-http.js';

/** How long a provider's discovered metadata (and the signing keys fetched with it) is reused. */
export const DISCOVERY_TTL_MS = 10 * 60_000;
const MAX_ENTRIES = 500;
/** Seconds openid-client gives each request to a provider. */
const REQUEST_TIMEOUT_S = 10;

interface Entry {
  expiresAt: number;
  configuration: Promise<client.Configuration>;
}

/**
 * openid-client configurations, one per (issuer, client id, client secret), built from the issuer's
 * discovery document and kept for DISCOVERY_TTL_MS, so logins do not fetch metadata and keys each
 * time; a changed issuer or credential is a new entry. A failed discovery is not kept.
 */
export class OidcDiscovery {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly fetch: OidcFetch,
    private readonly now: () => number = Date.now,
  ) {}

  configuration(domain: DomainRecord): Promise<client.Configuration> {
    const issuer = domain.oidc_issuer ?? '';
    const clientId = domain.oidc_client_id ?? '';
    const secret = domain.oidc_client_secret ?? '';
    const key = [issuer, clientId, createHash('sha256').update(secret).digest('hex')].join('\n');
    const cached = this.entries.get(key);
    if (cached && cached.expiresAt > this.now()) return cached.configuration;
    this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const configuration = this.discover(issuer, clientId, secret);
    this.entries.set(key, { expiresAt: this.now() + DISCOVERY_TTL_MS, configuration });
    configuration.catch(() => {
      if (this.entries.get(key)?.configuration === configuration) this.entries.delete(key);
    });
    return configuration;
  }

  private async discover(issuer: string, clientId: string, secret: string): Promise<client.Configuration> {
    const options = { [client.customFetch]: this.fetch, timeout: REQUEST_TIMEOUT_S };
    const discovered = await client.discovery(new URL(issuer), clientId, undefined, client.None(), options);
    const metadata = discovered.serverMetadata();
    const configuration = new client.Configuration(metadata, clientId, secret ? { client_secret: secret } : {}, clientAuth(metadata, secret));
    configuration[client.customFetch] = this.fetch;
    configuration.timeout = REQUEST_TIMEOUT_S;
    // The ID token comes straight from the token endpoint over TLS; its signature is checked against
    // the issuer's keys as well.
    client.enableNonRepudiationChecks(configuration);
    return configuration;
  }
}

/** client_secret_basic (the spec's default) unless the provider only takes client_secret_post; no secret: a public client with PKCE. */
function clientAuth(metadata: client.ServerMetadata, secret: string): client.ClientAuth {
  if (!secret) return client.None();
  const methods = metadata.token_endpoint_auth_methods_supported;
  if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) return client.ClientSecretPost(secret);
  return client.ClientSecretBasic(secret);
}
