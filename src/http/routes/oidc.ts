import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import { recordSecurityEvent } from '../../domain/activity/security-events.js';
import { findDomainById, findVerifiedDomainForEmail, hasOidc, type DomainRecord } from '../../domain/sso/sso-domains.js';
import { completeOidcLogin, OIDC_REDIRECT_PATH, OIDC_REQUEST_TTL_SECONDS, OidcLoginFailed, startOidcLogin } from '../../sso/oidc.js';
import { OidcDiscovery } from '../../sso/oidc-discovery.js';
import { oidcFetch } from '../../sso/oidc-http.js';
import { outboundPolicy } from '../../net/outbound-policy.js';
import { callbackHeaders, signInErrorPage, wantsHtml } from '../../sso/sign-in-page.js';
import { setSessionCookies, type Deps } from '../deps.js';
import { errorBody, HttpError, sendError } from '../errors.js';
import { OidcCallbackQuery, OidcLoginQuery } from '../schemas/oidc.js';
import { Redirect } from '../schemas/documents.js';

/** Binds a started login to the browser that started it (login CSRF): its state, for the callback only. */
const STATE_COOKIE = 'warden_oidc_state';
const STATE_COOKIE_PATH = OIDC_REDIRECT_PATH.replace(/\/$/, '');

/** Only a path on this site (not `//host` or `/\host`), percent-encoded for the Location header; else the home page. */
function localPath(next: string | undefined): string {
  if (!next?.startsWith('/')) return '/';
  const base = 'http://warden.invalid';
  try {
    const url = new URL(next, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}

const notConfigured = (attr: 'email' | 'domain_id') => validation('Single sign-on with OIDC is not configured for this domain.', attr, 'oidc_not_configured');

export function oidcRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const discovery = new OidcDiscovery(oidcFetch(outboundPolicy(config.outboundAllow), config.oidcCaFile));
  const redirectUri = () => `${config.publicUrl}${OIDC_REDIRECT_PATH}`;
  const secure = (request: FastifyRequest) => config.secureCookies === 'always' || (config.secureCookies === 'auto' && request.protocol === 'https');

  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/login/oidc/',
    {
      config: { access: publicRoute },
      schema: { querystring: OidcLoginQuery, response: { 302: Redirect('To the identity provider') } },
      exposeHeadRoute: false,
    },
    async (request, reply) => {
      const query = request.query;
      let domain: DomainRecord | undefined;
      const attr = query.email !== undefined ? 'email' : 'domain_id';
      if (query.email !== undefined) {
        domain = await findVerifiedDomainForEmail(db, query.email);
      } else if (query.domain_id !== undefined) {
        domain = await findDomainById(db, query.domain_id);
      } else {
        throw validation('This field is required.', 'email', 'required');
      }
      if (!domain?.verified_at || !hasOidc(domain)) throw notConfigured(attr);
      try {
        const started = await startOidcLogin(db, discovery, domain, {
          redirectUri: redirectUri(),
          redirect: localPath(query.next),
          ...(query.email ? { loginHint: query.email.trim() } : {}),
        });
        reply.setCookie(STATE_COOKIE, started.state, {
          path: STATE_COOKIE_PATH,
          httpOnly: true,
          sameSite: 'lax',
          secure: secure(request),
          maxAge: OIDC_REQUEST_TTL_SECONDS,
        });
        return callbackHeaders(reply).redirect(started.url, 302);
      } catch (err) {
        if (err instanceof OidcLoginFailed) throw new HttpError(err.status, errorBody('server_error', err.reason, err.detail));
        throw err;
      }
    },
  );

  // No HEAD twin: a HEAD (link scanners) must not spend a state.
  const callbackOptions = {
    config: { access: publicRoute },
    schema: { querystring: OidcCallbackQuery, response: { 302: Redirect('Signed in: to the console') } },
    exposeHeadRoute: false,
  };
  api.get(OIDC_REDIRECT_PATH, callbackOptions, async (request, reply) => {
    // The browser's state is spent by this answer, whatever it is; another login's is left alone.
    const browserState = request.cookies[STATE_COOKIE];
    if (browserState && browserState === request.query.state) {
      reply.clearCookie(STATE_COOKIE, { path: STATE_COOKIE_PATH });
    }
    const currentUrl = new URL(redirectUri());
    currentUrl.search = new URL(request.url, 'http://callback.invalid').search;
    try {
      const result = await completeOidcLogin(db, discovery, { currentUrl, browserState });
      setSessionCookies(reply, request, config, result.session);
      return callbackHeaders(reply).redirect(result.redirect, 302);
    } catch (err) {
      if (!(err instanceof OidcLoginFailed)) throw err;
      return failed(request, reply, err);
    }
  });

  async function failed(request: FastifyRequest, reply: FastifyReply, err: OidcLoginFailed): Promise<FastifyReply> {
    const { domain } = err;
    await recordSecurityEvent(
      db,
      {
        activity: 'sso_login_failed',
        organizationId: domain?.organization_id ?? null,
        userId: null,
        itemId: domain?.id ?? null,
        name: domain ? `OIDC sign-in to ${domain.domain} failed` : 'OIDC sign-in failed',
        context: { reason: err.reason, domain: domain?.domain ?? null, provider: 'oidc', ...(err.diagnostic ? { error: err.diagnostic } : {}) },
      },
      request.log,
    );
    if (wantsHtml(request)) return signInErrorPage(reply, err.status, err.detail);
    const type = err.status === 403 ? 'authentication_error' : err.status === 502 ? 'server_error' : 'invalid_request';
    return sendError(callbackHeaders(reply), err.status, errorBody(type, err.reason, err.detail));
  }
}
