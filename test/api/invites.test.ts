import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, PASSWORD, uniqueEmail, type Org } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const invites = (org: Org) => `/api/organizations/${org.id}/invites/`;
const DAY_MS = 24 * 3600 * 1000;

async function inviteEmails(org: Org): Promise<string[]> {
  const res = await org.owner.client.get(invites(org));
  expect(res.status).toBe(200);
  return res.body.results.map((i: any) => i.target_email).sort();
}

async function memberLevels(org: Org): Promise<Record<string, number>> {
  const res = await org.owner.client.get(`/api/organizations/${org.id}/members/`);
  expect(res.status).toBe(200);
  return Object.fromEntries(res.body.results.map((m: any) => [m.user.email, m.level]));
}

async function userCount(email: string): Promise<number> {
  const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE lower(email) = lower($1)', [email]);
  return row!.n;
}

describe('creating invites', () => {
  it('returns the invite in PostHog shape, valid for three days', async () => {
    const org = await newOrganization(server.url);
    const email = uniqueEmail('invitee');
    const before = Date.now();
    const res = await org.owner.client.post(invites(org), { target_email: email, level: 8 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      target_email: email,
      level: 8,
      is_expired: false,
      created_by: { uuid: org.owner.user.uuid, email: org.owner.user.email },
    });
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const expires = new Date(res.body.expires_at).getTime();
    expect(expires).toBeGreaterThan(before + 3 * DAY_MS - 60_000);
    expect(expires).toBeLessThan(Date.now() + 3 * DAY_MS + 60_000);
    expect(await inviteEmails(org)).toEqual([email]);
  });

  it('never invites above the inviter’s own level', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const email = uniqueEmail('would-be-owner');
    expectError(
      await admin.client.post(invites(org), { target_email: email, level: 15 }),
      403,
      'You cannot invite a user with a higher permission level than your own.',
      null,
    );
    expect(await inviteEmails(org)).toEqual([]);
    // At or below their level is fine.
    expect((await admin.client.post(invites(org), { target_email: email, level: 8 })).status).toBe(201);
    // Owners may invite owners.
    expect((await org.owner.client.post(invites(org), { target_email: uniqueEmail(), level: 15 })).status).toBe(201);
  });

  it('lets members invite only while members_can_invite is on', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const first = uniqueEmail('by-member');
    const ok = await member.client.post(invites(org), { target_email: first });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.level).toBe(1);
    expect(ok.body.created_by.uuid).toBe(member.user.uuid);
    expectError(
      await member.client.post(invites(org), { target_email: uniqueEmail(), level: 8 }),
      403,
      'You cannot invite a user with a higher permission level than your own.',
    );

    const off = await org.owner.client.patch(`/api/organizations/${org.id}/`, { members_can_invite: false });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.members_can_invite).toBe(false);
    const second = uniqueEmail('by-member');
    expectError(await member.client.post(invites(org), { target_email: second }), 403, 'Your organization access level is insufficient.');
    expect(await inviteEmails(org)).toEqual([first]);
    // Admins still can.
    const admin = await addMember(org, 8);
    expect((await admin.client.post(invites(org), { target_email: second })).status).toBe(201);
  });

  it('rejects existing members and malformed addresses on target_email', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const existing = await org.owner.client.post(invites(org), { target_email: member.user.email.toUpperCase() });
    expectError(existing, 400, 'A user with this email address already belongs to the organization.', 'target_email');
    expect(existing.body.type).toBe('validation_error');
    expectError(await org.owner.client.post(invites(org), { target_email: 'not-an-email' }), 400, 'Enter a valid email address.', 'target_email');
    expectError(await org.owner.client.post(invites(org), {}), 400, 'This field is required.', 'target_email');
    expectError(await org.owner.client.post(invites(org), { target_email: uniqueEmail(), level: 5 }), 400, '"5" is not a valid choice.', 'level');
    expect(await inviteEmails(org)).toEqual([]);
  });

  it('hides the organization from outsiders', async () => {
    const org = await newOrganization(server.url);
    const outsider = await newOrganization(server.url);
    expectError(await outsider.owner.client.post(invites(org), { target_email: uniqueEmail() }), 404, 'Organization not found.');
    expectError(await outsider.owner.client.get(invites(org)), 404, 'Organization not found.');
    expect(await inviteEmails(org)).toEqual([]);
  });
});

