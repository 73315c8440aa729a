/**
 * Organization domains (PostHog's OrganizationDomain): DNS TXT verification through a real DNS
 * server on loopback, the operator's CLI verification, SSO settings and enforcement, group mappings.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { freshInstance, warden } from '../helpers/cli.js';
import { Client } from '../helpers/client.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, PASSWORD, type Org, type Person } from '../helpers/world.js';
import { lastSeq, rowsSince } from '../helpers/activity.js';

let dns: TestDnsServer;
let server: TestServer;
const { cert } = selfSignedCertificate('idp.example');

beforeAll(async () => {
  dns = await startDnsServer();
  server = await startServer({ dnsServers: [dns.address] });
});

afterAll(async () => {
  await server?.close();
  await dns?.close();
});

const uniqueDomain = () => `acme-${randomBytes(4).toString('hex')}.test`;

async function addDomain(org: Org, name = uniqueDomain()) {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/domains/`, { domain: name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; domain: string; verification_challenge: string };
}

async function verifiedDomain(org: Org) {
  const domain = await addDomain(org);
  dns.txt.set(`_posthog-challenge.${domain.domain}`, [domain.verification_challenge]);
  const res = await org.owner.client.post(`/api/organizations/${org.id}/domains/${domain.id}/verify/`);
  expect(res.body.is_verified, JSON.stringify(res.body)).toBe(true);
  return domain;
}

/** A person with an address in `domain`, who joined `org` by invite and signed in with a password. */
async function memberInDomain(org: Org, domain: string, level: 1 | 8 = 1): Promise<Person> {
  const email = `person-${randomBytes(3).toString('hex')}@${domain}`;
  const invite = await org.owner.client.post(`/api/organizations/${org.id}/invites/`, { target_email: email, level });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const client = new Client(server.url);
  const res = await client.post(`/api/signup/${invite.body.id}/`, { first_name: 'Dee', password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { client, user: { id: res.body.id, uuid: res.body.uuid, email } };
}

describe('domains', () => {
  it('admins add a domain; members see it without its challenge or provider settings', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const domain = await addDomain(org, 'Example-Corp.TEST');
    expect(domain).toMatchObject({ domain: 'example-corp.test', is_verified: false, verified_at: null, sso_enforcement: '', has_saml: false });
    expect(domain.verification_challenge).toMatch(/^[0-9A-Za-z]{32}$/);

    const listed = await member.client.get(`/api/organizations/${org.id}/domains/`);
    expect(listed.status).toBe(200);
    expect(listed.body.results).toHaveLength(1);
    expect(listed.body.results[0]).toMatchObject({ domain: 'example-corp.test', verification_challenge: null, saml_x509_cert: null });

    expectError(await member.client.post(`/api/organizations/${org.id}/domains/`, { domain: 'other.test' }), 403);
    expectError(await member.client.post(`/api/organizations/${org.id}/domains/${domain.id}/verify/`), 403);
  });

  it('refuses invalid and taken domains, and answers 404 for another organization', async () => {
    const org = await newOrganization(server.url);
    for (const bad of ['', 'localhost', 'no spaces.test', 'http://x.test', '-lead.test', 'a'.repeat(130) + '.test', '*.wild.test']) {
      expectError(
        await org.owner.client.post(`/api/organizations/${org.id}/domains/`, { domain: bad }),
        400,
        'Please enter a valid domain or subdomain name.',
        'domain',
      );
    }
    const domain = await addDomain(org);
    expectError(
      await org.owner.client.post(`/api/organizations/${org.id}/domains/`, { domain: domain.domain.toUpperCase() }),
      400,
      'domain with this domain already exists.',
      'domain',
    );
    const other = await newOrganization(server.url);
    expectError(await other.owner.client.get(`/api/organizations/${other.id}/domains/${domain.id}/`), 404);
    expectError(await other.owner.client.patch(`/api/organizations/${other.id}/domains/${domain.id}/`, { group_attribute: 'x' }), 404);
  });

  it('is verified by its TXT record on a real DNS server, and records it', async () => {
    const org = await newOrganization(server.url);
    const domain = await addDomain(org);
    const verify = () => org.owner.client.post(`/api/organizations/${org.id}/domains/${domain.id}/verify/`);

    const before = await verify();
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ is_verified: false, verified_at: null });
    expect(dns.queries).toContain(`_posthog-challenge.${domain.domain}`);

    dns.txt.set(`_posthog-challenge.${domain.domain}`, ['some-other-value']);
    expect((await verify()).body.is_verified).toBe(false);

    const seq = await lastSeq(server.db);
    dns.txt.set(`_posthog-challenge.${domain.domain}`, ['some-other-value', domain.verification_challenge]);
    const after = await verify();
    expect(after.body.is_verified).toBe(true);
    expect(new Date(after.body.verified_at).getTime()).not.toBeNaN();
    const entries = await rowsSince(server.db, seq);
    expect(entries.map((e) => e.activity)).toEqual(['domain_verified']);
    expect(entries[0]).toMatchObject({ scope: 'Organization', item_id: domain.id, user_id: org.owner.user.id });
  });

  it('reports a DNS server that does not answer as a clear error, changing nothing', async () => {
    const deaf = await startServer({ dnsServers: ['127.0.0.1:9'] });
    try {
      const org = await newOrganization(deaf.url);
      const res = await org.owner.client.post(`/api/organizations/${org.id}/domains/`, { domain: uniqueDomain() });
      const verify = await org.owner.client.post(`/api/organizations/${org.id}/domains/${res.body.id}/verify/`);
      expectError(verify, 400, /Could not look up the TXT record _posthog-challenge\./);
      expect((await org.owner.client.get(`/api/organizations/${org.id}/domains/${res.body.id}/`)).body.is_verified).toBe(false);
    } finally {
      await deaf.close();
    }
  }, 90_000);

  it("keeps JIT provisioning and enforcement until the domain is verified (PostHog's rule)", async () => {
    const org = await newOrganization(server.url);
    const domain = await addDomain(org);
    const path = `/api/organizations/${org.id}/domains/${domain.id}/`;
    const jit = await org.owner.client.patch(path, { jit_provisioning_enabled: true });
    expectError(jit, 400, 'This attribute cannot be updated until the domain is verified.', 'jit_provisioning_enabled');
    expect(jit.body.code).toBe('verification_required');
    expectError(await org.owner.client.patch(path, { sso_enforcement: 'saml' }), 400, undefined, 'sso_enforcement');
    // Provider settings may be prepared before verification.
    const saml = await org.owner.client.patch(path, {
      saml_entity_id: 'https://idp.example/entity',
      saml_acs_url: 'https://idp.example/sso',
      saml_x509_cert: cert,
    });
    expect(saml.status, JSON.stringify(saml.body)).toBe(200);
    expect(saml.body).toMatchObject({ has_saml: true, is_verified: false, jit_provisioning_enabled: false });
  });

  it('validates provider settings: certificates, URLs and enforceable providers', async () => {
    const org = await newOrganization(server.url);
    const domain = await verifiedDomain(org);
    const path = `/api/organizations/${org.id}/domains/${domain.id}/`;
    expectError(await org.owner.client.patch(path, { saml_x509_cert: 'not a certificate' }), 400, /X\.509/, 'saml_x509_cert');
    expectError(await org.owner.client.patch(path, { saml_acs_url: 'javascript:alert(1)' }), 400, 'Enter a valid URL.', 'saml_acs_url');
    expectError(await org.owner.client.patch(path, { sso_enforcement: 'github' }), 400, '"github" is not a valid choice.', 'sso_enforcement');
    expectError(await org.owner.client.patch(path, { sso_enforcement: 'saml' }), 400, 'Configure SAML for this domain before enforcing it.', 'sso_enforcement');
    expectError(await org.owner.client.patch(path, { sso_enforcement: 'oidc' }), 400, 'Configure OIDC for this domain before enforcing it.', 'sso_enforcement');
    // A certificate given as bare base64, as IdP consoles show it, is stored as PEM; two are kept for a rotation.
    const second = selfSignedCertificate('idp-next.example').cert;
    const bare = cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
    const res = await org.owner.client.patch(path, { saml_x509_cert: `${bare}` });
    expect(res.body.saml_x509_cert).toBe(cert.trim());
    const rotated = await org.owner.client.patch(path, { saml_x509_cert: `${cert}\n${second}` });
    expect(rotated.body.saml_x509_cert.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it('never shows or logs the OIDC client secret', async () => {
    const org = await newOrganization(server.url);
    const domain = await verifiedDomain(org);
    // Providers are reached over https only: an http issuer is refused when set, not at the first sign-in.
    const plain = await org.owner.client.patch(`/api/organizations/${org.id}/domains/${domain.id}/`, { oidc_issuer: 'http://login.example/' });
    expectError(plain, 400, 'The OIDC issuer must be an https:// URL.', 'oidc_issuer');
    const seq = await lastSeq(server.db);
    const res = await org.owner.client.patch(`/api/organizations/${org.id}/domains/${domain.id}/`, {
      oidc_issuer: 'https://login.example/',
      oidc_client_id: 'warden',
      oidc_client_secret: 'super-secret-value-123',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ has_oidc: true, has_oidc_client_secret: true, oidc_client_id: 'warden' });
    expect(JSON.stringify(res.body)).not.toContain('super-secret-value-123');
    const entries = await rowsSince(server.db, seq);
    expect(entries).toHaveLength(1);
    expect(JSON.stringify(entries)).not.toContain('super-secret-value-123');
    expect(entries[0]!.detail.changes.find((c: any) => c.field === 'oidc_client_secret')).toMatchObject({ before: null, after: '********' });
  });

  it('admins delete a domain; it is recorded', async () => {
    const org = await newOrganization(server.url);
    const domain = await addDomain(org);
    const seq = await lastSeq(server.db);
    expect((await org.owner.client.delete(`/api/organizations/${org.id}/domains/${domain.id}/`)).status).toBe(204);
    expectError(await org.owner.client.get(`/api/organizations/${org.id}/domains/${domain.id}/`), 404);
    expect((await rowsSince(server.db, seq)).map((e) => e.activity)).toEqual(['domain_deleted']);
  });
});

describe('SSO enforcement', () => {
  it('refuses password login, sign-up and invites for the domain, ends its password sessions, and shows on the organization', async () => {
    const org = await newOrganization(server.url);
    const domain = await verifiedDomain(org);
    const person = await memberInDomain(org, domain.domain);
    const outsider = await addMember(org, 1); // @example.com: not in the domain
    expect((await person.client.get('/api/users/@me/')).status).toBe(200);
    const path = `/api/organizations/${org.id}/domains/${domain.id}/`;
    await org.owner.client.patch(path, { saml_entity_id: 'https://idp.example/entity', saml_acs_url: 'https://idp.example/sso', saml_x509_cert: cert });
    const invite = await org.owner.client.post(`/api/organizations/${org.id}/invites/`, { target_email: `later@${domain.domain}`, level: 1 });
    expect(invite.status).toBe(201);

    const seq = await lastSeq(server.db);
    const enforced = await org.owner.client.patch(path, { sso_enforcement: 'saml', jit_provisioning_enabled: true });
    expect(enforced.status, JSON.stringify(enforced.body)).toBe(200);
    expect(enforced.body).toMatchObject({ sso_enforcement: 'saml', jit_provisioning_enabled: true });
    const [entry] = await rowsSince(server.db, seq);
    expect(entry).toMatchObject({ activity: 'domain_updated' });
    expect(entry!.detail.context.password_sessions_ended).toBe(1);

    // The existing password session ended at once; other people's did not.
    expectError(await person.client.get('/api/users/@me/'), 401);
    expect((await outsider.client.get('/api/users/@me/')).status).toBe(200);

    const message = 'You can only login with SSO for this account (saml).';
    const login = await new Client(server.url).post('/api/login/', { email: person.user.email.toUpperCase(), password: PASSWORD });
    expectError(login, 400, message);
    expect(login.body.code).toBe('sso_enforced');
    expectError(await new Client(server.url).post('/api/signup/', { email: `new@${domain.domain}`, password: PASSWORD, first_name: 'N' }), 400, message);
    expectError(await new Client(server.url).post(`/api/signup/${invite.body.id}/`, { first_name: 'L', password: PASSWORD }), 400, message);
    // The accept page learns it before asking for a password: the invite names the enforced provider.
    expect((await new Client(server.url).get(`/api/signup/${invite.body.id}/`)).body).toMatchObject({
      target_email: `later@${domain.domain}`,
      sso_enforcement: 'saml',
    });
    // Other addresses still log in with a password.
    expect((await new Client(server.url).post('/api/login/', { email: outsider.user.email, password: PASSWORD })).status).toBe(200);

    const shown = await org.owner.client.get(`/api/organizations/${org.id}/`);
    expect(shown.body).toMatchObject({ enforce_sso: true, saml_enforcement: 'saml' });

    // The refused login is a security event.
    const security = (await rowsSince(server.db, seq)).filter((e) => e.scope === 'Security');
    expect(security.some((e) => e.activity === 'login_failed' && e.detail.context.reason === 'sso_enforced')).toBe(true);

    // Turning enforcement off lets passwords back in.
    await org.owner.client.patch(path, { sso_enforcement: '' });
    expect((await new Client(server.url).post('/api/login/', { email: person.user.email, password: PASSWORD })).status).toBe(200);
    expect((await org.owner.client.get(`/api/organizations/${org.id}/`)).body).toMatchObject({ enforce_sso: false, saml_enforcement: null });
  });
});

describe('operator verification from the CLI', () => {
  it('`warden domains verify --domain` marks a domain verified without DNS, as a system action', async () => {
    const instance = await freshInstance();
    try {
      const boot = await warden(
        ['bootstrap', '--email', 'o@airgap.test', '--password', PASSWORD, '--organization', 'Air', '--json', ...instance.args],
        instance.env,
      );
      expect(boot.code, boot.stderr).toBe(0);
      const { organization } = JSON.parse(boot.stdout);
      const { openStore } = await import('../../src/store/open.js');
      const { createDomain } = await import('../../src/domain/sso/organization-domains.js');
      const store = { databaseUrl: instance.env.DATABASE_URL || undefined, dataDir: instance.args[1] ?? null };
      const db = await openStore(store);
      try {
        const [owner] = await db.query<{ id: number }>('SELECT id FROM users');
        await db.transaction((tx) => createDomain(tx, { userId: owner!.id, isSystem: false }, organization.id, 'airgap.test'));
      } finally {
        await db.close();
      }
      const missing = await warden(['domains', 'verify', '--domain', 'nowhere.test', ...instance.args], instance.env);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('No organization has added the domain nowhere.test.');
      const ok = await warden(['domains', 'verify', '--domain', 'AIRGAP.test', ...instance.args], instance.env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toContain('airgap.test verified');
      const db2 = await openStore(store);
      try {
        const [row] = await db2.query<{ verified_at: Date | null }>("SELECT verified_at FROM organization_domains WHERE domain = 'airgap.test'");
        expect(row!.verified_at).toBeInstanceOf(Date);
        const [entry] = await db2.query<{ is_system: boolean; user_id: number | null; detail: any }>(
          "SELECT is_system, user_id, detail FROM activity_log WHERE activity = 'domain_verified'",
        );
        expect(entry).toMatchObject({ is_system: true, user_id: null });
        expect(entry!.detail.context.method).toBe('operator');
      } finally {
        await db2.close();
      }
    } finally {
      await instance.cleanup();
    }
  }, 60_000);
});

describe('group mappings', () => {
  it('admins map IdP groups to levels and roles; bad mappings are refused; each change is recorded', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const domain = await addDomain(org);
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Engineers' });
    const path = `/api/organizations/${org.id}/domains/${domain.id}/group_mappings/`;
    const seq = await lastSeq(server.db);
    const created = await org.owner.client.post(path, { group_name: 'eng', level: 8, role_id: role.body.id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ group_name: 'eng', level: 8, role_id: role.body.id });
    expectError(await org.owner.client.post(path, { group_name: 'eng', level: 8, role_id: role.body.id }), 400, 'This group mapping already exists.');
    expectError(await org.owner.client.post(path, { group_name: 'x', level: 3 }), 400, '"3" is not a valid choice.', 'level');
    expectError(await org.owner.client.post(path, { group_name: 'x' }), 400, 'Map the group to a level, a role, or both.');
    expectError(await org.owner.client.post(path, { group_name: ' ', level: 1 }), 400, undefined, 'group_name');
    expectError(await org.owner.client.post(path, { group_name: 'x', role_id: 'nope' }), 400, 'Role does not exist.', 'role_id');
    expectError(await member.client.post(path, { group_name: 'y', level: 1 }), 403);
    expect((await member.client.get(path)).body.results).toHaveLength(1);
    expect((await org.owner.client.delete(`${path}${created.body.id}/`)).status).toBe(204);
    expectError(await org.owner.client.delete(`${path}${created.body.id}/`), 404);
    // The member's refusal is a security event; the two changes are the organization's entries.
    expect((await rowsSince(server.db, seq)).map((e) => e.activity)).toEqual(['sso_group_mapping_created', 'access_denied', 'sso_group_mapping_deleted']);
  });

  it('the organization default role must be one of its roles', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const foreign = await other.owner.client.post(`/api/organizations/${other.id}/roles/`, { name: 'Theirs' });
    expectError(
      await org.owner.client.patch(`/api/organizations/${org.id}/`, { default_role_id: foreign.body.id }),
      400,
      'Role does not exist.',
      'default_role_id',
    );
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Default' });
    const res = await org.owner.client.patch(`/api/organizations/${org.id}/`, { default_role_id: role.body.id });
    expect(res.body.default_role_id).toBe(role.body.id);
    expect((await org.owner.client.get(`/api/organizations/${org.id}/roles/${role.body.id}/`)).body.is_default).toBe(true);
    expect(role.body.is_default).toBe(false);
  });
});
