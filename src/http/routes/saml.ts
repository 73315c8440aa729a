import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import { DomainError, validation } from '../../domain/errors.js';
import { recordSecurityEvent } from '../../domain/activity/security-events.js';
import { findDomainById, findVerifiedDomainForEmail, hasSaml, type DomainRecord } from '../../domain/sso/sso-domains.js';
import { completeSsoLogin, SsoLoginRefused } from '../../domain/sso/sso-login.js';
import { isUuid } from '../../domain/identity/users.js';
import { authorizeUrl, serviceProviderMetadata, validateSamlResponse } from '../../sso/saml.js';
import { SamlRejected } from '../../sso/saml-errors.js';
import { SAML_REQUEST_TTL_MS } from '../../sso/saml-request-cache.js';
import { clip, decodeSamlResponse, SamlInputError, type SamlEnvelope } from '../../sso/saml-xml.js';
import type { Database } from '../../store/database.js';
import { qb, rows as all } from '../../store/query-builder.js';
import { setSessionCookies, type Deps } from '../deps.js';
import { signInErrorPage } from '../../sso/sign-in-page.js';
import { SamlAcsForm, SamlLoginQuery } from '../schemas/saml.js';
import { Redirect, TextBody } from '../schemas/documents.js';

/**
 * SAML 2.0 single sign-on (PostHog's routes):
 * - GET /login/saml/?email= or ?domain_id= : an AuthnRequest to the domain's IdP (HTTP-Redirect), RelayState = domain id.
 * - POST /complete/saml/ : the assertion consumer service (HTTP-POST binding, form-encoded only).
 * - GET /api/saml/metadata/ : the service provider's metadata. Public, unlike PostHog's (admins
 *   only): it names only the instance's entity id and ACS URL, and IdPs import it by URL.
 */
export function samlRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/login/saml/',
    {
      config: { access: publicRoute },
      schema: { querystring: SamlLoginQuery, response: { 302: Redirect('To the identity provider, with the AuthnRequest') } },
    },
    async (request, reply) => {
      const query = request.query;
      const domain = await loginDomain(db, query);
      let url: string;
      let requestId: string;
      try {
        ({ url, requestId } = await authorizeUrl(db, config, domain));
      } catch (err) {
        request.log.warn({ err, domain_id: domain.id }, 'could not build a SAML AuthnRequest');
        throw validation(
          'SAML single sign-on is misconfigured for this domain. Ask an organization admin to check it.',
          query.email !== undefined ? 'email' : 'domain_id',
        );
      }
      // The response must come back to the browser that asked (login CSRF): it names this request.
      reply.setCookie(REQUEST_COOKIE, requestId, requestCookieOptions(request, config));
      return reply.redirect(url, 302);
    },
  );

  app.get(
    '/api/saml/metadata/',
    { config: { access: publicRoute }, schema: { response: { 200: TextBody('application/xml', "Warden's SAML service provider metadata") } } },
    async (_request, reply) => reply.header('content-type', 'application/xml; charset=utf-8').send(serviceProviderMetadata(config)),
  );

  // The ACS takes only the HTTP-POST binding's form: its own content-type parsers, in its own scope.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      const params = new URLSearchParams(body as string);
      const form: SamlAcsForm = {};
      const response = params.get('SAMLResponse');
      const relayState = params.get('RelayState');
      if (response !== null) form.SAMLResponse = response;
      if (relayState !== null) form.RelayState = relayState;
      done(null, form);
    });
    scope
      .withTypeProvider<TypeBoxTypeProvider>()
      .post(
        '/complete/saml/',
        { config: { access: publicRoute }, schema: { body: SamlAcsForm, response: { 302: Redirect('Signed in: to the console') } } },
        async (request, reply) => acs(db, config, request, reply, request.body ?? {}),
      );
  });
}

/** The SAML request a browser started: its AuthnRequest id, for the ACS only. */
const REQUEST_COOKIE = 'warden_saml_request';
const REQUEST_COOKIE_PATH = '/complete/saml';

/**
 * The IdP posts the response cross-site, which a SameSite=Lax cookie would not follow: over https
 * the cookie is SameSite=None (and Secure); over plain http (development) browsers refuse None
 * without Secure, so the attribute is left to the browser's default.
 */
function requestCookieOptions(request: FastifyRequest, config: Deps['config']) {
  const secure = config.secureCookies === 'always' || (config.secureCookies === 'auto' && request.protocol === 'https');
  return {
    path: REQUEST_COOKIE_PATH,
    httpOnly: true,
    secure,
    maxAge: SAML_REQUEST_TTL_MS / 1000,
    ...(secure ? { sameSite: 'none' as const } : {}),
  };
}

async function loginDomain(db: Database, query: SamlLoginQuery): Promise<DomainRecord> {
  if (query.domain_id !== undefined) {
    const domain = await findDomainById(db, query.domain_id.trim());
    if (!domain?.verified_at || !hasSaml(domain)) throw validation('SAML single sign-on is not configured for this domain.', 'domain_id');
    return domain;
  }
  if (query.email === undefined || query.email.trim() === '') throw validation('This field is required.', 'email', 'required');
  const domain = await findVerifiedDomainForEmail(db, query.email);
  if (!domain || !hasSaml(domain)) {
    throw validation('SAML single sign-on is not configured for the domain of this email address.', 'email', 'saml_not_configured');
  }
  return domain;
}

