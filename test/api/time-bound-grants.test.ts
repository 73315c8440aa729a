import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredGrants } from '../../src/domain/access-control/grant-expiry.js';
import { EXPIRY_IN_PAST } from '../../src/domain/access-control/grant-terms.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

/** Time-bound grants (docs/time-bound-access.md): expiry and reason on every grant kind, enforced at read time. */
describe('time-bound grants', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const soon = (ms = 2_000) => new Date(Date.now() + ms).toISOString();
  const past = () => new Date(Date.now() - 60_000).toISOString();
  const sleepUntil = async (iso: string) => {
    const wait = new Date(iso).getTime() - Date.now() + 150;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  };
  const members = (org: Org) => `/api/organizations/${org.id}/members/`;
  async function memberId(org: Org, person: Person): Promise<string> {
    const res = await org.owner.client.get(members(org));
    return res.body.results.find((m: { user: { uuid: string } }) => m.user.uuid === person.user.uuid).id;
  }
  async function privateProject(org: Org): Promise<number> {
    const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }
  const enter = (person: Person, projectId: number) => person.client.get(`/api/projects/${projectId}/`);
  async function expiredEntries(org: Org): Promise<Array<{ scope: string; item_id: string; detail: { context: Record<string, unknown> } }>> {
    return server.db.query("SELECT scope, item_id, detail FROM activity_log WHERE organization_id = $1 AND activity = 'expired'", [org.id]);
  }

  it('refuses an expiry in the past on every grant kind with 400 on expires_at, changing nothing', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const projectId = await privateProject(org);
    const role = (await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Oncall' })).body;
    const mid = await memberId(org, member);
    const before = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1', [org.id]);

    expectError(await org.owner.client.patch(`${members(org)}${member.user.uuid}/`, { level: 8, expires_at: past() }), 400, EXPIRY_IN_PAST, 'expires_at');
    expectError(
      await org.owner.client.post(`/api/projects/${projectId}/explicit_members/`, { user_uuid: member.user.uuid, level: 1, expires_at: past() }),
      400,
      EXPIRY_IN_PAST,
      'expires_at',
    );
    expectError(
      await org.owner.client.post(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`, { user_uuid: member.user.uuid, expires_at: past() }),
      400,
      EXPIRY_IN_PAST,
      'expires_at',
    );
    expectError(
      await org.owner.client.put(`/api/projects/${projectId}/access_controls/`, { access_level: 'member', organization_member: mid, expires_at: past() }),
      400,
      EXPIRY_IN_PAST,
      'expires_at',
    );
    expectError(await org.owner.client.patch(`${members(org)}${member.user.uuid}/`, { level: 8, expires_at: 'not a date' }), 400, undefined, 'expires_at');

    const after = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1', [org.id]);
    expect(after[0]!.n).toBe(before[0]!.n);
    const list = await org.owner.client.get(members(org));
    expect(list.body.results.find((m: { id: string }) => m.id === mid)).toMatchObject({ level: 1, expires_at: null });
    expect((await org.owner.client.get(`/api/projects/${projectId}/explicit_members/`)).body).toEqual([]);
    expect((await org.owner.client.get(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`)).body.count).toBe(0);
    expect(await enter(member, projectId).then((r) => r.status)).toBe(403);
  });

  it('an explicit project membership lets in until its expiry, then refuses, and shows expiry and reason meanwhile', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const projectId = await privateProject(org);
    const expiresAt = soon();
    const added = await org.owner.client.post(`/api/projects/${projectId}/explicit_members/`, {
      user_uuid: member.user.uuid,
      level: 1,
      expires_at: expiresAt,
      reason: 'incident 42',
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ expires_at: expiresAt, reason: 'incident 42' });
    expect((await enter(member, projectId)).status).toBe(200);
    const listed = await org.owner.client.get(`/api/projects/${projectId}/members/`);
    expect(listed.body.results[0]).toMatchObject({ expires_at: expiresAt, reason: 'incident 42' });
    const who = await org.owner.client.get(`/api/projects/${projectId}/users_with_access/`);
    expect(who.body.users.find((u: { user_id: string }) => u.user_id === member.user.uuid)).toMatchObject({
      expires_at: expiresAt,
      grant_reasons: ['incident 42'],
    });

    await sleepUntil(expiresAt);
    expect((await enter(member, projectId)).status).toBe(403);
    expect((await org.owner.client.get(`/api/projects/${projectId}/explicit_members/`)).body).toEqual([]);
    // Granting again is possible at once, whether or not the sweeper has run.
    const again = await org.owner.client.post(`/api/projects/${projectId}/explicit_members/`, { user_uuid: member.user.uuid, level: 1 });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body).toMatchObject({ expires_at: null, reason: null });
    expect((await enter(member, projectId)).status).toBe(200);
    // The expired grant was swept by the new grant's transaction and logged once.
    expect(await expiredEntries(org)).toHaveLength(1);
  });

  it('an organization level raise falls back to the lasting level at expiry', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const expiresAt = soon();
    const raised = await org.owner.client.patch(`${members(org)}${member.user.uuid}/`, { level: 8, expires_at: expiresAt, reason: 'release night' });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    expect(raised.body).toMatchObject({ level: 8, expires_at: expiresAt, reason: 'release night', level_after_expiry: 1 });
    const create = (name: string) => member.client.post(`/api/organizations/${org.id}/projects/`, { name });
    expect((await create('while raised')).status).toBe(201);
    // Only a raise can expire, and never to owner.
    expectError(await org.owner.client.patch(`${members(org)}${member.user.uuid}/`, { level: 15, expires_at: soon(60_000) }), 400, undefined, 'expires_at');

    await sleepUntil(expiresAt);
    expectError(await create('after expiry'), 403);
    const listed = (await org.owner.client.get(members(org))).body.results.find((m: { user: { uuid: string } }) => m.user.uuid === member.user.uuid);
    expect(listed).toMatchObject({ level: 1, expires_at: null, level_after_expiry: null });

    const [sweptA, sweptB] = await Promise.all([sweepExpiredGrants(server.db), sweepExpiredGrants(server.db)]);
    expect(sweptA + sweptB).toBeGreaterThanOrEqual(1);
    const entries = (await expiredEntries(org)).filter((e) => e.scope === 'Organization');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.detail.context).toMatchObject({ user_uuid: member.user.uuid, reason: 'release night' });
  });

  it('a role membership and a member access-control row end at expiry; the sweeper logs each once', async () => {
    const org = await newOrganization(server.url);
    const viaRole = await addMember(org, 1);
    const viaRow = await addMember(org, 1);
    const projectId = await privateProject(org);
    const role = (await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Responders' })).body;
    const ruled = await org.owner.client.put(`/api/projects/${projectId}/access_controls/`, { access_level: 'member', role: role.id });
    expect(ruled.status, JSON.stringify(ruled.body)).toBe(200);
    const expiresAt = soon(2_500);
    const inRole = await org.owner.client.post(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`, {
      user_uuid: viaRole.user.uuid,
      expires_at: expiresAt,
      reason: 'on call',
    });
    expect(inRole.status, JSON.stringify(inRole.body)).toBe(201);
    expect(inRole.body).toMatchObject({ expires_at: expiresAt, reason: 'on call' });
    const row = await org.owner.client.put(`/api/projects/${projectId}/access_controls/`, {
      access_level: 'member',
      organization_member: await memberId(org, viaRow),
      expires_at: expiresAt,
      reason: 'audit',
    });
    expect(row.status, JSON.stringify(row.body)).toBe(200);
    expect(row.body).toMatchObject({ expires_at: expiresAt, reason: 'audit' });
    const rules = await org.owner.client.get(`/api/projects/${projectId}/access_controls/`);
    expect(rules.body.access_controls.find((r: { id: string }) => r.id === row.body.id)).toMatchObject({ expires_at: expiresAt, reason: 'audit' });
    expect((await enter(viaRole, projectId)).status).toBe(200);
    expect((await enter(viaRow, projectId)).status).toBe(200);

    await sleepUntil(expiresAt);
    expect((await enter(viaRole, projectId)).status).toBe(403);
    expect((await enter(viaRow, projectId)).status).toBe(403);
    expect((await org.owner.client.get(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`)).body.count).toBe(0);

    await Promise.all([sweepExpiredGrants(server.db), sweepExpiredGrants(server.db), sweepExpiredGrants(server.db)]);
    const entries = await expiredEntries(org);
    expect(entries.map((e) => e.item_id).sort()).toEqual([inRole.body.id, row.body.id].sort());
    const stored = await server.db.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM role_memberships_stored WHERE id = $1) + (SELECT count(*) FROM access_controls_stored WHERE id = $2) AS n',
      [inRole.body.id, row.body.id],
    );
    expect(Number(stored[0]!.n)).toBe(0);
  });

  it("caps grants touching a production project at the organization's limit", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const projectId = await privateProject(org);
    expectError(await member.client.patch(`/api/projects/${org.defaultProjectId}/`, { is_production: true }), 403);
    const flagged = await org.owner.client.patch(`/api/projects/${projectId}/`, { is_production: true });
    expect(flagged.body.is_production).toBe(true);
    expectError(await org.owner.client.patch(`/api/organizations/${org.id}/`, { production_grant_max_hours: 0 }), 400, undefined, 'production_grant_max_hours');
    const capped = await org.owner.client.patch(`/api/organizations/${org.id}/`, { production_grant_max_hours: 2 });
    expect(capped.body.production_grant_max_hours).toBe(2);

    const add = (body: Record<string, unknown>) =>
      org.owner.client.post(`/api/projects/${projectId}/explicit_members/`, { user_uuid: member.user.uuid, level: 1, ...body });
    expectError(await add({}), 400, /must expire within 2 hours/, 'expires_at');
    expectError(await add({ expires_at: soon(3 * 3_600_000) }), 400, /at most 2 hours/, 'expires_at');
    expectError(
      await org.owner.client.patch(`${members(org)}${member.user.uuid}/`, { level: 8, expires_at: soon(3 * 3_600_000) }),
      400,
      undefined,
      'expires_at',
    );
    expect((await add({ expires_at: soon(3_600_000) })).status).toBe(201);
    // The default project is not production: a lasting grant there is fine.
    const mid = await memberId(org, member);
    expect(
      (await org.owner.client.put(`/api/projects/${org.defaultProjectId}/access_controls/`, { access_level: 'member', organization_member: mid })).status,
    ).toBe(200);
  });

  it('the access matrix export shows a time-bound role member, and applying the export keeps it time-bound', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const role = (await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Oncall' })).body;
    const expiresAt = soon(3_600_000);
    const inRole = await org.owner.client.post(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`, {
      user_uuid: member.user.uuid,
      expires_at: expiresAt,
    });
    expect(inRole.status, JSON.stringify(inRole.body)).toBe(201);
    const url = `/api/organizations/${org.id}/access_matrix/`;
    const exported = await org.owner.client.get(url);
    expect(exported.status).toBe(200);
    expect(exported.body.document).toContain(`time-bound: ${member.user.email.toLowerCase()} until ${expiresAt}`);
    expect((await org.owner.client.post(`${url}plan/`, { document: exported.body.document })).body.changes).toEqual([]);
    const applied = await org.owner.client.post(url, { document: exported.body.document });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const listed = await org.owner.client.get(`/api/organizations/${org.id}/roles/${role.id}/role_memberships/`);
    expect(listed.body.results[0]).toMatchObject({ expires_at: expiresAt });
  });
});
