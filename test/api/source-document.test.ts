/**
 * The source document's scripts, run unchanged but for the host, against a Warden started from this
 * checkout with its own CLI (bootstrap, then serve), on the embedded database or on Postgres.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshInstance, pathWithModernJq, REPO, run, serve, splitJsonStream, warden, type RunningServer } from '../helpers/cli.js';
import { Client } from '../helpers/client.js';
import { selfSignedCertificate } from '../helpers/certificates.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { PASSWORD } from '../helpers/world.js';

const script = (name: string) => readFileSync(join(REPO, 'test/fixtures/source-document', name), 'utf8');
const POSTHOG = 'https://app.posthog.com';

let instance: Awaited<ReturnType<typeof freshInstance>>;
let server: RunningServer;
let dns: TestDnsServer;
let boot: {
  user: { id: number; uuid: string; email: string };
  organization: { id: string; name: string };
  project: { id: number; name: string; api_token: string };
  personal_api_key: string;
};

beforeAll(async () => {
  instance = await freshInstance();
  const result = await warden(
    ['bootstrap', '--email', 'owner@acme.test', '--password', PASSWORD, '--organization', 'Acme', '--json', ...instance.args],
    instance.env,
  );
  expect(result.code, result.stderr).toBe(0);
  boot = JSON.parse(result.stdout);
  dns = await startDnsServer();
  server = await serve([...instance.args, '--dns-servers', dns.address], instance.env);
});

afterAll(async () => {
  await server?.stop();
  await instance?.cleanup();
  await dns?.close();
});

/** Runs a document script with bash; only the host (and a placeholder a person fills in) differ. */
async function runScript(name: string, env: Record<string, string>, placeholders: Record<string, string> = {}) {
  let text = script(name).replaceAll(POSTHOG, server.url);
  for (const [placeholder, value] of Object.entries(placeholders)) text = text.replaceAll(placeholder, value);
  const result = await run('bash', ['-c', text], { ...env, PATH: pathWithModernJq() });
  expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
  return splitJsonStream(result.stdout);
}

describe('warden bootstrap', () => {
  it('printed the owner, organization, default project and an all-scopes key', () => {
    expect(boot.user).toMatchObject({ email: 'owner@acme.test' });
    expect(boot.user.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(boot.organization.name).toBe('Acme');
    expect(boot.project.api_token).toMatch(/^phc_/);
    expect(boot.personal_api_key).toMatch(/^phx_[0-9A-Za-z]{48}$/);
  });
});

describe("the source document's scripts", () => {
  let member: { uuid: string; email: string };
  let productionId: number;

  it('step 1: creates a private Production project, adds a member at level 1 and lists them', async () => {
    const owner = new Client(server.url).withKey(boot.personal_api_key);
    const invite = await owner.post(`/api/organizations/${boot.organization.id}/invites/`, { target_email: 'mia@acme.test', level: 1 });
    expect(invite.status).toBe(201);
    const joined = await new Client(server.url).post(`/api/signup/${invite.body.id}/`, { first_name: 'Mia', password: PASSWORD });
    expect(joined.status).toBe(201);
    member = { uuid: joined.body.uuid, email: 'mia@acme.test' };

    // The script needs $PROD_PROJECT_ID before it creates the project: on this fresh instance the
    // next project gets the next id, and the first output is checked to be exactly that project.
    const existing = await owner.get('/api/projects/');
    productionId = Math.max(...existing.body.results.map((p: { id: number }) => p.id)) + 1;

    const outputs = (await runScript(
      'step1.sh',
      { ORG_ID: boot.organization.id, POSTHOG_PERSONAL_API_KEY: boot.personal_api_key, PROD_PROJECT_ID: String(productionId) },
      { USER_UUID: member.uuid },
    )) as any[];
    expect(outputs).toHaveLength(3);
    const [project, added, listed] = outputs;
    expect(project).toMatchObject({ id: productionId, name: 'Production', access_control: true, organization: boot.organization.id });
    expect(added).toMatchObject({ level: 1, user: { uuid: member.uuid, email: member.email } });
    expect(Object.keys(listed).sort()).toEqual(['email', 'joined_at', 'level']);
    expect(listed).toMatchObject({ email: member.email, level: 1 });
    expect(new Date(listed.joined_at).getTime()).not.toBeNaN();

    // And it means what the document says: the member reaches Production only through that membership.
    const mia = new Client(server.url);
    expect((await mia.post('/api/login/', { email: member.email, password: PASSWORD })).status).toBe(200);
    expect((await mia.get(`/api/projects/${productionId}/`)).body.effective_membership_level).toBe(1);
    expect((await owner.delete(`/api/projects/${productionId}/members/${member.uuid}/`)).status).toBe(204);
    expect((await mia.get(`/api/projects/${productionId}/`)).status).toBe(403);
  });

  it('step 2: creates the three scoped keys and the list shows them', async () => {
    const outputs = (await runScript('step2.sh', { POSTHOG_PERSONAL_API_KEY: boot.personal_api_key })) as any[];
    const created = outputs.slice(0, 3);
    expect(created.map((k) => [k.label, k.scopes])).toEqual([
      ['bi-dashboard-readonly', ['insight:read', 'dashboard:read', 'query:read']],
      ['flag-service', ['feature_flag:read', 'feature_flag:write']],
      ['data-export-readonly', ['event:read', 'query:read']],
    ]);
    for (const key of created) expect(key.value).toMatch(/^phx_/);
    const listed = outputs.slice(3);
    expect(listed.map((k) => k.label).sort()).toEqual(['bi-dashboard-readonly', 'bootstrap', 'data-export-readonly', 'flag-service']);
    for (const key of listed) {
      expect(Object.keys(key).sort()).toEqual(['created_at', 'id', 'label', 'scopes']);
    }
  });

  it('step 3: reports the SSO status fields', async () => {
    const [status] = (await runScript('step3.sh', { ORG_ID: boot.organization.id, POSTHOG_PERSONAL_API_KEY: boot.personal_api_key })) as any[];
    expect(status).toEqual({ enforce_sso: false, saml_configured: false, member_count: 2 });
  });

  it('step 4: the activity log shows who changed members, keys and flags', async () => {
    // Beyond steps 1-3 (member joined, keys created): the owner re-levels the member and changes a flag.
    const owner = new Client(server.url).withKey(boot.personal_api_key);
    const releveled = await owner.patch(`/api/organizations/${boot.organization.id}/members/${member.uuid}/`, { level: 8 });
    expect(releveled.status, JSON.stringify(releveled.body)).toBe(200);
    const flag = await owner.post(`/api/projects/${boot.project.id}/feature_flags/`, { key: 'new-checkout', name: 'New checkout' });
    expect(flag.status, JSON.stringify(flag.body)).toBe(201);
    const patched = await owner.patch(`/api/projects/${boot.project.id}/feature_flags/${flag.body.id}/`, { active: false });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);

    const outputs = (await runScript('step4.sh', {
      POSTHOG_PROJECT_ID: String(boot.project.id),
      POSTHOG_PERSONAL_API_KEY: boot.personal_api_key,
    })) as any[];
    expect(outputs).toHaveLength(2);
    const [permissions, flags] = outputs as [any[], any[]];

    expect(permissions.length).toBeGreaterThanOrEqual(5);
    expect(permissions.length).toBeLessThanOrEqual(10);
    for (const entry of permissions) {
      expect(Object.keys(entry).sort()).toEqual(['activity', 'created_at', 'detail', 'user']);
      expect(entry.activity).toMatch(/member|role|api_key/);
      expect(new Date(entry.created_at).getTime()).not.toBeNaN();
    }
    // Newest first: the re-levelling, then the three keys of step 2, all made by the owner.
    expect(permissions[0]).toMatchObject({
      user: boot.user.email,
      activity: 'member_level_changed',
      detail: { changes: [{ field: 'level', before: 1, after: 8 }] },
    });
    expect(permissions[0].detail.name).toContain(member.email);
    const keys = permissions.filter((e) => e.activity === 'api_key_created');
    expect(keys.map((e) => e.detail.name).slice(0, 3)).toEqual(['data-export-readonly', 'flag-service', 'bi-dashboard-readonly']);
    for (const entry of keys) expect(entry.user).toBe(boot.user.email);
    // The member joining (step 1) was done by the member themself.
    const joined = permissions.find((e) => e.activity === 'member_joined' && e.detail.name?.includes(member.email));
    expect(joined?.user).toBe(member.email);
    expect(permissions.find((e) => e.activity === 'member_invited')?.user).toBe(boot.user.email);

    expect(flags).toEqual([
      { user: boot.user.email, activity: 'updated', item_id: String(flag.body.id), created_at: expect.any(String) },
      { user: boot.user.email, activity: 'created', item_id: String(flag.body.id), created_at: expect.any(String) },
    ]);
  });
});

