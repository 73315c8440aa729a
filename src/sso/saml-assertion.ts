import type { Profile } from '@node-saml/node-saml';
import { SamlRejected } from './saml-errors.js';

/**
 * What Warden reads from an assertion node-saml has verified. Everything comes from
 * `profile.getAssertion()`, the assertion parsed from the signed bytes, never from the posted document.
 * node-saml checks signatures, time conditions, audience and InResponseTo; the SAML 2.0 Web SSO
 * profile checks it leaves out (issuer, bearer confirmation, Recipient) are made here.
 */
export interface SamlAssertionIdentity {
  assertionId: string;
  nameId: string;
  email: string;
  firstName?: string;
  lastName?: string;
  groups: string[] | null;
  /** When the assertion stops being valid: the replay cache keeps its id until then. */
  notOnOrAfter: Date;
}

type XmlNode = { $?: Record<string, string>; _?: string } & Record<string, unknown>;

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const TRANSIENT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:transient';
const MAX_GROUPS = 500;

const EMAIL_ATTRIBUTES = [
  'email',
  'Email',
  'mail',
  'emailAddress',
  'emailaddress',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress',
  'urn:oid:0.9.2342.19200300.100.1.3',
];
const FIRST_NAME_ATTRIBUTES = [
  'first_name',
  'firstName',
  'given_name',
  'givenName',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname',
  'urn:oid:2.5.4.42',
];
const LAST_NAME_ATTRIBUTES = [
  'last_name',
  'lastName',
  'family_name',
  'surname',
  'sn',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname',
  'urn:oid:2.5.4.4',
];
const FULL_NAME_ATTRIBUTES = ['full_name', 'name', 'displayName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

const children = (node: unknown, name: string): XmlNode[] => {
  const value = node && typeof node === 'object' ? (node as Record<string, unknown>)[name] : undefined;
  return Array.isArray(value) ? (value.filter((v) => v && typeof v === 'object') as XmlNode[]) : [];
};
const text = (node: XmlNode | undefined): string => (typeof node?._ === 'string' ? node._.trim() : '');
const attr = (node: XmlNode | undefined, name: string): string | undefined => {
  const value = node?.$?.[name];
  return typeof value === 'string' ? value : undefined;
};

function timestamp(value: string | undefined, what: string): number | null {
  if (value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new SamlRejected('invalid_response', `unparseable ${what}`);
  return ms;
}

export interface AssertionExpectations {
  /** The IdP entity id configured for the domain. */
  idpEntityId: string;
  /** Warden's ACS URL. */
  acsUrl: string;
  /** The response's InResponseTo (the verified root's), or null for an IdP-initiated response. */
  inResponseTo: string | null;
  /** The attribute that carries the user's groups. */
  groupAttribute: string;
  skewMs: number;
}

export function readAssertion(profile: Profile, expect: AssertionExpectations): SamlAssertionIdentity {
  const parsed = profile.getAssertion?.() as { Assertion?: XmlNode } | undefined;
  const assertion = parsed?.Assertion;
  if (!assertion) throw new SamlRejected('missing_assertion', 'no signed assertion');

  const assertionId = attr(assertion, 'ID') ?? '';
  if (!assertionId || assertionId.length > 256) throw new SamlRejected('invalid_response', 'assertion ID missing or too long');

  const issuer = text(children(assertion, 'Issuer')[0]);
  if (issuer !== expect.idpEntityId) throw new SamlRejected('wrong_issuer', 'assertion issuer does not match the configured entity id');

  const subject = children(assertion, 'Subject')[0];
  const nameIdNode = children(subject, 'NameID')[0];
  const nameId = text(nameIdNode);
  if (!nameId) throw new SamlRejected('missing_name_id', 'no NameID in the signed assertion');
  if (nameId.length > 400) throw new SamlRejected('invalid_attributes', 'NameID too long');
  if (attr(nameIdNode, 'Format') === TRANSIENT) throw new SamlRejected('unsupported_name_id', 'transient NameID');

  // Web SSO profile: a bearer SubjectConfirmation whose data names our ACS as Recipient and has a NotOnOrAfter.
  const expiries: number[] = [];
  const confirmations = children(subject, 'SubjectConfirmation');
  const bearer = confirmations.filter((c) => attr(c, 'Method') === BEARER);
  if (bearer.length === 0) throw new SamlRejected('subject_confirmation', 'no bearer subject confirmation');
  for (const confirmation of bearer) {
    const data = children(confirmation, 'SubjectConfirmationData')[0];
    if (!data) throw new SamlRejected('subject_confirmation', 'bearer confirmation without data');
    if (attr(data, 'Recipient') !== expect.acsUrl) throw new SamlRejected('wrong_recipient', 'Recipient is not our ACS URL');
    const notOnOrAfter = timestamp(attr(data, 'NotOnOrAfter'), 'NotOnOrAfter');
    if (notOnOrAfter === null) throw new SamlRejected('subject_confirmation', 'bearer confirmation without NotOnOrAfter');
    if (Date.now() - expect.skewMs >= notOnOrAfter) throw new SamlRejected('expired', 'subject confirmation expired');
    const notBefore = timestamp(attr(data, 'NotBefore'), 'NotBefore');
    if (notBefore !== null && Date.now() + expect.skewMs < notBefore) throw new SamlRejected('not_yet_valid', 'subject confirmation not yet valid');
    expiries.push(notOnOrAfter);
    const confirmedRequest = attr(data, 'InResponseTo');
    if (confirmedRequest !== undefined && confirmedRequest !== expect.inResponseTo) {
      throw new SamlRejected('in_response_to', 'SubjectConfirmationData InResponseTo differs from the response');
    }
  }
  for (const conditions of children(assertion, 'Conditions')) {
    const notOnOrAfter = timestamp(attr(conditions, 'NotOnOrAfter'), 'NotOnOrAfter');
    if (notOnOrAfter !== null) expiries.push(notOnOrAfter);
  }

  const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
  const first = (names: string[]) => {
    for (const name of names) {
      const value = attributes[name];
      const candidate = Array.isArray(value) ? value.find((v) => typeof v === 'string') : value;
      if (typeof candidate === 'string' && candidate.trim()) return candidate.trim();
    }
    return undefined;
  };
  const email = first(EMAIL_ATTRIBUTES) ?? (nameId.includes('@') ? nameId : undefined);
  if (!email) throw new SamlRejected('invalid_attributes', 'no email attribute and the NameID is not an email');
  if (email.length > 254 || email.indexOf('@') < 1 || /\s/.test(email)) throw new SamlRejected('invalid_attributes', 'email is not an email address');

  let firstName = first(FIRST_NAME_ATTRIBUTES);
  let lastName = first(LAST_NAME_ATTRIBUTES);
  if (!firstName && !lastName) {
    const full = first(FULL_NAME_ATTRIBUTES);
    if (full) [firstName, lastName] = [full.split(/\s+/)[0], full.split(/\s+/).slice(1).join(' ') || undefined];
  }

  // An attribute sent with no value (pysaml2 does this when the user is in no group) means "no
  // groups", not "not sent": node-saml leaves such an attribute out of `attributes`, so look for it.
  const sentEmpty = children(assertion, 'AttributeStatement').some((statement) =>
    children(statement, 'Attribute').some((a) => attr(a, 'Name') === expect.groupAttribute),
  );
  let groups: string[] | null = sentEmpty ? [] : null;
  if (Object.hasOwn(attributes, expect.groupAttribute)) {
    const raw = attributes[expect.groupAttribute];
    const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is string => typeof v === 'string').map((v) => v.trim());
    if (values.length > MAX_GROUPS || values.some((v) => v.length > 400)) throw new SamlRejected('invalid_attributes', 'too many or too long groups');
    groups = [...new Set(values.filter(Boolean))];
  }

  return {
    assertionId,
    nameId,
    email,
    ...(firstName ? { firstName: firstName.slice(0, 150) } : {}),
    ...(lastName ? { lastName: lastName.slice(0, 150) } : {}),
    groups,
    notOnOrAfter: new Date(Math.max(...expiries)),
  };
}
