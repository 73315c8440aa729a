import { generateServiceProviderMetadata, SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml';
import type { WardenConfig } from '../config.js';
import type { DomainRecord } from '../domain/sso/sso-domains.js';
import type { Database } from '../store/database.js';
import { readAssertion, type SamlAssertionIdentity } from './saml-assertion.js';
import { splitCertificates } from './saml-certificates.js';
import { classifyNodeSamlError, SamlRejected } from './saml-errors.js';
import { rememberAssertion } from './saml-replay.js';
import { SAML_REQUEST_TTL_MS, SamlRequestCache } from './saml-request-cache.js';
import type { SamlEnvelope } from './saml-xml.js';

/** Accepted clock difference with IdPs, for NotBefore / NotOnOrAfter (a code constant on purpose). */
export const SAML_CLOCK_SKEW_MS = 60_000;

/** Warden as a SAML service provider: one for the instance; the domain travels in RelayState. */
export interface ServiceProvider {
  entityId: string;
  acsUrl: string;
}

export function serviceProvider(config: Pick<WardenConfig, 'publicUrl'>): ServiceProvider {
  const base = config.publicUrl.replace(/\/+$/, '');
  return { entityId: `${base}/api/saml/metadata/`, acsUrl: `${base}/complete/saml/` };
}

/** The SP metadata an IdP administrator imports: entity id, ACS (HTTP-POST), signed assertions wanted. */
export function serviceProviderMetadata(config: Pick<WardenConfig, 'publicUrl'>): string {
  const sp = serviceProvider(config);
  return generateServiceProviderMetadata({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    wantAssertionsSigned: true,
    identifierFormat: null,
  });
}

/**
 * node-saml for one domain. Both the response and its assertion must be signed by one of the
 * domain's certificates (all of them, for rotation); InResponseTo must name a request we issued
 * for this domain ('always'), except that a domain with IdP-initiated login enabled also accepts
 * a response without one ('ifPresent': one that names a request must still name ours).
 */
function samlFor(domain: DomainRecord, sp: ServiceProvider, cache: SamlRequestCache): SAML {
  const certificates = splitCertificates(domain.saml_x509_cert);
  if (certificates.length === 0) throw new SamlRejected('saml_not_configured', 'no readable certificate configured');
  return new SAML({
    entryPoint: domain.saml_acs_url ?? undefined,
    issuer: sp.entityId,
    audience: sp.entityId,
    callbackUrl: sp.acsUrl,
    idpCert: certificates,
    idpIssuer: domain.saml_entity_id ?? undefined,
    wantAssertionsSigned: true,
    wantAuthnResponseSigned: true,
    acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
    validateInResponseTo: domain.saml_idp_initiated_enabled ? ValidateInResponseTo.ifPresent : ValidateInResponseTo.always,
    requestIdExpirationPeriodMs: SAML_REQUEST_TTL_MS,
    cacheProvider: cache,
    identifierFormat: null,
    disableRequestedAuthnContext: true,
    signatureAlgorithm: 'sha256',
  });
}

/**
 * The IdP URL to send the browser to: an AuthnRequest (HTTP-Redirect binding), remembered for
 * InResponseTo, RelayState = domain id; and the request's id, which the caller binds to the browser.
 */
export async function authorizeUrl(db: Database, config: WardenConfig, domain: DomainRecord): Promise<{ url: string; requestId: string }> {
  const cache = new SamlRequestCache(db, domain.id);
  const saml = samlFor(domain, serviceProvider(config), cache);
  const url = await saml.getAuthorizeUrlAsync(domain.id, undefined, {});
  if (!cache.lastSaved) throw new Error('the AuthnRequest was not remembered');
  return { url, requestId: cache.lastSaved };
}

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

/**
 * Validates a posted SAMLResponse for a domain with node-saml, then the profile checks node-saml
 * leaves to its caller, then the browser binding (`browserRequest`: the request id this browser's
 * cookie names), then single use: the request it answers is consumed and the assertion id goes
 * into the replay cache. Throws SamlRejected for every refusal.
 */
export async function validateSamlResponse(
  db: Database,
  config: WardenConfig,
  domain: DomainRecord,
  envelope: SamlEnvelope,
  samlResponse: string,
  browserRequest: string | undefined,
): Promise<SamlAssertionIdentity> {
  const sp = serviceProvider(config);
  if (envelope.rootName !== 'Response') throw new SamlRejected('malformed_response', `root element ${envelope.rootName}`);
  if (!envelope.inResponseTo && !domain.saml_idp_initiated_enabled) {
    throw new SamlRejected('idp_initiated_disabled', 'unsolicited response, IdP-initiated login disabled');
  }
  // The signatures cover their own algorithm names: a document that names SHA-1 anywhere would be
  // verified with it. Refused unless the domain opted in (docs: SSO, SHA-1).
  if (envelope.usesSha1 && !domain.saml_allow_sha1) throw new SamlRejected('weak_algorithm', 'SHA-1 signature or digest');
  const cache = new SamlRequestCache(db, domain.id);
  const saml = samlFor(domain, sp, cache);
  let profile: Profile | null;
  try {
    ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SamlRejected(classifyNodeSamlError(message), message.slice(0, 300));
  }
  if (!profile) throw new SamlRejected('missing_assertion', 'no profile');

  // The response root was verified (wantAuthnResponseSigned): its attributes are signed.
  if (envelope.destination !== sp.acsUrl) throw new SamlRejected('wrong_destination', 'Destination is not our ACS URL');
  if (envelope.issuer !== null && envelope.issuer !== domain.saml_entity_id) throw new SamlRejected('wrong_issuer', 'response issuer differs');
  if (envelope.statusCode !== SUCCESS) throw new SamlRejected('idp_error', `status ${envelope.statusCode ?? 'missing'}`);

  const identity = readAssertion(profile, {
    idpEntityId: domain.saml_entity_id ?? '',
    acsUrl: sp.acsUrl,
    inResponseTo: envelope.inResponseTo,
    groupAttribute: domain.group_attribute || 'groups',
    skewMs: SAML_CLOCK_SKEW_MS,
  });
  // A genuine answer to a request this browser did not start (login CSRF, a leaked response) is
  // refused before anything is used up: the request stays the starter's, who can still complete it.
  if (envelope.inResponseTo && browserRequest !== envelope.inResponseTo) {
    throw new SamlRejected('other_browser', browserRequest ? 'the browser started another request' : 'no request cookie in this browser');
  }
  if (envelope.inResponseTo && !(await cache.consume(envelope.inResponseTo))) {
    throw new SamlRejected('in_response_to', 'request already consumed by another response, or expired');
  }
  const keepUntil = new Date(identity.notOnOrAfter.getTime() + SAML_CLOCK_SKEW_MS);
  if (!(await rememberAssertion(db, domain.id, identity.assertionId, keepUntil))) {
    throw new SamlRejected('replayed_assertion', 'assertion id already used');
  }
  return identity;
}
