/**
 * The grant ceiling and key confinement (issue 16): no path grants more than its caller holds.
 * Each case is one way an attacker reached an effect the direct routes refuse: a project-confined
 * key on organization routes, a key policy dodged by routes without an organization in the path, an
 * SSO group mapping above its author's level (saved, and applied through a real IdP), a key for an
 * owner-level service account, a SCIM token acting on an owner and on other organizations, a
 * lower invite replacing a higher one, unverified domain claims, and an empty group attribute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markDomainVerifiedByOperator } from '../../src/domain/sso/organization-domains.js';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { Client } from '../helpers/client.js';
import { newSigningKey, startIdp, type SigningKey, type TestIdp } from '../helpers/saml-idp.js';
import { expectScimError, insertDomain, issueToken, scimRequest, USER_SCHEMA } from '../helpers/scim.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { acsUrl, b64, Browser, insertSamlDomain, postToAcs, spEntityId, spInitiatedLogin } from '../helpers/sso-setup.js';
import { addMember, expectError, keyClient, newOrganization, PASSWORD, type Org, type Person } from '../helpers/world.js';
import { all, ASSERTION, edit, resign } from '../fixtures/saml/forge.js';

const PROJECT_CONFINED = 'API keys with scoped projects are only supported on project-based views.';
const ORGANIZATION_CONFINED = 'API keys with scoped organizations are only supported on views of those organizations.';

let server: TestServer;
let idp: TestIdp;
let idpKey: SigningKey;

beforeAll(async () => {
  server = await startServer();
  idpKey = await newSigningKey();
  idp = await startIdp({ signer: idpKey, spEntityId: spEntityId(server), acsUrl: acsUrl(server) });
});
afterAll(async () => {
  await idp?.close();
  await server?.close();
});

/** Someone with an address of `domain`, invited at `level` and signed up with a password. */
async function inviteAs(org: Org, email: string, level: 1 | 8 | 15): Promise<Person> {
  const invite = await org.owner.client.post(`/api/organizations/${org.id}/invites/`, { target_email: email, level });
  expect(invite.status, JSON.stringify(invite.body)).toBe(201);
  const client = new Client(server.url);
  const res = await client.post(`/api/signup/${invite.body.id}/`, { first_name: 'Pat', password: PASSWORD });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { client, user: { id: res.body.id, uuid: res.body.uuid, email } };
}

/** A list answer: PostHog's paginated `{results}` or a bare array. */
const listOf = (body: unknown): unknown[] => (Array.isArray(body) ? body : (body as { results: unknown[] }).results);

async function levelIn(orgId: string, userId: number): Promise<number | undefined> {
  const [row] = await server.db.query<{ level: number }>('SELECT level FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
    orgId,
    userId,
  ]);
  return row?.level;
}

async function deniedSince(seq: number, reason: string | RegExp): Promise<boolean> {
  const rows = await rowsSince(server.db, seq);
  return rows.some(
    (r) => r.activity === 'access_denied' && (typeof reason === 'string' ? JSON.stringify(r.detail).includes(reason) : reason.test(JSON.stringify(r.detail))),
  );
}

