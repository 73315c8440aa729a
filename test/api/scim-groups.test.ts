/**
 * SCIM Groups over real HTTP: groups are roles of the domain's organization (upserted by name),
 * members are role memberships, driven with Okta's and Entra ID's request shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSeq, rowsSince } from '../helpers/activity.js';
import { expectScimError, GROUP_SCHEMA, PATCH_SCHEMA, scimRequest, scimSetup, USER_SCHEMA, type ScimSetup } from '../helpers/scim.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

async function provision(s: ScimSetup, local: string): Promise<string> {
  const res = await scimRequest(s.scim, 'POST', `${s.base}/Users`, { schemas: [USER_SCHEMA], userName: `${local}@${s.domain}`, name: { givenName: local } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** The role's members (user uuids) as the roles API shows them to the organization's owner. */
async function roleMembers(s: ScimSetup, roleId: string): Promise<string[]> {
  const res = await s.org.owner.client.get(`/api/organizations/${s.org.id}/roles/${roleId}/`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.members.map((m: any) => m.user.uuid).sort();
}

describe('groups become roles', () => {
  it('creates a role with members, patches members as Entra ID does, renames, and deletes it', async () => {
    const s = await scimSetup(server, 'Groups Co');
    const [ana, bob, cy] = [await provision(s, 'ana'), await provision(s, 'bob'), await provision(s, 'cy')];

    const seq = await lastSeq(server.db);
    const created = await scimRequest(s.scim, 'POST', `${s.base}/Groups`, {
      schemas: [GROUP_SCHEMA],
      displayName: 'Engineering',
      externalId: 'grp-eng',
      members: [{ value: ana }, { value: bob }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect(created.headers.get('location')).toBe(`${server.url}${s.base}/Groups/${id}`);
    expect(created.body).toMatchObject({ schemas: [GROUP_SCHEMA], displayName: 'Engineering', externalId: 'grp-eng', meta: { resourceType: 'Group' } });
    expect(created.body.members.map((m: any) => m.value).sort()).toEqual([ana, bob].sort());
    // The group id is the role id; the role is in the organization's roles API.
    expect(await roleMembers(s, id)).toEqual([ana, bob].sort());
    const entries = await rowsSince(server.db, seq);
    expect(entries.map((e) => e.activity)).toEqual(['role_created', 'scim_group_linked', 'role_assigned', 'role_assigned']);
    for (const e of entries) expect(e.detail.context).toMatchObject({ via: 'scim', role_id: id, role_name: 'Engineering' });
    const [system] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE seq > $1 AND is_system AND user_id IS NULL', [
      seq,
    ]);
    expect(system!.n).toBe(4);

    // The user shows the group.
    const ana1 = await scimRequest(s.scim, 'GET', `${s.base}/Users/${ana}`);
    expect(ana1.body.groups).toEqual([{ value: id, display: 'Engineering', $ref: `${server.url}${s.base}/Groups/${id}` }]);

    // Entra: add with a value list, remove with a value list, capitalised ops.
    const seq2 = await lastSeq(server.db);
    const add = await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Add', path: 'members', value: [{ value: cy }] }],
    });
    expect(add.status, JSON.stringify(add.body)).toBe(200);
    expect(await roleMembers(s, id)).toEqual([ana, bob, cy].sort());
    const remove = await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Remove', path: 'members', value: [{ value: ana }] }],
    });
    expect(remove.status, JSON.stringify(remove.body)).toBe(200);
    expect(await roleMembers(s, id)).toEqual([bob, cy].sort());
    // RFC 7644's filtered remove, and adding someone already in is no change.
    const filtered = await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [
        { op: 'remove', path: `members[value eq "${bob}"]` },
        { op: 'add', path: 'members', value: [{ value: cy, display: 'cy' }] },
      ],
    });
    expect(filtered.status, JSON.stringify(filtered.body)).toBe(200);
    expect(await roleMembers(s, id)).toEqual([cy]);
    expect((await rowsSince(server.db, seq2)).map((e) => e.activity)).toEqual(['role_assigned', 'role_unassigned', 'role_unassigned']);

    // Entra renames with a path-less or a path replace.
    const rename = await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'Replace', path: 'displayName', value: 'Platform Engineering' }],
    });
    expect(rename.status, JSON.stringify(rename.body)).toBe(200);
    expect(rename.body.displayName).toBe('Platform Engineering');
    const role = await s.org.owner.client.get(`/api/organizations/${s.org.id}/roles/${id}/`);
    expect(role.body.name).toBe('Platform Engineering');

    // Filters: displayName (any case), externalId, members; Entra asks for no members.
    const byName = await scimRequest(
      s.scim,
      'GET',
      `${s.base}/Groups?filter=${encodeURIComponent('displayName eq "platform engineering"')}&excludedAttributes=members`,
    );
    expect(byName.status, JSON.stringify(byName.body)).toBe(200);
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0].id).toBe(id);
    expect(byName.body.Resources[0].members).toBeUndefined();
    const byMember = await scimRequest(s.scim, 'GET', `${s.base}/Groups?filter=${encodeURIComponent(`members[value eq "${cy}"]`)}`);
    expect(byMember.body.Resources.map((g: any) => g.id)).toEqual([id]);
    const noOne = await scimRequest(s.scim, 'GET', `${s.base}/Groups?filter=${encodeURIComponent(`members.value eq "${ana}"`)}`);
    expect(noOne.body.totalResults).toBe(0);

    // Okta replaces the member list with PUT.
    const put = await scimRequest(s.scim, 'PUT', `${s.base}/Groups/${id}`, {
      schemas: [GROUP_SCHEMA],
      id,
      displayName: 'Platform Engineering',
      members: [{ value: ana }, { value: bob }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await roleMembers(s, id)).toEqual([ana, bob].sort());
    // PUT without externalId clears it.
    expect(put.body.externalId).toBeUndefined();

    // Deactivating a user takes them out of the role (their membership is gone); the group skips them.
    const off = await scimRequest(s.scim, 'PATCH', `${s.base}/Users/${ana}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(off.status).toBe(200);
    expect(await roleMembers(s, id)).toEqual([bob]);
    const withInactive = await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: ana }] }],
    });
    expect(withInactive.status, JSON.stringify(withInactive.body)).toBe(200);
    expect(await roleMembers(s, id)).toEqual([bob]);

    const seq3 = await lastSeq(server.db);
    const deleted = await scimRequest(s.scim, 'DELETE', `${s.base}/Groups/${id}`);
    expect(deleted.status).toBe(204);
    expect((await rowsSince(server.db, seq3)).map((e) => e.activity)).toEqual(['role_deleted']);
    expect((await s.org.owner.client.get(`/api/organizations/${s.org.id}/roles/${id}/`)).status).toBe(404);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Groups/${id}`), 404);
    expectScimError(
      await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${id}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: [] }] }),
      404,
    );
  });

  it('upserts by name: an existing role is linked, not duplicated; a second group of that name conflicts', async () => {
    const s = await scimSetup(server, 'Upsert Co');
    const existing = await s.org.owner.client.post(`/api/organizations/${s.org.id}/roles/`, { name: 'Support' });
    expect(existing.status).toBe(201);
    const seq = await lastSeq(server.db);
    const created = await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'support' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.id).toBe(existing.body.id);
    expect(created.body.displayName).toBe('Support');
    expect((await rowsSince(server.db, seq)).map((e) => e.activity)).toEqual(['scim_group_linked']);
    const roles = await s.org.owner.client.get(`/api/organizations/${s.org.id}/roles/`);
    expect(roles.body.results.map((r: any) => r.name)).toEqual(['Support']);

    expectScimError(await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'SUPPORT' }), 409, 'uniqueness');
    // Renaming a group onto another role's name conflicts too.
    const other = await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'Sales' });
    expect(other.status).toBe(201);
    const clash = await scimRequest(s.scim, 'PATCH', `${s.base}/Groups/${other.body.id}`, {
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'replace', value: { displayName: 'support' } }],
    });
    expectScimError(clash, 409, 'uniqueness');
    // A role the domain did not link is not a SCIM group.
    const manual = await s.org.owner.client.post(`/api/organizations/${s.org.id}/roles/`, { name: 'Finance' });
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Groups/${manual.body.id}`), 404);
    const list = await scimRequest(s.scim, 'GET', `${s.base}/Groups`);
    expect(list.body.Resources.map((g: any) => g.displayName).sort()).toEqual(['Sales', 'Support']);
  });

  it('refuses members that are not users of the organization, and bad group bodies, changing nothing', async () => {
    const s = await scimSetup(server, 'Strict Co');
    const other = await scimSetup(server, 'Other Co');
    const stranger = await provision(other, 'stranger');
    const seq = await lastSeq(server.db);
    expectScimError(
      await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'X', members: [{ value: stranger }] }),
      400,
      'invalidValue',
    );
    expectScimError(
      await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'X', members: [{ value: 'not-a-uuid' }] }),
      400,
      'invalidValue',
    );
    expectScimError(await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], members: [] }), 400, 'invalidValue');
    expectScimError(await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: '   ' }), 400, 'invalidValue');
    expectScimError(
      await scimRequest(s.scim, 'POST', `${s.base}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'X', members: 'everyone' }),
      400,
      'invalidValue',
    );
    expect(await rowsSince(server.db, seq)).toEqual([]);
    const roles = await s.org.owner.client.get(`/api/organizations/${s.org.id}/roles/`);
    expect(roles.body.results).toEqual([]);
    // The other domain's group is not visible here.
    const theirs = await scimRequest(other.scim, 'POST', `${other.base}/Groups`, {
      schemas: [GROUP_SCHEMA],
      displayName: 'Theirs',
      members: [{ value: stranger }],
    });
    expect(theirs.status).toBe(201);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Groups/${theirs.body.id}`), 404);
    expectScimError(await scimRequest(s.scim, 'DELETE', `${s.base}/Groups/${theirs.body.id}`), 404);
    expectScimError(await scimRequest(s.scim, 'GET', `${s.base}/Users/${stranger}`), 404);
  });
});
