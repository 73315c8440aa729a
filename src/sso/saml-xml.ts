import { DOMParser } from '@xmldom/xmldom';

/**
 * Input hygiene for SAML messages, before any of it reaches node-saml: no DTD (so no entities,
 * external or expanding), exactly one root element, well-formed XML, bounded size. Nothing here
 * verifies anything, and what it reads is bounded (elements, nesting) before any parsing: what is read here (issuer, InResponseTo) only picks the configuration that
 * node-saml then verifies the response against.
 */

/** Largest decoded SAMLResponse accepted (real ones are a few kilobytes; signed + encrypted stay far below). */
export const SAML_RESPONSE_MAX_BYTES = 256 * 1024;

export class SamlInputError extends Error {
  constructor(
    readonly reason: 'malformed_response' | 'dtd_forbidden' | 'multiple_roots' | 'too_large',
    message: string,
  ) {
    super(message);
    this.name = 'SamlInputError';
  }
}

/**
 * Elements and nesting a SAML response may have. Real responses have tens of elements (a few
 * hundred with many groups) nested under ten deep; XPath queries and signature checks over tens of
 * thousands cost seconds of CPU before any signature is known to be good.
 */
export const SAML_RESPONSE_MAX_ELEMENTS = 2000;
export const SAML_XML_MAX_DEPTH = 32;

/**
 * Counts the start tags of an XML text and their deepest nesting in one linear pass, without
 * building anything: comments, CDATA, processing instructions and quoted attribute values are
 * skipped. Run before parsing, so that a document's size in elements bounds all later work.
 * (Malformed text may be miscounted; the parser refuses it afterwards.)
 */
export function measureXml(xml: string): { elements: number; depth: number } {
  let elements = 0;
  let depth = 0;
  let deepest = 0;
  const skipPast = (from: number, end: string) => {
    const at = xml.indexOf(end, from);
    return at < 0 ? xml.length : at + end.length;
  };
  let i = xml.indexOf('<');
  while (i >= 0 && i < xml.length) {
    const next = xml[i + 1];
    if (xml.startsWith('<!--', i)) i = skipPast(i + 4, '-->');
    else if (xml.startsWith('<![CDATA[', i)) i = skipPast(i + 9, ']]>');
    else if (next === '?' || next === '!') i = skipPast(i + 2, '>');
    else if (next === '/') {
      depth = Math.max(0, depth - 1);
      i = skipPast(i + 2, '>');
    } else {
      elements++;
      deepest = Math.max(deepest, ++depth);
      let j = i + 1;
      for (; j < xml.length && xml[j] !== '>'; j++) {
        const c = xml[j];
        if (c === '"' || c === "'") {
          const close = xml.indexOf(c, j + 1);
          j = close < 0 ? xml.length : close;
        }
      }
      if (xml[j - 1] === '/') depth--;
      i = j + 1;
    }
    i = xml.indexOf('<', i);
  }
  return { elements, depth: deepest };
}

/** A DOCTYPE or ENTITY declaration anywhere in the text (case-insensitive, as some parsers are lenient). */
export function refuseDoctype(xml: string): boolean {
  return /<!\s*(DOCTYPE|ENTITY)/i.test(xml);
}

/** What the unverified document says about itself: used only to route it to a domain's configuration. */
export interface SamlEnvelope {
  xml: string;
  rootName: string;
  id: string | null;
  issuer: string | null;
  inResponseTo: string | null;
  destination: string | null;
  /** The top-level StatusCode's Value. */
  statusCode: string | null;
  /** Does any signature in the document use SHA-1 (as its signature method or a digest)? */
  usesSha1: boolean;
}

/** XML-DSig algorithm identifiers built on SHA-1 (RSA, DSA, ECDSA and HMAC signatures; the digest). */
const SHA1_ALGORITHM = /^http:\/\/www\.w3\.org\/(2000\/09\/xmldsig#(rsa-|dsa-|hmac-)?sha1|2001\/04\/xmldsig-more#ecdsa-sha1)$/i;

/** The algorithms every SignatureMethod and DigestMethod of the document names. */
function signatureAlgorithms(doc: Document): string[] {
  const found: string[] = [];
  for (const name of ['SignatureMethod', 'DigestMethod']) {
    const nodes = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', name);
    for (let i = 0; i < nodes.length; i++) found.push((nodes.item(i)?.getAttribute('Algorithm') ?? '').trim());
  }
  return found;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes the HTTP-POST binding's base64 SAMLResponse and checks it is one well-formed XML document without a DTD. */
export function decodeSamlResponse(encoded: string): SamlEnvelope {
  const compact = encoded.replace(/[\r\n\t ]+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new SamlInputError('malformed_response', 'SAMLResponse is not valid base64.');
  }
  if ((compact.length / 4) * 3 > SAML_RESPONSE_MAX_BYTES + 3) throw new SamlInputError('too_large', 'SAMLResponse is too large.');
  const xml = Buffer.from(compact, 'base64').toString('utf8');
  if (refuseDoctype(xml)) throw new SamlInputError('dtd_forbidden', 'SAMLResponse contains a DTD.');
  const shape = measureXml(xml);
  if (shape.elements > SAML_RESPONSE_MAX_ELEMENTS) {
    throw new SamlInputError('malformed_response', `SAMLResponse has more than ${SAML_RESPONSE_MAX_ELEMENTS} elements.`);
  }
  if (shape.depth > SAML_XML_MAX_DEPTH) {
    throw new SamlInputError('malformed_response', `SAMLResponse nests elements more than ${SAML_XML_MAX_DEPTH} deep.`);
  }
  const errors: string[] = [];
  const record = (msg: string) => void errors.push(msg);
  const doc = new DOMParser({ errorHandler: { warning: () => undefined, error: record, fatalError: record } }).parseFromString(xml, 'text/xml') as unknown as
    | Document
    | undefined;
  const multipleRoots = () => new SamlInputError('multiple_roots', 'SAMLResponse has more than one root element.');
  if (errors.some((e) => /only one element/i.test(e))) throw multipleRoots();
  if (errors.length > 0 || !doc?.documentElement) throw new SamlInputError('malformed_response', 'SAMLResponse is not well-formed XML.');
  let roots = 0;
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) roots++;
    else if (n.nodeType === 3 && (n.nodeValue ?? '').trim() !== '') {
      throw new SamlInputError('malformed_response', 'SAMLResponse has text outside its root element.');
    }
  }
  if (roots !== 1) throw multipleRoots();
  const root = doc.documentElement;
  const issuer = childElement(root, 'Issuer');
  const statusCode = childElement(childElement(root, 'Status'), 'StatusCode');
  return {
    xml,
    rootName: root.localName,
    id: root.getAttribute('ID'),
    issuer: issuer ? (issuer.textContent ?? '').trim() : null,
    inResponseTo: root.getAttribute('InResponseTo') || null,
    destination: root.getAttribute('Destination') || null,
    statusCode: statusCode?.getAttribute('Value') ?? null,
    usesSha1: signatureAlgorithms(doc).some((a) => SHA1_ALGORITHM.test(a)),
  };
}

function childElement(parent: Element | undefined, localName: string): Element | undefined {
  for (let n = parent?.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).localName === localName) return n as Element;
  }
  return undefined;
}

/** Text from an attacker-controlled document, cut to size for a log entry or an error page. */
export function clip(value: string | null | undefined, max = 200): string | null {
  if (value === null || value === undefined) return null;
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