describe('key confinement on every route', () => {
  it('a project-confined key is refused on every route that is not about a project, in any organization of its user', async () => {
    const a = await newOrganization(server.url, 'Confined A');
    const b = await a.owner.client.post('/api/organizations/', { name: 'Confined B' });
    expect(b.status).toBe(201);
    const key = await keyClient(a.owner, ['*'], { scoped_teams: [a.defaultProjectId] });
    const seq = await lastSeq(server.db);
    for (const org of [a.id, b.body.id as string]) {
      expectError(await key.get(`/api/organizations/${org}/members/`), 403, PROJECT_CONFINED);
      expectError(await key.post(`/api/organizations/${org}/invites/`, { target_email: 'x@example.com', level: 8 }), 403, PROJECT_CONFINED);
      expectError(await key.post(`/api/organizations/${org}/roles/`, { name: 'Sneaky' }), 403, PROJECT_CONFINED);
      expectError(await key.post(`/api/organizations/${org}/projects/`, { name: 'Sneaky' }), 403, PROJECT_CONFINED);
      expectError(await key.patch(`/api/organizations/${org}/`, { name: 'Renamed' }), 403, PROJECT_CONFINED);
      expectError(await key.get(`/api/organizations/${org}/activity_log/`), 403, PROJECT_CONFINED);
    }
    for (const path of ['/api/organizations/', '/api/projects/', '/api/users/@me/']) expectError(await key.get(path), 403, PROJECT_CONFINED);
    expectError(await key.post('/api/organizations/', { name: 'New' }), 403, PROJECT_CONFINED);
    // Its own project still works, and nothing above changed anything.
    expect((await key.get(`/api/projects/${a.defaultProjectId}/`)).status).toBe(200);
    expect((await a.owner.client.get(`/api/organizations/${a.id}/`)).body.name).toBe('Confined A');
    expect((await a.owner.client.get(`/api/organizations/${a.id}/invites/`)).body.results).toEqual([]);
    expect(await deniedSince(seq, 'project-confined key')).toBe(true);
  });

  it('an organization-confined key sees only its organizations and cannot change the account or make an organization', async () => {
    const a = await newOrganization(server.url, 'Org-confined A');
    const b = await a.owner.client.post('/api/organizations/', { name: 'Org-confined B' });
    const key = await keyClient(a.owner, ['*'], { scoped_organizations: [a.id] });
    const orgs = await key.get('/api/organizations/');
    expect(orgs.status).toBe(200);
    expect(orgs.body.results.map((o: { id: string }) => o.id)).toEqual([a.id]);
    const me = await key.get('/api/users/@me/');
    expect(me.body.organizations.map((o: { id: string }) => o.id)).toEqual([a.id]);
    expect((await key.get('/api/projects/')).body.results.every((p: { organization: string }) => p.organization === a.id)).toBe(true);
    expectError(await key.get(`/api/organizations/${b.body.id}/`), 403, `API key does not have access to the requested organization: ID ${b.body.id}.`);
    expectError(await key.post('/api/organizations/', { name: 'Escape' }), 403, ORGANIZATION_CONFINED);
    expectError(await key.patch('/api/users/@me/', { first_name: 'Changed' }), 403, ORGANIZATION_CONFINED);
    expect((await a.owner.client.get('/api/users/@me/')).body.first_name).toBe('Olive');
    expect((await a.owner.client.get('/api/organizations/')).body.count).toBe(2);
  });

  it('an organization that forbids member keys is obeyed on routes with no organization in the path', async () => {
    const org = await newOrganization(server.url, 'No member keys');
    const member = await addMember(org, 1);
    const key = await keyClient(member, ['*']);
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { members_can_use_personal_api_keys: false })).status).toBe(200);
    const forbidden = `Organization 'No member keys' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.`;
    for (const path of ['/api/organizations/', '/api/projects/', '/api/users/@me/']) expectError(await key.get(path), 403, forbidden);
    expectError(await key.patch('/api/users/@me/', { first_name: 'Changed' }), 403, forbidden);
    expectError(await key.post('/api/personal_api_keys/', { label: 'more', scopes: ['*'] }), 403, forbidden);
    expect((await member.client.get('/api/users/@me/')).body.first_name).toBe('Mel');

    // In another organization that allows keys, the key reads what it reaches there; account writes still need every organization.
    const other = await newOrganization(server.url, 'Keys welcome');
    const invite = await other.owner.client.post(`/api/organizations/${other.id}/invites/`, { target_email: member.user.email, level: 1 });
    expect((await member.client.post(`/api/signup/${invite.body.id}/`, {})).status).toBe(201);
    const listed = await key.get('/api/organizations/');
    expect(listed.status).toBe(200);
    expect(listed.body.results.map((o: { id: string }) => o.id)).toEqual([other.id]);
    expect((await key.get('/api/users/@me/')).body.organizations.map((o: { id: string }) => o.id)).toEqual([other.id]);
    expectError(await key.patch('/api/users/@me/', { first_name: 'Changed' }), 403, forbidden);
    // An admin of the forbidding organization is not bound by it.
    const admin = await addMember(org, 8);
    expect((await (await keyClient(admin, ['*'])).get('/api/organizations/')).status).toBe(200);
  });
});

