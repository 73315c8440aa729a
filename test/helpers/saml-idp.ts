/**
 * A real SAML 2.0 identity provider on loopback for the interop tests: auth0's `samlp` (an IdP
 * implementation Warden did not write), with a key pair and self-signed certificate generated at
 * test time. It answers AuthnRequests (HTTP-Redirect) and IdP-initiated logins with an
 * auto-submitting HTML form, as a browser would see it; the tests read the form and post it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import samlp from 'samlp';
import { generate } from 'selfsigned';

export interface SigningKey {
  key: string;
  cert: string;
}

/** A fresh RSA-2048 key and a self-signed certificate for it (valid two days). */
export async function newSigningKey(commonName = 'Warden test IdP'): Promise<SigningKey> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyPair: { privateKey, publicKey },
    algorithm: 'sha256',
  });
  return { key: privateKey, cert: pems.cert };
}

export interface IdpUser {
  nameId: string;
  email: string;
  firstName?: string;
  lastName?: string;
  groups?: string[];
}

/** The IdP's claims for a user: plain attribute names, as most IdPs are configured for PostHog. */
function profileMapper(user: IdpUser) {
  return {
    getClaims: () => ({
      email: user.email,
      first_name: user.firstName,
      last_name: user.lastName,
      ...(user.groups ? { groups: user.groups } : {}),
    }),
    getNameIdentifier: () => ({
      nameIdentifier: user.nameId,
      nameIdentifierFormat: user.nameId.includes('@')
        ? 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'
        : 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    }),
  };
}
profileMapper.prototype.metadata = [];

export interface SamlResponseOptions {
  user: IdpUser;
  /** Defaults: the IdP's own settings (SP entity id as audience, ACS as recipient and destination). */
  audience?: string;
  recipient?: string;
  destination?: string;
  inResponseTo?: string;
  issuer?: string;
  lifetimeInSeconds?: number;
  signResponse?: boolean;
  signAssertion?: boolean;
  signer?: SigningKey;
  /** samlp's names: 'rsa-sha256' (default) or 'rsa-sha1'; 'sha256' (default) or 'sha1'. */
  signatureAlgorithm?: 'rsa-sha256' | 'rsa-sha1';
  digestAlgorithm?: 'sha256' | 'sha1';
}

export interface PostedForm {
  action: string;
  SAMLResponse: string;
  RelayState: string;
}

export interface TestIdp {
  url: string;
  entityId: string;
  /** The IdP's single sign-on URL (HTTP-Redirect). */
  ssoUrl: string;
  /** The IdP's metadata, as samlp serves it. */
  metadataUrl: string;
  /** Who is "signed in" at the IdP; null answers 401. */
  user: IdpUser | null;
  /** The key the IdP signs with now (swap it to simulate a rotation). */
  signer: SigningKey;
  /** A genuinely signed SAML Response XML, made by samlp with the IdP's settings and these overrides. */
  response(options: SamlResponseOptions): Promise<string>;
  close(): Promise<void>;
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** Reads the auto-submitting form an IdP returns (what a browser would post). */
export function readPostForm(html: string): PostedForm {
  const action = /<form[^>]*action="([^"]*)"/i.exec(html)?.[1];
  const field = (name: string) => new RegExp(`name="${name}"\\s+value="([^"]*)"`, 'i').exec(html)?.[1];
  const response = field('SAMLResponse');
  if (!action || !response) throw new Error(`not an IdP form post: ${html.slice(0, 300)}`);
  return { action: unescapeHtml(action), SAMLResponse: unescapeHtml(response), RelayState: unescapeHtml(field('RelayState') ?? '') };
}

export async function startIdp(options: { signer: SigningKey; spEntityId: string; acsUrl: string; entityId?: string }): Promise<TestIdp> {
  let base = '';
  const idp: TestIdp = {
    url: '',
    entityId: options.entityId ?? 'urn:warden-test:idp',
    ssoUrl: '',
    metadataUrl: '',
    user: null,
    signer: options.signer,
    response: (o) => samlResponse(o),
    close: async () => undefined,
  };
  const settings = () => ({
    issuer: idp.entityId,
    cert: idp.signer.cert,
    key: idp.signer.key,
    audience: options.spEntityId,
    recipient: options.acsUrl,
    destination: options.acsUrl,
    signResponse: true,
    // samlp signs the response with RSA-SHA1 unless told otherwise; Warden refuses SHA-1 by default.
    signatureAlgorithm: 'rsa-sha256',
    digestAlgorithm: 'sha256',
    lifetimeInSeconds: 300,
    profileMapper,
  });
  const samlResponse = (o: SamlResponseOptions) =>
    new Promise<string>((resolve, reject) => {
      const signer = o.signer ?? idp.signer;
      const config = {
        ...settings(),
        cert: signer.cert,
        key: signer.key,
        ...(o.audience !== undefined ? { audience: o.audience } : {}),
        ...(o.recipient !== undefined ? { recipient: o.recipient } : {}),
        ...(o.destination !== undefined ? { destination: o.destination } : {}),
        ...(o.inResponseTo !== undefined ? { inResponseTo: o.inResponseTo } : {}),
        ...(o.issuer !== undefined ? { issuer: o.issuer } : {}),
        ...(o.lifetimeInSeconds !== undefined ? { lifetimeInSeconds: o.lifetimeInSeconds } : {}),
        ...(o.signResponse !== undefined ? { signResponse: o.signResponse } : {}),
        ...(o.signAssertion !== undefined ? { signAssertion: o.signAssertion } : {}),
        ...(o.signatureAlgorithm !== undefined ? { signatureAlgorithm: o.signatureAlgorithm } : {}),
        ...(o.digestAlgorithm !== undefined ? { digestAlgorithm: o.digestAlgorithm } : {}),
      };
      samlp.getSamlResponse(config, o.user, (err: Error | null, xml: string) => (err ? reject(err) : resolve(xml)));
    });

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', base);
    // samlp is Express middleware: give it the few Express methods it uses.
    const expressReq = Object.assign(req, { query: Object.fromEntries(url.searchParams), body: {} });
    const expressRes = Object.assign(res, {
      set: (name: string, value: string) => res.setHeader(name, value),
      send: (body: unknown) => {
        if (typeof body === 'number') {
          res.statusCode = body;
          return res.end();
        }
        return res.end(String(body));
      },
    });
    const fail = (err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    };
    if (url.pathname === '/sso') {
      // With a SAMLRequest: SP-initiated (InResponseTo = its ID); without one: IdP-initiated.
      const handler = samlp.auth({
        ...settings(),
        getUserFromRequest: () => idp.user,
        getPostURL: (_audience: string, _request: unknown, _req: unknown, cb: (err: unknown, url?: string) => void) => cb(null, options.acsUrl),
      });
      return handler(expressReq, expressRes, (err: unknown) => fail(err));
    }
    if (url.pathname === '/metadata') {
      const handler = samlp.metadata({
        issuer: idp.entityId,
        cert: idp.signer.cert,
        profileMapper,
        redirectEndpointPath: '/sso',
        postEndpointPath: '/sso',
      });
      return handler(Object.assign(expressReq, { originalUrl: req.url, protocol: 'http' }), expressRes);
    }
    res.statusCode = 404;
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  idp.url = base;
  idp.ssoUrl = `${base}/sso`;
  idp.metadataUrl = `${base}/metadata`;
  idp.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return idp;
}
