import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userActor, type Actor } from '../../src/domain/actor.js';
import { recordActivity } from '../../src/domain/activity/activity.js';
import { createRole } from '../../src/domain/access-control/roles.js';
import type { Response } from '../helpers/client.js';
import { lastSeq as lastSeqOf, rowsSince as rowsSinceOf } from '../helpers/activity.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, type Org, type Person } from '../helpers/world.js';

/**
 * Proofs over the route table: a successful state change leaves its activity entry (right scope,
 * activity, item and actor); a rejected one leaves none (other than Security events); a transaction
 * that fails after writing its entry leaves none either.
 */

let server: TestServer;
let org: Org;
let member: Person;
beforeAll(async () => {
  server = await startServer();
  org = await newOrganization(server.url, 'Entries');
  member = await addMember(org, 1);
});
afterAll(() => server?.close());

const lastSeq = () => lastSeqOf(server.db);
const rowsSince = (seq: number) => rowsSinceOf(server.db, seq);

interface Expected {
  status: number;
  scope: string;
  activity: string;
  /** The item the entry must name; a function reads it from the response. */
  itemId: string | number | ((res: Response) => string | number | Promise<string | number>);
}

/** Makes the request as `who` and proves it succeeded and the newest entry describes it. */
async function changes(who: Person, method: string, path: string, body: unknown, expected: Expected): Promise<Response> {
  const before = await lastSeq();
  const res = await who.client.request(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(expected.status);
  const rows = (await rowsSince(before)).filter((r) => r.scope !== 'Security');
  expect(rows.length, `${method} ${path} wrote no entry`).toBeGreaterThanOrEqual(1);
  const newest = rows.at(-1)!;
  const itemId = typeof expected.itemId === 'function' ? await expected.itemId(res) : expected.itemId;
  expect({ scope: newest.scope, activity: newest.activity, item_id: newest.item_id, user_id: newest.user_id }).toEqual({
    scope: expected.scope,
    activity: expected.activity,
    item_id: String(itemId),
    user_id: who.user.id,
  });
  return res;
}

/** Makes the request as `who` and proves it was rejected and wrote no entry other than Security ones. */
async function rejected(who: Person, method: string, path: string, body: unknown, status: 400 | 403): Promise<void> {
  const before = await lastSeq();
  const res = await who.client.request(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
  const rows = await rowsSince(before);
  expect(
    rows.filter((r) => r.scope !== 'Security'),
    `${method} ${path}`,
  ).toEqual([]);
}

const membershipId = async (userId: number) =>
  (
    await server.db.query<{ id: string }>('SELECT id::text AS id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [org.id, userId])
  )[0]!.id;

describe('every state-changing route records its activity entry', () => {
  let projectId: number;
  let flagId: number;
  let keyId: string;
  let roleId: string;
  let leaver: Person;

  it('organization PATCH', async () => {
    await changes(
      org.owner,
      'PATCH',
      `/api/organizations/${org.id}/`,
      { name: 'Entries renamed' },
      {
        status: 200,
        scope: 'Organization',
        activity: 'updated',
        itemId: org.id,
      },
    );
    await rejected(member, 'PATCH', `/api/organizations/${org.id}/`, { name: 'Nope' }, 403);
  });

  it('member level PATCH and member DELETE', async () => {
    leaver = await addMember(org, 1);
    const id = await membershipId(leaver.user.id);
    await rejected(member, 'PATCH', `/api/organizations/${org.id}/members/${leaver.user.uuid}/`, { level: 8 }, 403);
    await changes(
      org.owner,
      'PATCH',
      `/api/organizations/${org.id}/members/${leaver.user.uuid}/`,
      { level: 8 },
      {
        status: 200,
        scope: 'Organization',
        activity: 'member_level_changed',
        itemId: id,
      },
    );
    await rejected(member, 'DELETE', `/api/organizations/${org.id}/members/${leaver.user.uuid}/`, undefined, 403);
    await changes(org.owner, 'DELETE', `/api/organizations/${org.id}/members/${leaver.user.uuid}/`, undefined, {
      status: 204,
      scope: 'Organization',
      activity: 'member_removed',
      itemId: id,
    });
  });

  it('invite POST and DELETE', async () => {
    await rejected(org.owner, 'POST', `/api/organizations/${org.id}/invites/`, { target_email: 'not an address' }, 400);
    const res = await changes(
      org.owner,
      'POST',
      `/api/organizations/${org.id}/invites/`,
      { target_email: 'invitee@example.com', level: 1 },
      {
        status: 201,
        scope: 'Organization',
        activity: 'member_invited',
        itemId: (r) => r.body.id,
      },
    );
    await changes(org.owner, 'DELETE', `/api/organizations/${org.id}/invites/${res.body.id}/`, undefined, {
      status: 204,
      scope: 'Organization',
      activity: 'member_invite_deleted',
      itemId: res.body.id,
    });
  });

  it('project POST and PATCH', async () => {
    await rejected(member, 'POST', `/api/organizations/${org.id}/projects/`, { name: 'Nope' }, 403);
    const res = await changes(
      org.owner,
      'POST',
      `/api/organizations/${org.id}/projects/`,
      { name: 'Second' },
      {
        status: 201,
        scope: 'Project',
        activity: 'created',
        itemId: (r) => r.body.id,
      },
    );
    projectId = res.body.id;
    await changes(
      org.owner,
      'PATCH',
      `/api/projects/${projectId}/`,
      { name: 'Second, private', access_control: true },
      {
        status: 200,
        scope: 'Project',
        activity: 'updated',
        itemId: projectId,
      },
    );
  });

  it('project member POST, PATCH and DELETE', async () => {
    const base = `/api/projects/${projectId}/explicit_members/`;
    await rejected(org.owner, 'POST', base, { user_uuid: member.user.uuid, level: 99 }, 400);
    const added = await changes(
      org.owner,
      'POST',
      base,
      { user_uuid: member.user.uuid, level: 1 },
      {
        status: 201,
        scope: 'Organization',
        activity: 'project_member_added',
        itemId: async () =>
          (await server.db.query<{ id: string }>('SELECT id::text AS id FROM explicit_project_memberships ORDER BY joined_at DESC LIMIT 1'))[0]!.id,
      },
    );
    const id = (await rowsSince(0)).filter((r) => r.activity === 'project_member_added').at(-1)!.item_id!;
    expect(added.status).toBe(201);
    await rejected(member, 'PATCH', `${base}${member.user.uuid}/`, { level: 8 }, 403);
    await changes(
      org.owner,
      'PATCH',
      `${base}${member.user.uuid}/`,
      { level: 8 },
      {
        status: 200,
        scope: 'Organization',
        activity: 'project_member_level_changed',
        itemId: id,
      },
    );
    await changes(org.owner, 'DELETE', `${base}${member.user.uuid}/`, undefined, {
      status: 204,
      scope: 'Organization',
      activity: 'project_member_removed',
      itemId: id,
    });
  });

  it('personal API key POST, roll and DELETE', async () => {
    await rejected(org.owner, 'POST', '/api/personal_api_keys/', { label: 'bad', scopes: ['no_such:thing'] }, 400);
    const res = await changes(
      org.owner,
      'POST',
      '/api/personal_api_keys/',
      { label: 'entries', scopes: ['*'] },
      {
        status: 201,
        scope: 'Organization',
        activity: 'api_key_created',
        itemId: (r) => r.body.id,
      },
    );
    keyId = res.body.id;
    await changes(
      org.owner,
      'POST',
      `/api/personal_api_keys/${keyId}/roll/`,
      {},
      {
        status: 200,
        scope: 'Organization',
        activity: 'api_key_rolled',
        itemId: keyId,
      },
    );
    await changes(org.owner, 'DELETE', `/api/personal_api_keys/${keyId}/`, undefined, {
      status: 204,
      scope: 'Organization',
      activity: 'api_key_deleted',
      itemId: keyId,
    });
  });

  it('role POST and role membership POST', async () => {
    await rejected(member, 'POST', `/api/organizations/${org.id}/roles/`, { name: 'Nope' }, 403);
    const res = await changes(
      org.owner,
      'POST',
      `/api/organizations/${org.id}/roles/`,
      { name: 'Auditors' },
      {
        status: 201,
        scope: 'Organization',
        activity: 'role_created',
        itemId: (r) => r.body.id,
      },
    );
    roleId = res.body.id;
    await rejected(member, 'POST', `/api/organizations/${org.id}/roles/${roleId}/role_memberships/`, { user_uuid: member.user.uuid }, 403);
    const before = await lastSeq();
    const assigned = await org.owner.client.post(`/api/organizations/${org.id}/roles/${roleId}/role_memberships/`, { user_uuid: member.user.uuid });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
    const newest = (await rowsSince(before)).filter((r) => r.scope !== 'Security').at(-1)!;
    expect(newest).toMatchObject({ scope: 'Organization', activity: 'role_assigned', user_id: org.owner.user.id });
    expect([roleId, assigned.body.id]).toContain(newest.item_id);
  });

  it('access control PUT', async () => {
    await rejected(member, 'PUT', `/api/projects/${org.defaultProjectId}/access_controls/`, { access_level: 'none' }, 403);
    const before = await lastSeq();
    const res = await org.owner.client.put(`/api/projects/${org.defaultProjectId}/access_controls/`, { access_level: 'member' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const newest = (await rowsSince(before)).filter((r) => r.scope !== 'Security').at(-1)!;
    expect(newest).toMatchObject({ scope: 'AccessControl', user_id: org.owner.user.id, team_id: org.defaultProjectId });
    expect(['created', 'updated']).toContain(newest.activity);
    expect(newest.item_id).toBe(String(res.body.id));
  });

  it('feature flag POST, PATCH and DELETE', async () => {
    const base = `/api/projects/${org.defaultProjectId}/feature_flags/`;
    await rejected(org.owner, 'POST', base, { name: 'no key' }, 400);
    const res = await changes(
      org.owner,
      'POST',
      base,
      { key: 'entries-flag', name: 'Entries' },
      {
        status: 201,
        scope: 'FeatureFlag',
        activity: 'created',
        itemId: (r) => r.body.id,
      },
    );
    flagId = res.body.id;
    await changes(
      org.owner,
      'PATCH',
      `${base}${flagId}/`,
      { name: 'Entries, renamed' },
      {
        status: 200,
        scope: 'FeatureFlag',
        activity: 'updated',
        itemId: flagId,
      },
    );
    await changes(org.owner, 'DELETE', `${base}${flagId}/`, undefined, {
      status: 204,
      scope: 'FeatureFlag',
      activity: 'deleted',
      itemId: flagId,
    });
  });

  it('insight POST and dashboard POST', async () => {
    await changes(
      org.owner,
      'POST',
      `/api/projects/${org.defaultProjectId}/insights/`,
      { name: 'Entries insight' },
      {
        status: 201,
        scope: 'Insight',
        activity: 'created',
        itemId: (r) => r.body.id,
      },
    );
    await changes(
      org.owner,
      'POST',
      `/api/projects/${org.defaultProjectId}/dashboards/`,
      { name: 'Entries dashboard' },
      {
        status: 201,
        scope: 'Dashboard',
        activity: 'created',
        itemId: (r) => r.body.id,
      },
    );
  });

  it('project DELETE', async () => {
    await rejected(member, 'DELETE', `/api/projects/${projectId}/`, undefined, 403);
    await changes(org.owner, 'DELETE', `/api/projects/${projectId}/`, undefined, {
      status: 204,
      scope: 'Project',
      activity: 'deleted',
      itemId: projectId,
    });
  });
});

describe('a failed transaction writes no entry', () => {
  it('an entry written inside a transaction that then fails is rolled back with it', async () => {
    const actor = userActor(org.owner.user.id) as Actor & { userId: number };
    const before = await lastSeq();
    await expect(
      server.db.transaction(async (tx) => {
        await createRole(tx, actor, org.id, 'Ghost role');
        await recordActivity(tx, {
          organizationId: org.id,
          actor,
          scope: 'Organization',
          activity: 'ghost',
          itemId: null,
          detail: { name: 'ghost entry' },
        });
        // Both entries are visible inside the transaction...
        const [inside] = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE seq > $1', [before]);
        expect(inside!.n).toBe(2);
        throw new Error('the write after the entry fails');
      }),
    ).rejects.toThrow('the write after the entry fails');
    // ...and neither survives, nor the role.
    expect(await rowsSince(before)).toEqual([]);
    const roles = await server.db.query('SELECT 1 FROM roles WHERE organization_id = $1 AND name = $2', [org.id, 'Ghost role']);
    expect(roles).toEqual([]);
  });

  it('a request whose transaction fails part-way (a duplicate project member) writes no entry', async () => {
    const created = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Race' });
    expect(created.status).toBe(201);
    const pid = created.body.id as number;
    expect((await org.owner.client.patch(`/api/projects/${pid}/`, { access_control: true })).status).toBe(200);
    const base = `/api/projects/${pid}/explicit_members/`;
    const before = await lastSeq();
    const results = await Promise.all(Array.from({ length: 4 }, () => org.owner.client.post(base, { user_uuid: member.user.uuid, level: 1 })));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(1);
    for (const r of results.filter((r) => r.status !== 201)) expect(r.status, JSON.stringify(r.body)).toBe(400);
    const added = (await rowsSince(before)).filter((r) => r.activity === 'project_member_added');
    expect(added).toHaveLength(1);
  });
});