describe('the grant ceiling', () => {
  it('an Admin cannot map an IdP group above their level; a mapping an Admin saved never changes an Owner at login', async () => {
    const org = await newOrganization(server.url, 'Mapped');
    const admin = await addMember(org, 8);
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert]);
    const mappings = `/api/organizations/${org.id}/domains/${d.id}/group_mappings/`;
    const seq = await lastSeq(server.db);
    expectError(
      await admin.client.post(mappings, { group_name: 'idp-owners', level: 15 }),
      403,
      "You can only make another member owner if you're this organization's owner.",
    );
    expect(await deniedSince(seq, 'only make another member owner')).toBe(true);
    const devs = await admin.client.post(mappings, { group_name: 'idp-devs', level: 8 });
    expect(devs.status, JSON.stringify(devs.body)).toBe(201);
    expect(listOf((await admin.client.get(mappings)).body)).toHaveLength(1);

    // A second owner whose address is in the domain signs in through the IdP, in no mapped group:
    // the Admin's mappings would make them a Member (and in idp-devs an Admin); they stay Owner.
    const boss = await inviteAs(org, `boss@${d.domain}`, 15);
    for (const groups of [['other'], ['idp-devs']]) {
      idp.user = { nameId: `boss-${d.id}`, email: boss.user.email, groups };
      expect((await spInitiatedLogin(new Browser(server.url), d.id)).status).toBe(302);
      expect(await levelIn(org.id, boss.user.id)).toBe(15);
    }
    // The same mapping still works within its ceiling: a Member in idp-devs becomes an Admin.
    const dev = await inviteAs(org, `dev@${d.domain}`, 1);
    idp.user = { nameId: `dev-${d.id}`, email: dev.user.email, groups: ['idp-devs'] };
    expect((await spInitiatedLogin(new Browser(server.url), d.id)).status).toBe(302);
    expect(await levelIn(org.id, dev.user.id)).toBe(8);
    // An owner's own owner-level mapping cannot be removed by the Admin either.
    const owners = await org.owner.client.post(mappings, { group_name: 'idp-owners', level: 15 });
    expect(owners.status).toBe(201);
    expectError(await admin.client.delete(`${mappings}${owners.body.id}/`), 403);
  });

  it('an Admin cannot mint, roll or delete keys of an Owner-level service account, nor delete it', async () => {
    const org = await newOrganization(server.url, 'Automation');
    const admin = await addMember(org, 8);
    const base = `/api/organizations/${org.id}/service_accounts/`;
    const account = await org.owner.client.post(base, { name: 'deployer' });
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/members/${account.body.id}/`, { level: 15 })).status).toBe(200);
    const ownerKey = await org.owner.client.post(`${base}${account.body.id}/keys/`, { label: 'ci', scopes: ['*'] });
    expect(ownerKey.status).toBe(201);
    const above = 'You can only manage service accounts with a level lower or equal to yours.';
    expectError(await admin.client.post(`${base}${account.body.id}/keys/`, { label: 'mine', scopes: ['*'] }), 403, above);
    expectError(await admin.client.post(`${base}${account.body.id}/keys/${ownerKey.body.id}/roll/`), 403, above);
    expectError(await admin.client.delete(`${base}${account.body.id}/keys/${ownerKey.body.id}/`), 403, above);
    expectError(await admin.client.delete(`${base}${account.body.id}/`), 403, above);
    expect(listOf((await org.owner.client.get(`${base}${account.body.id}/keys/`)).body)).toHaveLength(1);
    // The original key still works (it was not rolled), and an Admin-level account stays the Admin's to manage.
    expect((await new Client(server.url).withKey(ownerKey.body.value).get(`/api/organizations/${org.id}/`)).status).toBe(200);
    const helper = await admin.client.post(base, { name: 'helper', level: 8 });
    expect((await admin.client.post(`${base}${helper.body.id}/keys/`, { label: 'k', scopes: ['project:read'] })).status).toBe(201);
  });

  it("an Admin's SCIM token cannot link or deprovision an Owner, and deprovisioning touches only its own organization", async () => {
    const org = await newOrganization(server.url, 'Provisioned');
    const admin = await addMember(org, 8);
    const { id: domainId, domain } = await insertDomain(server, org.id);
    const owner2 = await inviteAs(org, `chief@${domain}`, 15);
    const token = await issueToken(admin, org.id, domainId);
    const scim = new Client(server.url).withKey(token);
    const base = `/scim/v2/${domainId}`;
    const user = (email: string) => ({ schemas: [USER_SCHEMA], userName: email, name: { givenName: 'A', familyName: 'B' }, active: true });
    const seq = await lastSeq(server.db);
    expectScimError(await scimRequest(scim, 'POST', `${base}/Users`, user(owner2.user.email)), 403);
    expect(await deniedSince(seq, "above its issuer's")).toBe(true);
    expect(await levelIn(org.id, owner2.user.id)).toBe(15);
    expect((await owner2.client.get('/api/users/@me/')).status).toBe(200);

    // A Member who also belongs to another organization, with a key confined here and one that is not.
    const member = await inviteAs(org, `pat@${domain}`, 1);
    const elsewhere = await newOrganization(server.url, 'Elsewhere');
    const invite = await elsewhere.owner.client.post(`/api/organizations/${elsewhere.id}/invites/`, { target_email: member.user.email, level: 1 });
    expect((await member.client.post(`/api/signup/${invite.body.id}/`, {})).status).toBe(201);
    const confined = await keyClient(member, ['*'], { scoped_organizations: [org.id] });
    const everywhere = await keyClient(member, ['*']);
    const linked = await scimRequest(scim, 'POST', `${base}/Users`, user(member.user.email));
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    const off = await scimRequest(scim, 'PATCH', `${base}/Users/${linked.body.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(await levelIn(org.id, member.user.id)).toBeUndefined();
    expect(await levelIn(elsewhere.id, member.user.id)).toBe(1);
    expect((await confined.get('/api/users/@me/')).status).toBe(401);
    expect((await everywhere.get(`/api/organizations/${elsewhere.id}/`)).status).toBe(200);
    expect((await member.client.get(`/api/organizations/${elsewhere.id}/`)).status).toBe(200);
  });

  it('a Member cannot replace a pending Admin invite with their own', async () => {
    const org = await newOrganization(server.url, 'Invites');
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { members_can_invite: true })).status).toBe(200);
    const member = await addMember(org, 1);
    const email = `newcomer-${Date.now()}@example.com`;
    const adminInvite = await org.owner.client.post(`/api/organizations/${org.id}/invites/`, { target_email: email, level: 8 });
    expect(adminInvite.status).toBe(201);
    expectError(await member.client.post(`/api/organizations/${org.id}/invites/`, { target_email: email, level: 1 }), 403);
    const pending = (await org.owner.client.get(`/api/organizations/${org.id}/invites/`)).body.results;
    expect(pending.map((i: { id: string; level: number }) => [i.id, i.level])).toEqual([[adminInvite.body.id, 8]]);
    // A Member may still re-invite over a Member's invite.
    const other = `peer-${Date.now()}@example.com`;
    expect((await member.client.post(`/api/organizations/${org.id}/invites/`, { target_email: other, level: 1 })).status).toBe(201);
    expect((await member.client.post(`/api/organizations/${org.id}/invites/`, { target_email: other, level: 1 })).status).toBe(201);
  });

  it("an unverified claim blocks nobody and says nothing about other organizations' claims", async () => {
    const squatter = await newOrganization(server.url, 'Squatter');
    const owner = await newOrganization(server.url, 'Rightful');
    const name = `claimed-${Date.now()}.example.com`;
    const first = await squatter.owner.client.post(`/api/organizations/${squatter.id}/domains/`, { domain: name });
    expect(first.status).toBe(201);
    const second = await owner.owner.client.post(`/api/organizations/${owner.id}/domains/`, { domain: name });
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(JSON.stringify(second.body)).not.toContain(squatter.id);
    // The operator must say which claim to verify; once verified, the name is exclusive.
    await expect(markDomainVerifiedByOperator(server.db, name)).rejects.toThrow(/2 organizations have added/);
    expect((await markDomainVerifiedByOperator(server.db, name, owner.id)).verified_at).not.toBeNull();
    await expect(markDomainVerifiedByOperator(server.db, name, squatter.id)).rejects.toThrow('This domain is already verified by another organization.');
    const third = await newOrganization(server.url, 'Late');
    expect((await third.owner.client.post(`/api/organizations/${third.id}/domains/`, { domain: name })).status).toBe(201);
  });

  it('an IdP that sends the group attribute empty takes the mapped level and roles away', async () => {
    const org = await newOrganization(server.url, 'Empty groups');
    const d = await insertSamlDomain(server, org.id, idp, [idpKey.cert], { idpInitiated: true });
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Engineers' });
    const mappings = `/api/organizations/${org.id}/domains/${d.id}/group_mappings/`;
    expect((await org.owner.client.post(mappings, { group_name: 'eng', level: 8, role_id: role.body.id })).status).toBe(201);
    const email = `quinn@${d.domain}`;
    idp.user = { nameId: `quinn-${d.id}`, email, groups: ['eng'] };
    expect((await spInitiatedLogin(new Browser(server.url), d.id)).status).toBe(302);
    const member = async () => (await org.owner.client.get(`/api/organizations/${org.id}/members/?email=${encodeURIComponent(email)}`)).body.results[0];
    expect((await member()).level).toBe(8);

    // The user left every group: the IdP (as pysaml2 does) sends `groups` with no value at all.
    const genuine = await idp.response({ user: { nameId: `quinn-${d.id}`, email, groups: ['placeholder'] } });
    const emptied = edit(genuine, (doc) => {
      for (const value of all(`${ASSERTION}/saml:AttributeStatement/saml:Attribute[@Name='groups']/saml:AttributeValue`, doc))
        value.parentNode!.removeChild(value);
    });
    expect(emptied).toMatch(/<saml:Attribute Name="groups"[^>]*\/>|<saml:Attribute Name="groups"[^>]*><\/saml:Attribute>/);
    const signed = resign(emptied, { assertion: idpKey, response: idpKey });
    expect((await postToAcs(new Browser(server.url), { SAMLResponse: b64(signed), RelayState: d.id })).status).toBe(302);
    expect((await member()).level).toBe(1);
    const roleMembers = await org.owner.client.get(`/api/organizations/${org.id}/roles/${role.body.id}/role_memberships/`);
    expect(JSON.stringify(roleMembers.body)).not.toContain(email);
  });
});