describe('step 3 after SSO is set up', () => {
  it('reports enforce_sso and the enforcing SAML provider once a verified domain enforces it', async () => {
    const owner = new Client(server.url).withKey(boot.personal_api_key);
    const org = `/api/organizations/${boot.organization.id}`;
    const domain = await owner.post(`${org}/domains/`, { domain: 'acme.test' });
    expect(domain.status, JSON.stringify(domain.body)).toBe(201);
    dns.txt.set('_posthog-challenge.acme.test', [domain.body.verification_challenge]);
    expect((await owner.post(`${org}/domains/${domain.body.id}/verify/`)).body.is_verified).toBe(true);
    const saml = { saml_entity_id: 'https://idp.acme.test/', saml_acs_url: 'https://idp.acme.test/sso', saml_x509_cert: selfSignedCertificate().cert };
    expect((await owner.patch(`${org}/domains/${domain.body.id}/`, saml)).status).toBe(200);

    // Configured but not enforced: the document's query reports no enforcement yet.
    const [configured] = (await runScript('step3.sh', { ORG_ID: boot.organization.id, POSTHOG_PERSONAL_API_KEY: boot.personal_api_key })) as any[];
    expect(configured).toEqual({ enforce_sso: false, saml_configured: false, member_count: 2 });

    expect((await owner.patch(`${org}/domains/${domain.body.id}/`, { sso_enforcement: 'saml' })).status).toBe(200);
    const [enforced] = (await runScript('step3.sh', { ORG_ID: boot.organization.id, POSTHOG_PERSONAL_API_KEY: boot.personal_api_key })) as any[];
    expect(enforced).toEqual({ enforce_sso: true, saml_configured: true, member_count: 2 });
    // And it bites: the domain's people can no longer log in with a password.
    const login = await new Client(server.url).post('/api/login/', { email: 'mia@acme.test', password: PASSWORD });
    expect(login.status).toBe(400);
    expect(login.body.code).toBe('sso_enforced');
  });
});

describe('after the server stops', () => {
  it('a second bootstrap on the same instance fails with exit code 1', async () => {
    expect(await server.stop()).toBe(0);
    const again = await warden(
      ['bootstrap', '--email', 'other@acme.test', '--password', PASSWORD, '--organization', 'Other', '--json', ...instance.args],
      instance.env,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already has users');
    expect(again.stdout).toBe('');
  });
});