describe('listing and deleting invites', () => {
  it('lists paginated and deletes by id', async () => {
    const org = await newOrganization(server.url);
    const emails = [uniqueEmail('a'), uniqueEmail('b'), uniqueEmail('c')];
    const ids: string[] = [];
    for (const target_email of emails) {
      const res = await org.owner.client.post(invites(org), { target_email });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const list = await org.owner.client.get(invites(org));
    expect(list.status).toBe(200);
    expect(Object.keys(list.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(list.body).toMatchObject({ count: 3, next: null, previous: null });
    expect(list.body.results.map((i: any) => i.id).sort()).toEqual([...ids].sort());
    expect(list.body.results[0]).toMatchObject({ is_expired: false, level: 1, created_by: { uuid: org.owner.user.uuid } });
    const paged = await org.owner.client.get(`${invites(org)}?limit=2`);
    expect(paged.body.count).toBe(3);
    expect(paged.body.results).toHaveLength(2);
    expect(paged.body.next).toContain('offset=2');

    expect((await org.owner.client.delete(`${invites(org)}${ids[0]}/`)).status).toBe(204);
    expect(await inviteEmails(org)).toEqual([emails[1], emails[2]].sort());
    expectError(await org.owner.client.delete(`${invites(org)}${ids[0]}/`), 404, 'Not found.');
    expectError(await org.owner.client.delete(`${invites(org)}00000000-0000-4000-8000-000000000000/`), 404, 'Not found.');
    expectError(await org.owner.client.delete(`${invites(org)}not-a-uuid/`), 404, 'Not found.');
    // Another organization's invite is not reachable through this one.
    const other = await newOrganization(server.url);
    const foreign = await other.owner.client.post(invites(other), { target_email: uniqueEmail() });
    expectError(await org.owner.client.delete(`${invites(org)}${foreign.body.id}/`), 404);
    expect((await other.owner.client.get(invites(other))).body.count).toBe(1);
    expect(await inviteEmails(org)).toEqual([emails[1], emails[2]].sort());
  });
});

describe('accepting invites', () => {
  it('shows the invite, signs the invitee up at its level and consumes it', async () => {
    const org = await newOrganization(server.url, 'Invite Org');
    const email = uniqueEmail('joiner');
    const invite = await org.owner.client.post(invites(org), { target_email: email, level: 8 });
    expect(invite.status).toBe(201);
    const anon = new Client(server.url);

    const preview = await anon.get(`/api/signup/${invite.body.id}/`);
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ id: invite.body.id, target_email: email, organization_name: 'Invite Org' });

    const joiner = new Client(server.url);
    const res = await joiner.post(`/api/signup/${invite.body.id}/`, { first_name: 'Jo', password: PASSWORD });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ email, first_name: 'Jo' });
    expect((await memberLevels(org))[email]).toBe(8);
    const me = await joiner.get('/api/users/@me/');
    expect(me.status).toBe(200);
    expect(me.body.organization).toMatchObject({ id: org.id, membership_level: 8 });
    expect(me.body.team.id).toBe(org.defaultProjectId);
    expect((await new Client(server.url).post('/api/login/', { email, password: PASSWORD })).status).toBe(200);

    expect(await inviteEmails(org)).toEqual([]);
    expectError(await new Client(server.url).post(`/api/signup/${invite.body.id}/`, { first_name: 'Again', password: PASSWORD }), 400);
    expectError(await anon.get(`/api/signup/${invite.body.id}/`), 400, 'The provided invite ID is not valid.');
    expect(await userCount(email)).toBe(1);

    // The activity log has both steps at organization scope.
    const rows = await server.db.query<{ activity: string; scope: string }>('SELECT activity, scope FROM activity_log WHERE organization_id = $1', [org.id]);
    expect(rows).toEqual(
      expect.arrayContaining([
        { activity: 'member_invited', scope: 'Organization' },
        { activity: 'member_joined', scope: 'Organization' },
      ]),
    );
    // One member_joined for the owner at creation, one for the invitee.
    expect(rows.filter((r) => r.activity === 'member_joined')).toHaveLength(2);
    expect(rows.filter((r) => r.activity === 'member_invited')).toHaveLength(1);
  });

  it('refuses an expired invite and creates no user', async () => {
    const org = await newOrganization(server.url);
    const email = uniqueEmail('late');
    const invite = await org.owner.client.post(invites(org), { target_email: email });
    await server.db.query("UPDATE organization_invites SET expires_at = now() - interval '1 day' WHERE id = $1", [invite.body.id]);
    const expired = 'This invite has expired. Please ask your admin for a new one.';

    expectError(await new Client(server.url).get(`/api/signup/${invite.body.id}/`), 400, expired, null);
    const res = await new Client(server.url).post(`/api/signup/${invite.body.id}/`, { first_name: 'Late', password: PASSWORD });
    expectError(res, 400, expired, null);
    expect(res.body.type).toBe('validation_error');
    expect(await userCount(email)).toBe(0);
    expect(Object.keys(await memberLevels(org))).toEqual([org.owner.user.email]);
    const listed = await org.owner.client.get(invites(org));
    expect(listed.body.results[0]).toMatchObject({ id: invite.body.id, is_expired: true });
  });

  it('refuses an unknown invite id', async () => {
    const anon = new Client(server.url);
    expectError(await anon.get('/api/signup/00000000-0000-4000-8000-000000000000/'), 400, 'The provided invite ID is not valid.');
    expectError(await anon.get('/api/signup/not-a-uuid/'), 400, 'The provided invite ID is not valid.');
    const email = uniqueEmail();
    expectError(await anon.post('/api/signup/not-a-uuid/', { first_name: 'N', password: PASSWORD }), 400);
    expect(await userCount(email)).toBe(0);
  });

  it('lets a logged-in user accept an invite for their own email and join a second organization', async () => {
    const org = await newOrganization(server.url, 'Second Org');
    const existing = await newOrganization(server.url, 'Home Org');
    const invite = await org.owner.client.post(invites(org), { target_email: existing.owner.user.email, level: 8 });
    expect(invite.status, JSON.stringify(invite.body)).toBe(201);

    // Accepting while logged in is a cookie-authenticated write: it needs the CSRF token.
    const noToken = await existing.owner.client.request('POST', `/api/signup/${invite.body.id}/`, {}, { csrf: false });
    expectError(noToken, 403, 'CSRF Failed: CSRF token missing or incorrect.', null);
    expect(Object.keys(await memberLevels(org))).toEqual([org.owner.user.email]);
    expect(await inviteEmails(org)).toEqual([existing.owner.user.email]);

    const res = await existing.owner.client.post(`/api/signup/${invite.body.id}/`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.uuid).toBe(existing.owner.user.uuid);
    expect((await memberLevels(org))[existing.owner.user.email]).toBe(8);
    const me = await existing.owner.client.get('/api/users/@me/');
    expect(me.body.organizations.map((o: any) => [o.name, o.membership_level]).sort()).toEqual([
      ['Home Org', 15],
      ['Second Org', 8],
    ]);
    expect(await inviteEmails(org)).toEqual([]);
    expect(await userCount(existing.owner.user.email)).toBe(1);
  });

  it('refuses a logged-in user whose email differs from the invite, changing nothing', async () => {
    const org = await newOrganization(server.url);
    const stranger = await newOrganization(server.url);
    const email = uniqueEmail('intended');
    const invite = await org.owner.client.post(invites(org), { target_email: email });

    const res = await stranger.owner.client.post(`/api/signup/${invite.body.id}/`, {});
    expectError(res, 400, 'This invite is intended for another email address.', null);
    expect(Object.keys(await memberLevels(org))).toEqual([org.owner.user.email]);
    expect((await stranger.owner.client.get('/api/users/@me/')).body.organizations).toHaveLength(1);
    // The invite is still there for its rightful owner.
    expect(await inviteEmails(org)).toEqual([email]);
    const rightful = await new Client(server.url).post(`/api/signup/${invite.body.id}/`, { first_name: 'Ri', password: PASSWORD });
    expect(rightful.status, JSON.stringify(rightful.body)).toBe(201);
    expect((await memberLevels(org))[email]).toBe(1);
  });
});