async function acs(db: Database, config: Deps['config'], request: FastifyRequest, reply: FastifyReply, form: SamlAcsForm): Promise<FastifyReply> {
  let envelope: SamlEnvelope | undefined;
  let domain: DomainRecord | undefined;
  try {
    if (typeof form.SAMLResponse !== 'string' || form.SAMLResponse.length === 0) {
      throw new SamlRejected('malformed_response', 'no SAMLResponse field');
    }
    try {
      envelope = decodeSamlResponse(form.SAMLResponse);
    } catch (err) {
      if (err instanceof SamlInputError) throw new SamlRejected(err.reason, err.message);
      throw err;
    }
    // An answer to a request Warden made must reach the browser that made it; an unsolicited one
    // (IdP-initiated, when the domain allows it) names no request.
    const browserRequest = request.cookies[REQUEST_COOKIE];
    domain = await responseDomain(db, form.RelayState, envelope);
    if (!domain) throw new SamlRejected('unknown_domain', 'no domain for this RelayState / request / issuer');
    if (!domain.verified_at) throw new SamlRejected('domain_not_verified', 'domain not verified');
    if (!hasSaml(domain)) throw new SamlRejected('saml_not_configured', 'domain has no SAML configuration');
    const identity = await validateSamlResponse(db, config, domain, envelope, form.SAMLResponse, browserRequest);
    // Only an accepted answer ends the browser's request: a refused one (forged, say, and posted by
    // another site's form) leaves the browser able to finish its own login.
    if (envelope.inResponseTo) reply.clearCookie(REQUEST_COOKIE, { path: REQUEST_COOKIE_PATH });
    const result = await completeSsoLogin(db, {
      domain,
      provider: 'saml',
      subject: identity.nameId,
      email: identity.email,
      ...(identity.firstName !== undefined ? { firstName: identity.firstName } : {}),
      ...(identity.lastName !== undefined ? { lastName: identity.lastName } : {}),
      groups: identity.groups,
    });
    setSessionCookies(reply, request, config, result.session);
    return reply.redirect('/', 302);
  } catch (err) {
    let status: number;
    let message: string;
    let reason: string;
    let detail: string | null = null;
    if (err instanceof SamlRejected) {
      ({ status, message, reason, detail } = err);
    } else if (err instanceof SsoLoginRefused) {
      [status, message, reason] = [403, err.message, err.reason];
    } else if (err instanceof DomainError) {
      [status, message, reason] = [err.kind === 'validation' ? 400 : 403, err.message, err.code];
    } else {
      request.log.error({ err }, 'SAML login failed unexpectedly');
      [status, message, reason] = [500, 'Something went wrong while signing you in. Please try again.', 'internal_error'];
    }
    // A response refused before its domain was known is still recorded in the organization its RelayState names.
    if (!domain && form.RelayState && isUuid(form.RelayState.trim())) domain = await findDomainById(db, form.RelayState.trim()).catch(() => undefined);
    await recordSecurityEvent(
      db,
      {
        activity: 'sso_login_failed',
        organizationId: domain?.organization_id ?? null,
        userId: null,
        name: domain ? `SAML login to ${domain.domain} refused` : 'SAML login refused',
        context: {
          provider: 'saml',
          reason,
          domain: domain?.domain ?? null,
          domain_id: domain?.id ?? null,
          issuer: clip(envelope?.issuer),
          response_id: clip(envelope?.id, 100),
          in_response_to: clip(envelope?.inResponseTo, 100),
          ...(detail ? { detail: clip(detail, 300) } : {}),
        },
      },
      request.log,
    );
    return signInErrorPage(reply, status, message);
  }
}

/**
 * Which domain's configuration a response is checked against: the RelayState's domain id (as
 * PostHog does); else the domain of the request it answers; else, for IdP-initiated logins
 * without RelayState, the one verified domain with that IdP entity id and IdP-initiated login on.
 * Nothing here is trusted: the domain's certificates then decide.
 */
async function responseDomain(db: Database, relayState: string | undefined, envelope: SamlEnvelope): Promise<DomainRecord | undefined> {
  const relay = relayState?.trim();
  if (relay && isUuid(relay)) return findDomainById(db, relay);
  if (envelope.inResponseTo && envelope.inResponseTo.length <= 200) {
    const [row] = await db.query<{ domain_id: string }>(`SELECT domain_id FROM sso_requests WHERE id = $1 AND provider = 'saml'`, [envelope.inResponseTo]);
    return row ? findDomainById(db, row.domain_id) : undefined;
  }
  if (envelope.issuer && envelope.issuer.length <= 1000) {
    const rows = await all(
      db,
      qb
        .selectFrom('organization_domains')
        .selectAll()
        .where('saml_entity_id', '=', envelope.issuer)
        .where('verified_at', 'is not', null)
        .where((eb) => eb.ref('saml_idp_initiated_enabled'))
        .limit(2),
    );
    return rows.length === 1 ? rows[0] : undefined;
  }
  return undefined;
}
