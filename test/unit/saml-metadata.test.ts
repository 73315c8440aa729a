/** IdP metadata: parsing (no DTDs, exactly one SAML 2.0 IdP) and a bounded fetch. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { isInternalAddress, outboundPolicy, parseOutboundAllow } from '../../src/net/outbound-policy.js';
import { fetchIdpMetadata, METADATA_FETCH_FAILED, parseIdpMetadata } from '../../src/sso/saml-metadata.js';
import { newSigningKey, type SigningKey } from '../helpers/saml-idp.js';

let key: SigningKey;
let server: Server;
let base: string;
let connections = 0;
const requests: string[] = [];

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
    requests.push(req.url ?? '');
    if (req.url === '/ok') return res.end(metadata());
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `${base}/ok` });
      return res.end();
    }
    if (req.url === '/huge') {
      res.write('<x>');
      for (let i = 0; i < 2100; i++) res.write('x'.repeat(1024));
      return res.end('</x>');
    }
    res.statusCode = 404;
    res.end();
  });
  server.on('connection', () => connections++);
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
  const allowLoopback = outboundPolicy(['127.0.0.1']);
  const generic = (promise: Promise<unknown>) => expect(promise).rejects.toThrow(METADATA_FETCH_FAILED);

  it('fetches from an address the operator allows; every failure is the same error', async () => {
    expect(parseIdpMetadata(await fetchIdpMetadata(`${base}/ok`, allowLoopback)).entityId).toBe('https://idp.example/0');
    await generic(fetchIdpMetadata(`${base}/missing`, allowLoopback));
    await generic(fetchIdpMetadata(`${base}/huge`, allowLoopback));
    await generic(fetchIdpMetadata('http://127.0.0.1:1/', allowLoopback));
    await generic(fetchIdpMetadata('file:///etc/passwd', allowLoopback));
    await generic(fetchIdpMetadata(`http://user:pw@127.0.0.1:1/`, allowLoopback));
    await expect(fetchIdpMetadata('not a url', allowLoopback)).rejects.toThrow(/valid URL/);
  });

  it('by default reaches no loopback, private or link-local address, by literal, by name or by redirect', async () => {
    const port = (server.address() as AddressInfo).port;
    const before = { connections, requests: requests.length };
    const policy = outboundPolicy();
    for (const url of [
      `${base}/ok`,
      `https://127.0.0.1:${port}/ok`,
      `https://localhost:${port}/ok`,
      `https://[::1]:${port}/ok`,
      `https://[::ffff:127.0.0.1]:${port}/ok`,
      `https://169.254.169.254/latest/meta-data/`,
      `https://10.0.0.1:${port}/`,
    ]) {
      await generic(fetchIdpMetadata(url, policy));
    }
    // Allowed by name (localhost), redirected to an address nobody allowed: the second hop never connects.
    await generic(fetchIdpMetadata(`http://localhost:${port}/redirect`, outboundPolicy(['localhost'])));
    expect(requests.slice(before.requests)).toEqual(['/redirect']);
    expect(connections - before.connections).toBe(1);
  });
});

describe('outbound policy', () => {
  it('knows internal addresses', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.100.100.200',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '224.0.0.1',
    ]) {
      expect(isInternalAddress(a), a).toBe(true);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(isInternalAddress(a), a).toBe(false);
  });

  it('allows what the operator names, and plain http only there', () => {
    const policy = outboundPolicy(['idp.internal', '10.0.0.0/8']);
    expect(policy.urlAllowed(new URL('http://idp.internal/x'))).toBe(true);
    expect(policy.addressAllowed('idp.internal', '192.168.0.9')).toBe(true);
    expect(policy.urlAllowed(new URL('http://10.2.3.4/x'))).toBe(true);
    expect(policy.urlAllowed(new URL('https://192.168.0.1/x'))).toBe(false);
    expect(policy.urlAllowed(new URL('http://example.com/x'))).toBe(false);
    expect(policy.urlAllowed(new URL('https://example.com/x'))).toBe(true);
    expect(policy.addressAllowed('example.com', '127.0.0.1')).toBe(false);
    expect(() => parseOutboundAllow(['10.0.0.0/99'])).toThrow();
    expect(() => parseOutboundAllow(['http://x'])).toThrow();
  });
});
