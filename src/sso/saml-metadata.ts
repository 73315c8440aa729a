import { DOMParser } from '@xmldom/xmldom';
import xpath from 'xpath';
import { validation } from '../domain/errors.js';
import { outboundFetch, OutboundError } from '../net/outbound-fetch.js';
import type { OutboundPolicy } from '../net/outbound-policy.js';
import { isCertificate, toPem } from './saml-certificates.js';
import { measureXml, refuseDoctype, SAML_XML_MAX_DEPTH } from './saml-xml.js';

/** What Warden needs from an IdP's SAML metadata. */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  /** PEM certificates of the IdP's signing keys (several during a rotation). */
  certificates: string[];
}

const NS = {
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
};
const select = xpath.useNamespaces(NS);
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
/** Metadata documents larger than this are refused (real ones are a few kilobytes). */
export const METADATA_MAX_BYTES = 1024 * 1024;
/** Metadata with more elements than this is refused before parsing (one IdP's has well under a hundred). */
export const METADATA_MAX_ELEMENTS = 10_000;
const FETCH_TIMEOUT_MS = 10_000;

const invalidXml = (detail: string) => validation(detail, 'saml_metadata_xml');

function parse(xml: string): Document {
  if (refuseDoctype(xml)) throw invalidXml('SAML metadata must not contain a DTD or entity declarations.');
  const shape = measureXml(xml);
  if (shape.elements > METADATA_MAX_ELEMENTS || shape.depth > SAML_XML_MAX_DEPTH) {
    throw invalidXml(`SAML metadata is too complex (at most ${METADATA_MAX_ELEMENTS} elements, nested at most ${SAML_XML_MAX_DEPTH} deep).`);
  }
  const errors: string[] = [];
  const record = (msg: string) => void errors.push(msg);
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: record, fatalError: record } }).parseFromString(
    xml,
    'text/xml',
  ) as unknown as Document;
  if (errors.length > 0 || !doc?.documentElement) throw invalidXml('SAML metadata is not well-formed XML.');
  return doc;
}

const elements = (expr: string, node: Node): Element[] => (select(expr, node) as Node[]).filter((n): n is Element => n.nodeType === 1);

/**
 * Reads an IdP's SAML 2.0 metadata: the one EntityDescriptor with an IDPSSODescriptor for the SAML
 * 2.0 protocol, its HTTP-Redirect SingleSignOnService and its signing certificates.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  if (typeof xml !== 'string' || xml.trim() === '') throw invalidXml('SAML metadata is empty.');
  if (Buffer.byteLength(xml, 'utf8') > METADATA_MAX_BYTES) throw invalidXml('SAML metadata is too large.');
  const doc = parse(xml);
  const root = doc.documentElement;
  if (root.namespaceURI !== NS.md || !['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName)) {
    throw invalidXml('This is not SAML 2.0 metadata: expected an EntityDescriptor.');
  }
  const idps = elements('//md:EntityDescriptor[md:IDPSSODescriptor]', doc).filter((entity) =>
    elements('md:IDPSSODescriptor', entity).some((d) => (d.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL)),
  );
  if (idps.length === 0) throw invalidXml('The metadata describes no SAML 2.0 identity provider.');
  if (idps.length > 1) throw invalidXml(`The metadata describes ${idps.length} identity providers; give the metadata of exactly one.`);
  const entity = idps[0]!;
  const entityId = (entity.getAttribute('entityID') ?? '').trim();
  if (!entityId) throw invalidXml('The identity provider has no entityID.');
  const descriptor = elements('md:IDPSSODescriptor', entity)[0]!;

  const sso = elements('md:SingleSignOnService', descriptor).find((s) => s.getAttribute('Binding') === REDIRECT_BINDING);
  const ssoUrl = sso?.getAttribute('Location')?.trim() ?? '';
  if (!ssoUrl) throw invalidXml('The identity provider offers no HTTP-Redirect single sign-on service.');
  if (!isHttpUrl(ssoUrl)) throw invalidXml('The single sign-on service location is not an http(s) URL.');

  const certificates: string[] = [];
  for (const key of elements('md:KeyDescriptor', descriptor)) {
    const use = key.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const cert of elements('ds:KeyInfo/ds:X509Data/ds:X509Certificate', key)) {
      const pem = toPem(cert.textContent ?? '');
      if (!isCertificate(pem)) throw invalidXml('A signing certificate in the metadata cannot be read.');
      if (!certificates.includes(pem)) certificates.push(pem);
    }
  }
  if (certificates.length === 0) throw invalidXml('The identity provider has no signing certificate in its metadata.');
  return { entityId, ssoUrl, certificates };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Fetches an IdP's metadata XML through the instance's outbound client (https, public addresses
 * unless the operator allows others, redirects checked the same way, 10 seconds, at most 1 MiB).
 * Every failure is one validation error on `saml_metadata_url`, whatever its cause: the answer
 * must not tell what is (or is not) listening at an address.
 */
export async function fetchIdpMetadata(url: string, policy: OutboundPolicy): Promise<string> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw validation('Enter a valid URL.', 'saml_metadata_url');
  }
  const send = outboundFetch(policy, { maxBytes: METADATA_MAX_BYTES, timeoutMs: FETCH_TIMEOUT_MS });
  try {
    const response = await send(target, { headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
    if (!response.ok) throw new OutboundError(`HTTP ${response.status}`);
    return await response.text();
  } catch {
    throw validation(METADATA_FETCH_FAILED, 'saml_metadata_url');
  }
}

export const METADATA_FETCH_FAILED = 'Could not fetch SAML metadata from this URL. It must be an https URL on a public address that answers with the metadata.';
