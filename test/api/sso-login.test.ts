/**
 * The SSO login use case behind SAML and OIDC (completeSsoLogin), on a real database: identity by
 * (domain, provider, subject), JIT provisioning, invites and the default role, group mapping with
 * demotions, and the refusals. The SAML and OIDC tests drive the same code through real IdPs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDomainById, type DomainRecord } from '../../src/domain/sso/sso-domains.js';
import { completeSsoLogin, SsoLoginRefused, type SsoIdentity } from '../../src/domain/sso/sso-login.js';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

async function domainOf(org: Org, settings: { jit?: boolean; verified?: boolean } = {}): Promise<DomainRecord> {
  const name = `sso-${randomBytes(4).toString('hex')}.test`;
  const [row] = await server.db.query<{ id: string }>(
    `INSERT INTO organization_domains (organization_id, domain, verification_challenge, verified_at, jit_provisioning_enabled)
     VALUES ($1, $2, 'c', ${settings.verified === false ? 'NULL' : 'now()'}, $3) RETURNING id`,
    [org.id, name, settings.jit ?? true],
  );
  return (await findDomainById(server.db, row!.id))!;
}

const identity = (domain: DomainRecord, over: Partial<SsoIdentity> = {}): SsoIdentity => ({
  domain,
  provider: 'saml',
  subject: `subject-${randomBytes(4).toString('hex')}`,
  email: `p-${randomBytes(3).toString('hex')}@${domain.domain}`,
  firstName: 'Sam',
  lastName: 'Ling',
  groups: null,
  ...over,
});

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SsoLoginRefused);
    return (err as SsoLoginRefused).reason;
  }
  throw new Error('the login was not refused');
}

async function levelOf(orgId: string, userId: number): Promise<number | undefined> {
  const [row] = await server.db.query<{ level: number }>('SELECT level FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
    orgId,
    userId,
  ]);
  return row?.level;
}

async function rolesOf(orgId: string, userId: number): Promise<string[]> {
  const rows = await server.db.query<{ name: string }>(
    `SELECT r.name FROM role_memberships rm JOIN roles r ON r.id = rm.role_id
       JOIN organization_memberships m ON m.id = rm.organization_member_id WHERE m.organization_id = $1 AND m.user_id = $2 ORDER BY r.name`,
    [orgId, userId],
  );
  return rows.map((r) => r.name);
}

describe('SSO login', () => {
  it('JIT-provisions a new person at Member with the default role, opens a working session, and records it as the system', async () => {
    const org = await newOrganization(server.url);
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Everyone' });
    await org.owner.client.patch(`/api/organizations/${org.id}/`, { default_role_id: role.body.id });
    const domain = await domainOf(org);
    const seq = await lastSeq(server.db);
    const who = identity(domain);
    const result = await completeSsoLogin(server.db, who);
    expect(result.provisioned).toBe(true);
    expect(result.user).toMatchObject({ email: who.email, first_name: 'Sam', last_name: 'Ling', password_hash: null });
    expect(await levelOf(org.id, result.user.id)).toBe(1);
    expect(await rolesOf(org.id, result.user.id)).toEqual(['Everyone']);

    const client = new Client(server.url);
    const me = await client.request('GET', '/api/users/@me/', undefined, { headers: { cookie: `sessionid=${result.session.token}` } });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(who.email);
    expect(me.body.organization.id).toBe(org.id);
    const [session] = await server.db.query<{ auth_method: string }>('SELECT auth_method FROM sessions WHERE user_id = $1', [result.user.id]);
    expect(session!.auth_method).toBe('saml');

    const entries = await rowsSince(server.db, seq);
    expect(entries.map((e) => e.activity)).toEqual(['sso_identity_linked', 'member_joined', 'role_assigned']);
    const flags = await server.db.query<{ is_system: boolean; user_id: number | null }>('SELECT is_system, user_id FROM activity_log WHERE seq > $1', [seq]);
    for (const f of flags) expect(f).toEqual({ is_system: true, user_id: null });
  });

  it('knows the person by subject, not email; refuses a new subject claiming a linked account', async () => {
    const org = await newOrganization(server.url);
    const domain = await domainOf(org);
    const first = identity(domain);
    const { user } = await completeSsoLogin(server.db, first);
    // The IdP renamed the address: same subject, same account.
    const renamed = await completeSsoLogin(server.db, { ...first, email: `renamed@${domain.domain}` });
    expect(renamed.user.id).toBe(user.id);
    expect(renamed.provisioned).toBe(false);
    // Another subject presenting the first address does not get that account.
    expect(await refusal(completeSsoLogin(server.db, { ...first, subject: 'someone-else' }))).toBe('identity_conflict');
    // The same subject at another provider (OIDC) is a different identity: linked to the same account by its email.
    const oidc = await completeSsoLogin(server.db, { ...first, provider: 'oidc' });
    expect(oidc.user.id).toBe(user.id);
  });

  it('joins a pending invite at its level, and removes the invite', async () => {
    const org = await newOrganization(server.url);
    const domain = await domainOf(org);
    const who = identity(domain);
    const invite = await org.owner.client.post(`/api/organizations/${org.id}/invites/`, { target_email: who.email, level: 8 });
    expect(invite.status).toBe(201);
    const { user } = await completeSsoLogin(server.db, who);
    expect(await levelOf(org.id, user.id)).toBe(8);
    expect((await org.owner.client.get(`/api/organizations/${org.id}/invites/`)).body.results).toHaveLength(0);
  });

  it('refuses: unverified domain, address outside the domain, no JIT for a stranger, no email, a deactivated account', async () => {
    const org = await newOrganization(server.url);
    const before = await lastSeq(server.db);
    expect(await refusal(completeSsoLogin(server.db, identity(await domainOf(org, { verified: false }))))).toBe('domain_not_verified');
    const domain = await domainOf(org);
    expect(await refusal(completeSsoLogin(server.db, identity(domain, { email: 'x@elsewhere.test' })))).toBe('email_domain_mismatch');
    expect(await refusal(completeSsoLogin(server.db, identity(domain, { email: ' ' })))).toBe('missing_email');
    expect(await refusal(completeSsoLogin(server.db, identity(await domainOf(org, { jit: false }))))).toBe('jit_not_enabled');
    const who = identity(domain);
    const { user } = await completeSsoLogin(server.db, who);
    await server.db.query('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    expect(await refusal(completeSsoLogin(server.db, who))).toBe('user_inactive');
    // Refused logins change nothing: the only entries are those of the one login that succeeded.
    const activities = (await rowsSince(server.db, before)).map((e) => e.activity);
    expect(activities).toEqual(['sso_identity_linked', 'member_joined']);
  });

  it('re-applies group mapping at every login: promotion, roles, demotion, and never the last owner', async () => {
    const org = await newOrganization(server.url);
    const domain = await domainOf(org);
    const admins = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Admins' });
    const eng = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Engineering' });
    const unmapped = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Unmapped' });
    const mappings = `/api/organizations/${org.id}/domains/${domain.id}/group_mappings/`;
    expect((await org.owner.client.post(mappings, { group_name: 'idp-admins', level: 8, role_id: admins.body.id })).status).toBe(201);
    expect((await org.owner.client.post(mappings, { group_name: 'idp-eng', role_id: eng.body.id })).status).toBe(201);
    expect((await org.owner.client.post(mappings, { group_name: 'idp-owners', level: 15 })).status).toBe(201);

    const who = identity(domain, { groups: ['idp-admins', 'idp-eng', 'not-mapped'] });
    const { user } = await completeSsoLogin(server.db, who);
    expect(await levelOf(org.id, user.id)).toBe(8);
    expect(await rolesOf(org.id, user.id)).toEqual(['Admins', 'Engineering']);
    // A role given by hand, outside the mapping, is left alone.
    const [m] = await server.db.query<{ id: string }>('SELECT id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [org.id, user.id]);
    await server.db.query('INSERT INTO role_memberships (role_id, organization_member_id) VALUES ($1, $2)', [unmapped.body.id, m!.id]);

    // Next login: out of idp-admins -> demoted to Member and out of Admins; still in Engineering.
    const seq = await lastSeq(server.db);
    await completeSsoLogin(server.db, { ...who, groups: ['idp-eng'] });
    expect(await levelOf(org.id, user.id)).toBe(1);
    expect(await rolesOf(org.id, user.id)).toEqual(['Engineering', 'Unmapped']);
    const entries = await rowsSince(server.db, seq);
    expect(entries.map((e) => e.activity)).toEqual(['member_level_changed', 'role_unassigned']);
    expect(entries[0]!.detail.changes).toEqual([{ type: 'OrganizationMembership', action: 'changed', field: 'level', before: 8, after: 1 }]);

    // An IdP that sends no groups at all changes nothing.
    const quiet = await lastSeq(server.db);
    await completeSsoLogin(server.db, { ...who, groups: null });
    expect(await rowsSince(server.db, quiet)).toEqual([]);

    // Owner through a group, then the group is gone: the only other owner... is the creator, so demotion applies.
    await completeSsoLogin(server.db, { ...who, groups: ['idp-owners'] });
    expect(await levelOf(org.id, user.id)).toBe(15);
    await server.db.query('UPDATE organization_memberships SET level = 8 WHERE organization_id = $1 AND user_id = $2', [org.id, org.owner.user.id]);
    // Now this person is the last owner: losing the group does not demote them.
    await completeSsoLogin(server.db, { ...who, groups: [] });
    expect(await levelOf(org.id, user.id)).toBe(15);
  });
});
