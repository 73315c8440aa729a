import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { completeSsoLogin, SsoLoginRefused, type SsoLoginResult } from '../domain/sso/sso-login.js';
import { findDomainById, hasOidc, type DomainRecord } from '../domain/sso/sso-domains.js';
import { safeEqual } from '../domain/identity/tokens.js';
import type { Database } from '../store/database.js';
import { readOidcClaims } from './oidc-claims.js';
import type { OidcDiscovery } from './oidc-discovery.js';

/** How long a started login may take at the provider before its state expires. */
export const OIDC_REQUEST_TTL_SECONDS = 600;
export const OIDC_REDIRECT_PATH = '/complete/oidc/';

/** Why an OIDC login failed; each becomes an error page and a `sso_login_failed` security event. */
export class OidcLoginFailed extends Error {
  constructor(
    readonly reason: string,
    readonly status: 400 | 403 | 502,
    /** Shown to the person signing in. */
    readonly detail: string,
    readonly domain: DomainRecord | null = null,
    /** For the security event: what the provider or the validation said (never a code or token). */
    readonly diagnostic: string | null = null,
  ) {
    super(detail);
    this.name = 'OidcLoginFailed';
  }
}

/** What a started login keeps in sso_requests until its callback consumes it. */
interface OidcRequestData {
  code_verifier: string;
  nonce: string;
  redirect: string;
}

/** sso_requests ids are shared with SAML: ours are a hash of the state, prefixed. */
const requestId = (state: string) => `oidc:${createHash('sha256').update(state).digest('base64url')}`;

const unknownState = () => new OidcLoginFailed('unknown_state', 400, 'This sign-in response is unknown or was already used. Start again from the login page.');

const unreachable = (domain: DomainRecord, err: unknown) =>
  new OidcLoginFailed('provider_unreachable', 502, 'The identity provider could not be reached. Try again later.', domain, diagnosticOf(err));

export function diagnosticOf(err: unknown): string {
  if (err instanceof client.ResponseBodyError || err instanceof client.AuthorizationResponseError) {
    return `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`.slice(0, 300);
  }
  // openid-client wraps oauth4webapi's error, whose message names the check that failed (the
  // claim, never its value): keep the chain of messages, no cause objects (they hold the claims).
  const messages: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) messages.push(e.message);
  return (messages.length ? messages.join(': ') : String(err)).slice(0, 300);
}

export interface StartedOidcLogin {
  /** The provider's authorization URL to send the browser to. */
  url: string;
  /** The state, also bound to the browser by a cookie. */
  state: string;
}

/**
 * Starts an authorization-code login with PKCE (S256), state and nonce. The verifier and nonce
 * stay in sso_requests (shared by every node) until the callback consumes them once.
 */
export async function startOidcLogin(
  db: Database,
  discovery: OidcDiscovery,
  domain: DomainRecord,
  options: { redirectUri: string; redirect: string; loginHint?: string },
): Promise<StartedOidcLogin> {
  let config: client.Configuration;
  try {
    config = await discovery.configuration(domain);
  } catch (err) {
    throw unreachable(domain, err);
  }
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const data: OidcRequestData = { code_verifier: codeVerifier, nonce, redirect: options.redirect };
  await db.query("DELETE FROM sso_requests WHERE provider = 'oidc' AND expires_at < now()");
  await db.query(
    `INSERT INTO sso_requests (id, domain_id, provider, data, expires_at)
     VALUES ($1, $2, 'oidc', $3::jsonb, now() + make_interval(secs => $4))`,
    [requestId(state), domain.id, JSON.stringify(data), OIDC_REQUEST_TTL_SECONDS],
  );
  const scopes = ['openid', 'email', 'profile'];
  // Providers that keep group membership behind a scope of its own (Keycloak, Okta, …) say so.
  if (config.serverMetadata().scopes_supported?.includes('groups')) scopes.push('groups');
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: scopes.join(' '),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...(options.loginHint ? { login_hint: options.loginHint } : {}),
  });
  return { url: url.href, state };
}

