/** IdP metadata: parsing (no DTDs, exactly one SAML 2.0 IdP) and a bounded fetch. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { fetchIdpMetadata, parseIdpMetadata } from '../../src/sso/saml-metadata.js';
import { newSigningKey, type SigningKey } from '../helpers/saml-idp.js';

let key: SigningKey;
let server: Server;
let base: string;

const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
const metadata = (opts: { certs?: string[]; binding?: string; entities?: number; dtd?: boolean } = {}) => {
  const entity = (i: number) => `<md:EntityDescriptor entityID="https://idp.example/${i}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    ${(opts.certs ?? [key.cert]).map((c) => `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${body(c)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`).join('')}
    <md:SingleSignOnService Binding="${opts.binding ?? 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect'}" Location="https://idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  const ns = 'xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"';
  const doc =
    (opts.entities ?? 1) === 1
      ? entity(0).replace('<md:EntityDescriptor ', `<md:EntityDescriptor ${ns} `)
      : `<md:EntitiesDescriptor ${ns}>${Array.from({ length: opts.entities! }, (_, i) => entity(i)).join('')}</md:EntitiesDescriptor>`;
  return `${opts.dtd ? '<!DOCTYPE md:EntityDescriptor [<!ENTITY x "y">]>' : ''}${doc}`;
};

const rejects = (fn: () => unknown, message: RegExp) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).message).toMatch(message);
    return;
  }
  throw new Error('expected a validation error');
};

beforeAll(async () => {
  key = await newSigningKey();
  server = createServer((req, res) => {
    if (req.url === '/ok') return res.end(metadata());
    if (req.url === '/huge') {
      res.write('<x>');
      for (let i = 0; i < 2100; i++) res.write('x'.repeat(1024));
      return res.end('</x>');
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('parseIdpMetadata', () => {
  it('reads entity id, HTTP-Redirect SSO URL and every signing certificate (rotation)', async () => {
    const next = await newSigningKey('next');
    const parsed = parseIdpMetadata(metadata({ certs: [key.cert, next.cert] }));
    expect(parsed.entityId).toBe('https://idp.example/0');
    expect(parsed.ssoUrl).toBe('https://idp.example/sso');
    expect(parsed.certificates.map(body)).toEqual([body(key.cert), body(next.cert)]);
  });

  it('refuses DTDs, garbage, several IdPs, no redirect binding and unreadable certificates with clear messages', () => {
    rejects(() => parseIdpMetadata(metadata({ dtd: true })), /DTD/);
    rejects(() => parseIdpMetadata('not xml at all'), /not well-formed|not SAML/);
    rejects(() => parseIdpMetadata('<a/><b/>'), /not well-formed/);
    rejects(() => parseIdpMetadata(''), /empty/);
    rejects(() => parseIdpMetadata('<foo xmlns="urn:x"/>'), /not SAML 2.0 metadata/);
    rejects(() => parseIdpMetadata(metadata({ entities: 2 })), /2 identity providers/);
    rejects(() => parseIdpMetadata(metadata({ binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST' })), /HTTP-Redirect/);
    rejects(() => parseIdpMetadata(metadata({ certs: [] })), /no signing certificate/);
    rejects(() => parseIdpMetadata(metadata({ certs: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'] })), /cannot be read/);
  });
});

describe('fetchIdpMetadata', () => {
  it('fetches over http(s), and refuses other schemes, errors and documents over 1 MiB', async () => {
    expect(parseIdpMetadata(await fetchIdpMetadata(`${base}/ok`)).entityId).toBe('https://idp.example/0');
    await expect(fetchIdpMetadata(`${base}/missing`)).rejects.toThrow(/HTTP 404/);
    await expect(fetchIdpMetadata(`${base}/huge`)).rejects.toThrow(/too large/);
    await expect(fetchIdpMetadata('file:///etc/passwd')).rejects.toThrow(/http or https/);
    await expect(fetchIdpMetadata('not a url')).rejects.toThrow(/valid URL/);
    await expect(fetchIdpMetadata(`http://user:pw@127.0.0.1:1/`)).rejects.toThrow(/credentials/);
    await expect(fetchIdpMetadata('http://127.0.0.1:1/')).rejects.toThrow(/Could not fetch/);
  });
});
