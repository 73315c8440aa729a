import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const members = (org: Org) => `/api/organizations/${org.id}/members/`;

async function levelOf(org: Org, uuid: string): Promise<number | undefined> {
  const res = await org.owner.client.get(members(org));
  return res.body.results.find((m: any) => m.user.uuid === uuid)?.level;
}

describe('organization members', () => {
  it('lists members paginated in PostHog shape, with search and email filters', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const res = await org.owner.client.get(members(org));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ count: 2, next: null, previous: null });
    const entry = res.body.results.find((m: any) => m.user.uuid === admin.user.uuid);
    expect(Object.keys(entry).sort()).toEqual(
      // PostHog's fields, and Warden's time-bound raise (expires_at, reason, level_after_expiry).
      [
        'has_social_auth',
        'id',
        'is_2fa_enabled',
        'is_service_account',
        'joined_at',
        'last_login',
        'level',
        'updated_at',
        'user',
        'expires_at',
        'reason',
        'level_after_expiry',
      ].sort(),
    );
    expect(entry.user).toMatchObject({ uuid: admin.user.uuid, email: admin.user.email, first_name: 'Mel' });
    expect(entry.user).not.toHaveProperty('password_hash');
    const byEmail = await org.owner.client.get(`${members(org)}?email=${encodeURIComponent(admin.user.email.toUpperCase())}`);
    expect(byEmail.body.results.map((m: any) => m.user.uuid)).toEqual([admin.user.uuid]);
    const bySearch = await org.owner.client.get(`${members(org)}?search=owner-`);
    expect(bySearch.body.results.map((m: any) => m.user.uuid)).toEqual([org.owner.user.uuid]);
    const paged = await org.owner.client.get(`${members(org)}?limit=1`);
    expect(paged.body.results).toHaveLength(1);
    expect(paged.body.next).toContain('offset=1');
  });

  it("enforces every validate_update rule with PostHog's messages", async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const admin2 = await addMember(org, 8);
    const member = await addMember(org, 1);
    const member2 = await addMember(org, 1);
    const url = (p: { user: { uuid: string } }) => `${members(org)}${p.user.uuid}/`;

    expectError(await admin.client.patch(url(admin), { level: 1 }), 403, "You can't change your own access level.");
    expectError(await admin.client.patch(url(member), { level: 15 }), 403, "You can only make another member owner if you're this organization's owner.");
    expectError(await member.client.patch(url(member2), { level: 1 }), 403, 'You can only edit others if you are an admin.');
    expectError(await admin.client.patch(url(org.owner), { level: 8 }), 403, 'You can only edit others with level lower or equal to you.');
    expect(await levelOf(org, org.owner.user.uuid)).toBe(15);

    // Admins may promote members up to their own level and demote other admins.
    const promoted = await admin.client.patch(url(member), { level: 8 });
    expect(promoted.status).toBe(200);
    expect(promoted.body.level).toBe(8);
    expect((await admin.client.patch(url(admin2), { level: 1 })).status).toBe(200);
    expect(await levelOf(org, admin2.user.uuid)).toBe(1);

    // Only owners make owners; several owners are allowed.
    const owner2 = await org.owner.client.patch(url(member), { level: 15 });
    expect(owner2.status).toBe(200);
    expect(await levelOf(org, member.user.uuid)).toBe(15);
  });

  it('rejects invalid levels with a validation error and changes nothing', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const url = `${members(org)}${member.user.uuid}/`;
    expectError(await org.owner.client.patch(url, { level: 5 }), 400, '"5" is not a valid choice.', 'level');
    expectError(await org.owner.client.patch(url, { level: 'admin' }), 400, 'A valid integer is required.', 'level');
    expectError(await org.owner.client.patch(url, {}), 400, 'This field is required.', 'level');
    expect(await levelOf(org, member.user.uuid)).toBe(1);
  });

  it('removes members by the same rules; members may leave; owners cannot', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const leaver = await addMember(org, 1);
    const url = (p: { user: { uuid: string } }) => `${members(org)}${p.user.uuid}/`;

    expectError(await member.client.delete(url(admin)), 403, 'You can only edit others if you are an admin.');
    expectError(await admin.client.delete(url(org.owner)), 403, 'You can only edit others with level lower or equal to you.');
    expectError(await org.owner.client.delete(url(org.owner)), 400, 'Cannot leave the organization as its owner!');
    expect((await leaver.client.delete(`${members(org)}@me/`)).status).toBe(204);
    expect((await admin.client.delete(url(member))).status).toBe(204);
    const left = await org.owner.client.get(members(org));
    expect(left.body.results.map((m: any) => m.user.uuid).sort()).toEqual([admin.user.uuid, org.owner.user.uuid].sort());
    // A removed member no longer reaches the organization.
    expectError(await member.client.get(`/api/organizations/${org.id}/`), 404, 'Organization not found.');
  });

  it('never leaves an organization without an owner under concurrent demotions', async () => {
    const org = await newOrganization(server.url);
    const second = await addMember(org, 15);
    const url = (p: { user: { uuid: string } }) => `${members(org)}${p.user.uuid}/`;
    // Each owner demotes the other at the same moment: at most one may win.
    const [a, b] = await Promise.all([org.owner.client.patch(url(second), { level: 8 }), second.client.patch(url(org.owner), { level: 8 })]);
    expect([a.status, b.status].filter((s) => s === 200)).toHaveLength(1);
    const res = await org.owner.client.get(members(org)).then((r) => (r.status === 200 ? r : second.client.get(members(org))));
    expect(res.body.results.filter((m: any) => m.level === 15)).toHaveLength(1);
  });

  it('hides organizations from non-members', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    expectError(await other.owner.client.get(members(org)), 404, 'Organization not found.');
    expectError(await other.owner.client.patch(`${members(org)}${org.owner.user.uuid}/`, { level: 1 }), 404, 'Organization not found.');
  });
});