export interface OidcCallback {
  /** The callback URL as the provider redirected to it (public URL + path + the query received). */
  currentUrl: URL;
  /** The state bound to this browser when the login started (its cookie), if any. */
  browserState: string | undefined;
}

/**
 * Completes a login at the redirect URI: consumes the state once, then has openid-client exchange
 * the code (with the PKCE verifier) and validate the ID token (signature, issuer, audience, expiry,
 * nonce), reads the claims and hands the identity to completeSsoLogin.
 */
export async function completeOidcLogin(db: Database, discovery: OidcDiscovery, callback: OidcCallback): Promise<SsoLoginResult & { redirect: string }> {
  const params = callback.currentUrl.searchParams;
  const state = params.get('state');
  if (!state) throw new OidcLoginFailed('missing_state', 400, 'The sign-in response has no state. Start again from the login page.');
  // A response that reaches another browser than the one that started the login (login CSRF, a
  // leaked URL, a link scanner) is refused without spending the state: it stays the starter's.
  if (!callback.browserState || !safeEqual(callback.browserState, state)) {
    const [pending] = await db.query<{ domain_id: string }>("SELECT domain_id FROM sso_requests WHERE id = $1 AND provider = 'oidc'", [requestId(state)]);
    if (!pending) throw unknownState();
    throw new OidcLoginFailed(
      'state_mismatch',
      400,
      'This sign-in was not started in this browser. Start again from the login page.',
      (await findDomainById(db, pending.domain_id)) ?? null,
    );
  }
  const [row] = await db.query<{ domain_id: string; data: OidcRequestData; live: boolean }>(
    `DELETE FROM sso_requests WHERE id = $1 AND provider = 'oidc' RETURNING domain_id, data, expires_at > now() AS live`,
    [requestId(state)],
  );
  if (!row) throw unknownState();
  const domain = (await findDomainById(db, row.domain_id)) ?? null;
  if (!domain || !hasOidc(domain)) {
    throw new OidcLoginFailed('not_configured', 400, 'Single sign-on with OIDC is no longer configured for this domain.', domain);
  }
  if (!row.live) throw new OidcLoginFailed('expired_state', 400, 'This sign-in took too long. Start again from the login page.', domain);
  const providerError = params.get('error');
  if (providerError !== null) {
    const description = params.get('error_description');
    throw new OidcLoginFailed(
      'provider_error',
      400,
      `The identity provider did not sign you in: ${description || providerError}`.slice(0, 500),
      domain,
      `${providerError}${description ? `: ${description}` : ''}`.slice(0, 300),
    );
  }

  let config: client.Configuration;
  try {
    config = await discovery.configuration(domain);
  } catch (err) {
    throw unreachable(domain, err);
  }
  const invalid = (err: unknown) =>
    new OidcLoginFailed(
      'token_validation_failed',
      400,
      'The identity provider’s answer could not be verified. Start again from the login page.',
      domain,
      diagnosticOf(err),
    );
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(config, callback.currentUrl, {
      pkceCodeVerifier: row.data.code_verifier,
      expectedState: state,
      expectedNonce: row.data.nonce,
      idTokenExpected: true,
    });
  } catch (err) {
    throw invalid(err);
  }
  const idClaims = tokens.claims();
  if (!idClaims) throw invalid(new Error('no ID token'));
  const identity = await readOidcClaims(config, tokens.access_token, idClaims, domain.group_attribute).catch((err: unknown) => {
    throw err instanceof OidcLoginFailed ? err : invalid(err);
  });
  if (identity.problem) throw new OidcLoginFailed(identity.problem.reason, 403, identity.problem.detail, domain);

  try {
    const result = await completeSsoLogin(db, { domain, provider: 'oidc', ...identity.identity });
    return { ...result, redirect: row.data.redirect };
  } catch (err) {
    if (err instanceof SsoLoginRefused) throw new OidcLoginFailed(err.reason, 403, err.message, domain);
    throw err;
  }
}
