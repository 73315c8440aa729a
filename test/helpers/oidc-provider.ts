/**
 * A real OpenID provider for the OIDC tests: panva's oidc-provider over HTTPS on loopback, with a
 * certificate made at test time that Warden trusts through its oidcCaFile setting. Its interaction
 * step (where a person would type a password) logs in whichever test account the test chose, or
 * answers with an error, through oidc-provider's own interactionFinished.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import selfsigned from 'selfsigned';
import { startServer, type TestServer } from './server.js';
import { newOrganization, type Org } from './world.js';

export interface IdpAccount {
  sub: string;
  email: string;
  email_verified?: boolean;
  given_name?: string;
  family_name?: string;
  groups?: string[];
}

/** What the interaction step does next: log in this account (by sub), or refuse with an OAuth error. */
export type IdpPlan = { login: string } | { error: string; error_description?: string };

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, IdpAccount>;
  plan: IdpPlan | null;
  /** Every request the provider received (method and URL), in order. */
  requests: Array<{ method: string; url: URL }>;
  close(): Promise<void>;
}

export interface TestCertificate {
  cert: string;
  key: string;
  caFile: string;
  cleanup(): void;
}

/** A self-signed certificate for 127.0.0.1, written where Warden's oidcCaFile can point. */
export async function makeCertificate(): Promise<TestCertificate> {
  const pems = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'warden-oidc-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pems.cert);
  return { cert: pems.cert, key: pems.private, caFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startIdp(tls: TestCertificate, redirectUri: string): Promise<TestIdp> {
  let provider: Provider | undefined;
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const idp: TestIdp = {
    issuer: '',
    clientId: `warden-${randomUUID()}`,
    clientSecret: randomBytes(24).toString('base64url'),
    accounts: new Map(),
    plan: null,
    requests: [],
    close: async () => {},
  };

  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const p = provider!;
    const details = await p.interactionDetails(req, res);
    const plan = idp.plan;
    if (!plan) throw new Error('the test chose no account for the provider to log in');
    if ('error' in plan) {
      await p.interactionFinished(req, res, plan, { mergeWithLastSubmission: false });
      return;
    }
    if (details.prompt.name === 'login') {
      await p.interactionFinished(req, res, { login: { accountId: plan.login } }, { mergeWithLastSubmission: false });
      return;
    }
    // Consent: grant what the client asked for.
    const accountId = details.session!.accountId;
    const grant = details.grantId ? (await p.Grant.find(details.grantId))! : new p.Grant({ accountId, clientId: details.params.client_id as string });
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await p.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    const url = new URL(req.url ?? '/', idp.issuer);
    if (url.pathname.startsWith('/interaction/')) {
      interaction(req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    idp.requests.push({ method: req.method ?? 'GET', url });
    handle!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  provider = new Provider(idp.issuer, {
    clients: [
      {
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['given_name', 'family_name', 'name'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    async findAccount(_ctx: unknown, sub: string) {
      const account = idp.accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { ...account, name: [account.given_name, account.family_name].filter(Boolean).join(' ') };
        },
      };
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    jwks: { keys: [{ ...signingKey, kid: 'test-key', alg: 'RS256', use: 'sig' }] },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
  } as any);
  handle = provider.callback();

  idp.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return idp;
}

export interface OidcWorld {
  server: TestServer;
  idp: TestIdp;
  tls: TestCertificate;
  org: Org;
  domain: { id: string; name: string };
  close(): Promise<void>;
}

/** Warden trusting the test CA, the provider, and an organization with a verified domain whose OIDC points at it. */
export async function startOidcWorld(options: { jit?: boolean } = {}): Promise<OidcWorld> {
  const tls = await makeCertificate();
  const server = await startServer({ oidcCaFile: tls.caFile });
  const idp = await startIdp(tls, `${server.config.publicUrl}/complete/oidc/`);
  const org = await newOrganization(server.url, 'OIDC Org');
  const name = `oidc-${randomBytes(4).toString('hex')}.example`;
  const [row] = await server.db.query<{ id: string }>(
    `INSERT INTO organization_domains
       (organization_id, domain, verification_challenge, verified_at, jit_provisioning_enabled, oidc_issuer, oidc_client_id, oidc_client_secret)
     VALUES ($1, $2, $3, now(), $4, $5, $6, $7) RETURNING id`,
    [org.id, name, randomBytes(16).toString('hex'), options.jit ?? true, idp.issuer, idp.clientId, idp.clientSecret],
  );
  return {
    server,
    idp,
    tls,
    org,
    domain: { id: row!.id, name },
    async close() {
      await idp.close();
      await server.close();
      tls.cleanup();
    },
  };
}
