/**
 * Access requests (issue 25, part 2): filed by members refused a project or a resource, decided by
 * those who could make the grant (the ceiling), with the grant made in the decision's transaction
 * and every step in the activity log (and so in the organization's sinks).
 * The grant's expiry itself is part 1's (time-bound grants): asserted once both are merged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, HttpsReceiver, selfSignedCertificate } from '../helpers/https-receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
let cert: ReturnType<typeof selfSignedCertificate>;
beforeAll(async () => {
  cert = selfSignedCertificate();
  server = await startServer({ sinkCaFile: cert.caFile, sinkPollMs: 30, sinkRetryBaseMs: 40, sinkRetryMaxMs: 200 });
});
afterAll(async () => {
  await server?.close();
  cert?.cleanup();
});

const requests = (projectId: number) => `/api/projects/${projectId}/access_requests/`;
const orgRequests = (org: Org) => `/api/organizations/${org.id}/access_requests/`;

interface World {
  org: Org;
  admin: Person;
  member: Person;
  /** Explicit member (level 1) of the private project. */
  insider: Person;
  privateId: number;
}

async function world(): Promise<World> {
  const org = await newOrganization(server.url, 'Requests Co');
  const admin = await addMember(org, 8);
  const member = await addMember(org, 1);
  const insider = await addMember(org, 1);
  const project = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Production', access_control: true });
  expect(project.status).toBe(201);
  const added = await org.owner.client.post(`/api/projects/${project.body.id}/explicit_members/`, { user_uuid: insider.user.uuid, level: 1 });
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  return { org, admin, member, insider, privateId: project.body.id };
}

async function fileProjectRequest(w: World, by: Person = w.member, body: Record<string, unknown> = {}) {
  const res = await by.client.post(requests(w.privateId), {
    resource: 'project',
    access_level: 'member',
    duration_hours: 8,
    reason: 'On call this week',
    ...body,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function entries(org: Org, scope: string) {
  return server.db.query<{ activity: string; user_id: number; item_id: string; detail: any }>(
    'SELECT activity, user_id, item_id, detail FROM activity_log WHERE organization_id = $1 AND scope = $2 ORDER BY seq',
    [org.id, scope],
  );
}

async function counts(org: Org) {
  const [row] = await server.db.query<{ requests: number; rules: number; entries: number }>(
    `SELECT (SELECT count(*)::int FROM access_requests WHERE organization_id = $1) AS requests,
            (SELECT count(*)::int FROM access_controls c JOIN projects p ON p.id = c.team_id WHERE p.organization_id = $1) AS rules,
            (SELECT count(*)::int FROM activity_log WHERE organization_id = $1) AS entries`,
    [org.id],
  );
  return row!;
}

describe('access requests', () => {
  it('lets a member refused a private project ask for access; outsiders get 404', async () => {
    const w = await world();
    expectError(await w.member.client.get(`/api/projects/${w.privateId}/`), 403, "You don't have access to the project.");
    const filed = await fileProjectRequest(w);
    expect(filed).toMatchObject({
      project_id: w.privateId,
      project_name: 'Production',
      resource: 'project',
      resource_id: null,
      access_level: 'member',
      duration_hours: 8,
      expires_at: null,
      reason: 'On call this week',
      state: 'pending',
      decided_by: null,
      is_requester: true,
      can_decide: false,
    });
    expect(filed.requester.uuid).toBe(w.member.user.uuid);
    // The requester reads their own request, even without access to the project.
    expect((await w.member.client.get(`${requests(w.privateId)}${filed.id}/`)).body.id).toBe(filed.id);
    expect((await w.member.client.get(requests(w.privateId))).body).toMatchObject({ count: 1, results: [{ id: filed.id }] });
    // Asking again while the first is pending: 409.
    expectError(
      await w.member.client.post(requests(w.privateId), { resource: 'project', access_level: 'admin', duration_hours: 1, reason: 'again' }),
      409,
      'You already have a pending request for this access.',
    );
    // Someone outside the organization learns nothing.
    const outsider = (await newOrganization(server.url)).owner;
    expectError(await outsider.client.post(requests(w.privateId), { resource: 'project', access_level: 'member', duration_hours: 1, reason: 'x' }), 404);
    expectError(await outsider.client.get(`${requests(w.privateId)}${filed.id}/`), 404);

    const [entry] = await entries(w.org, 'AccessRequest');
    expect(entry).toMatchObject({ activity: 'requested', user_id: w.member.user.id, item_id: filed.id });
    expect(entry!.detail.context).toMatchObject({
      project_id: w.privateId,
      requester: { uuid: w.member.user.uuid, email: w.member.user.email },
      resource: 'project',
      access_level: 'member',
      duration_hours: 8,
      reason: 'On call this week',
    });
  });

  it('lists pending requests for those who may decide them, with a count', async () => {
    const w = await world();
    const filed = await fileProjectRequest(w);
    for (const decider of [w.org.owner, w.admin]) {
      const list = await decider.client.get(orgRequests(w.org));
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ count: 1, results: [{ id: filed.id, can_decide: true, is_requester: false }] });
      expect((await decider.client.get(`${requests(w.privateId)}${filed.id}/`)).body.can_decide).toBe(true);
    }
    // Below the ceiling (a project member, not its admin) and the requester: nothing to decide.
    for (const p of [w.insider, w.member]) expect((await p.client.get(orgRequests(w.org))).body).toMatchObject({ count: 0, results: [] });
    expectError(await w.insider.client.get(`${requests(w.privateId)}${filed.id}/`), 404);
    expect((await w.insider.client.get(requests(w.privateId))).body.count).toBe(0);
    expect((await w.org.owner.client.get(`${requests(w.privateId)}?state=approved`)).body.count).toBe(0);
  });

  it('approves (for less time) and creates the grant with the decision, in one transaction', async () => {
    const w = await world();
    const filed = await fileProjectRequest(w, w.member, { access_level: 'admin', duration_hours: 48 });
    const res = await w.admin.client.post(`${requests(w.privateId)}${filed.id}/approve/`, {
      access_level: 'member',
      duration_hours: 4,
      reason: 'member is enough',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ state: 'approved', granted_access_level: 'member', decision_reason: 'member is enough', can_decide: false });
    expect(res.body.decided_by.uuid).toBe(w.admin.user.uuid);
    const granted = Date.parse(res.body.granted_expires_at) - Date.now();
    expect(granted).toBeGreaterThan(3.9 * 3_600_000);
    expect(granted).toBeLessThanOrEqual(4 * 3_600_000);
    // The grant: the requester's own rule on the project, and the project opens to them.
    const [rule] = await server.db.query<{
      id: string;
      access_level: string;
      organization_member_id: string;
      created_by_id: number;
      expires_at: Date | string;
    }>(`SELECT id, access_level, organization_member_id::text, created_by_id, expires_at FROM access_controls WHERE team_id = $1 AND resource = 'project'`, [
      w.privateId,
    ]);
    expect(rule).toMatchObject({ id: res.body.access_control_id, access_level: 'member', created_by_id: w.admin.user.id });
    // A time-bound grant: it ends when the approval said.
    expect(new Date(rule!.expires_at).getTime()).toBe(Date.parse(res.body.granted_expires_at));
    const project = await w.member.client.get(`/api/projects/${w.privateId}/`);
    expect(project.status).toBe(200);
    expect(project.body.effective_membership_level).toBe(1);

    const log = await entries(w.org, 'AccessRequest');
    expect(log.map((e) => e.activity)).toEqual(['requested', 'approved']);
    expect(log[1]!.user_id).toBe(w.admin.user.id);
    expect(log[1]!.detail.context).toMatchObject({
      requester: { uuid: w.member.user.uuid },
      access_level: 'admin',
      duration_hours: 48,
      reason: 'On call this week',
      decided_by: { uuid: w.admin.user.uuid },
      granted_access_level: 'member',
      decision_reason: 'member is enough',
    });
    expect((await entries(w.org, 'AccessControl')).map((e) => e.activity)).toEqual(['created']);

    // Deciding twice: 409, nothing changes.
    const before = await counts(w.org);
    expectError(await w.org.owner.client.post(`${requests(w.privateId)}${filed.id}/approve/`, {}), 409, 'This access request was already approved.');
    expectError(await w.org.owner.client.post(`${requests(w.privateId)}${filed.id}/deny/`, { reason: 'no' }), 409, 'This access request was already approved.');
    expect(await counts(w.org)).toEqual(before);
    expect((await w.member.client.get(orgRequests(w.org))).body.count).toBe(0);
  });

  it('denies with a reason, and grants nothing', async () => {
    const w = await world();
    const filed = await fileProjectRequest(w);
    const before = await counts(w.org);
    expectError(await w.admin.client.post(`${requests(w.privateId)}${filed.id}/deny/`, { reason: '  ' }), 400, 'Say why the request is denied.', 'reason');
    expect(await counts(w.org)).toEqual(before);
    const res = await w.admin.client.post(`${requests(w.privateId)}${filed.id}/deny/`, { reason: 'Ask your lead first' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ state: 'denied', decision_reason: 'Ask your lead first', granted_access_level: null, access_control_id: null });
    expect((await counts(w.org)).rules).toBe(before.rules);
    expectError(await w.member.client.get(`/api/projects/${w.privateId}/`), 403);
    const [, denied] = await entries(w.org, 'AccessRequest');
    expect(denied).toMatchObject({ activity: 'denied', user_id: w.admin.user.id });
    expect(denied!.detail.context).toMatchObject({ requester: { uuid: w.member.user.uuid }, decision_reason: 'Ask your lead first', access_level: 'member' });
    expect((await w.member.client.get(`${requests(w.privateId)}${filed.id}/`)).body.state).toBe('denied');
  });

  it('refuses your own request, deciders below the ceiling, and approvals above what was asked', async () => {
    const w = await world();
    const own = await fileProjectRequest(w, w.admin, { resource: 'feature_flag', access_level: 'manager' });
    expectError(await w.admin.client.post(`${requests(w.privateId)}${own.id}/approve/`, {}), 403, 'You cannot approve or deny your own access request.');
    expectError(
      await w.admin.client.post(`${requests(w.privateId)}${own.id}/deny/`, { reason: 'x' }),
      403,
      'You cannot approve or deny your own access request.',
    );

    const filed = await fileProjectRequest(w);
    const before = await counts(w.org);
    // A project member (not its admin) could not grant access to the project.
    expectError(
      await w.insider.client.post(`${requests(w.privateId)}${filed.id}/approve/`, {}),
      403,
      'Only admins of the project can decide requests for access to it.',
    );
    // Refused the project, refused its requests.
    expectError(await addMember(w.org, 1).then((p) => p.client.post(`${requests(w.privateId)}${filed.id}/deny/`, { reason: 'x' })), 403);
    // An explicit project admin decides project requests, not project-wide resource rules (organization admins only).
    const projectAdmin = await addMember(w.org, 1);
    expect((await w.org.owner.client.post(`/api/projects/${w.privateId}/explicit_members/`, { user_uuid: projectAdmin.user.uuid, level: 8 })).status).toBe(201);
    const flagRequest = await fileProjectRequest(w, w.insider, { resource: 'feature_flag', access_level: 'editor' });
    expectError(
      await projectAdmin.client.post(`${requests(w.privateId)}${flagRequest.id}/approve/`, {}),
      403,
      'Must be an Organization admin to decide requests for project-wide access.',
    );
    // Higher or longer than asked: 400.
    expectError(
      await w.admin.client.post(`${requests(w.privateId)}${filed.id}/approve/`, { access_level: 'admin' }),
      400,
      'An approval cannot grant a higher level than was requested.',
      'access_level',
    );
    expectError(
      await w.admin.client.post(`${requests(w.privateId)}${filed.id}/approve/`, { duration_hours: 9 }),
      400,
      'An approval cannot grant access for longer than was requested.',
      'duration_hours',
    );
    expectError(
      await w.admin.client.post(`${requests(w.privateId)}${filed.id}/approve/`, { access_level: 'owner' }),
      400,
      /Invalid access level/,
      'access_level',
    );
    // None of the refusals granted or decided anything.
    expect((await counts(w.org)).rules).toBe(before.rules);
    expect((await w.org.owner.client.get(`${requests(w.privateId)}${filed.id}/`)).body).toMatchObject({ state: 'pending', decided_by: null });
    expect((await entries(w.org, 'AccessRequest')).map((e) => e.activity)).toEqual(['requested', 'requested', 'requested']);

    // The explicit project admin is above the ceiling for the project: they approve it.
    const approved = await projectAdmin.client.post(`${requests(w.privateId)}${filed.id}/approve/`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.granted_access_level).toBe('member');
  });

  it('asks for a resource: project-wide or one object, granted by those who manage it', async () => {
    const w = await world();
    const open = (await w.org.owner.client.get('/api/users/@me/')).body.team.id as number;
    // Everyone's default on flags in the open project: none.
    expect((await w.org.owner.client.put(`/api/projects/${open}/resource_access_controls/`, { resource: 'feature_flag', access_level: 'none' })).status).toBe(
      200,
    );
    expectError(await w.member.client.get(`/api/projects/${open}/feature_flags/`), 403);
    const wide = await w.member.client.post(requests(open), {
      resource: 'feature_flag',
      access_level: 'viewer',
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
      reason: 'Read the rollout',
    });
    expect(wide.status, JSON.stringify(wide.body)).toBe(201);
    expect(wide.body).toMatchObject({ resource: 'feature_flag', resource_id: null, duration_hours: null });
    const approved = await w.admin.client.post(`${requests(open)}${wide.body.id}/approve/`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(Date.parse(approved.body.granted_expires_at)).toBe(Date.parse(wide.body.expires_at));
    expect((await w.member.client.get(`/api/projects/${open}/feature_flags/`)).status).toBe(200);

    // One object: its creator (a member) manages it and may grant it; another member may not.
    const [flag] = await server.db.query<{ id: number }>(`INSERT INTO feature_flags (team_id, key, created_by_id) VALUES ($1, 'req-flag', $2) RETURNING id`, [
      open,
      w.insider.user.id,
    ]);
    const one = await w.member.client.post(requests(open), {
      resource: 'feature_flag',
      resource_id: flag!.id,
      access_level: 'editor',
      duration_hours: 2,
      reason: 'Fix targeting',
    });
    expect(one.status, JSON.stringify(one.body)).toBe(201);
    const other = await addMember(w.org, 1);
    expectError(
      await other.client.post(`${requests(open)}${one.body.id}/approve/`, {}),
      403,
      'Must be manager of this feature_flag to decide requests for access to it.',
    );
    const byCreator = await w.insider.client.post(`${requests(open)}${one.body.id}/approve/`, {});
    expect(byCreator.status, JSON.stringify(byCreator.body)).toBe(200);
    const [rule] = await server.db.query<{ access_level: string }>(
      `SELECT access_level FROM access_controls WHERE team_id = $1 AND resource = 'feature_flag' AND resource_id = $2`,
      [open, String(flag!.id)],
    );
    expect(rule!.access_level).toBe('editor');
  });

  it('undoes the decision when the grant cannot be made (one transaction)', async () => {
    const w = await world();
    const open = (await w.org.owner.client.get('/api/users/@me/')).body.team.id as number;
    const [flag] = await server.db.query<{ id: number }>(`INSERT INTO feature_flags (team_id, key) VALUES ($1, 'gone-soon') RETURNING id`, [open]);
    const filed = await w.member.client.post(requests(open), {
      resource: 'feature_flag',
      resource_id: flag!.id,
      access_level: 'viewer',
      duration_hours: 1,
      reason: 'Look',
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    // The object goes away before the decision: the grant fails, and so does the decision.
    await server.db.query('UPDATE feature_flags SET deleted = true WHERE id = $1', [flag!.id]);
    const before = await counts(w.org);
    expectError(await w.org.owner.client.post(`${requests(open)}${filed.body.id}/approve/`, {}), 404);
    expect(await counts(w.org)).toEqual(before);
    expect((await w.org.owner.client.get(`${requests(open)}${filed.body.id}/`)).body).toMatchObject({ state: 'pending', granted_access_level: null });
  });

  it('refuses bad input with 400 and changes nothing', async () => {
    const w = await world();
    const before = await counts(w.org);
    const ask = (body: Record<string, unknown>) => w.member.client.post(requests(w.privateId), body);
    const good = { resource: 'project', access_level: 'member', duration_hours: 8, reason: 'why' };
    expectError(await ask({ ...good, access_level: 'superuser' }), 400, 'Invalid access level. Must be one of: member, admin', 'access_level');
    expectError(await ask({ ...good, resource: 'feature_flag', access_level: 'admin' }), 400, /Invalid access level/, 'access_level');
    expectError(await ask({ ...good, access_level: 'none' }), 400, /Invalid access level/, 'access_level');
    expectError(await ask({ ...good, resource: 'everything' }), 400, /Invalid resource/, 'resource');
    expectError(
      await ask({ ...good, duration_hours: undefined, expires_at: new Date(Date.now() - 60_000).toISOString() }),
      400,
      'The expiry must be in the future.',
      'expires_at',
    );
    expectError(await ask({ ...good, duration_hours: undefined, expires_at: 'tomorrow' }), 400, /wrong format/, 'expires_at');
    expectError(await ask({ ...good, expires_at: new Date(Date.now() + 60_000).toISOString() }), 400, 'Give either duration_hours or expires_at.');
    expectError(await ask({ ...good, duration_hours: undefined }), 400, 'Give either duration_hours or expires_at.');
    expectError(await ask({ ...good, duration_hours: 0 }), 400, /whole number of hours/, 'duration_hours');
    expectError(await ask({ ...good, duration_hours: 1.5 }), 400, /whole number of hours/, 'duration_hours');
    expectError(await ask({ ...good, duration_hours: 100_000 }), 400, /whole number of hours/, 'duration_hours');
    expectError(await ask({ ...good, reason: undefined }), 400, undefined, 'reason');
    expectError(await ask({ ...good, reason: '   ' }), 400, 'Say why you need this access.', 'reason');
    expectError(await ask({ ...good, reason: 'x'.repeat(1001) }), 400, undefined, 'reason');
    expectError(await ask({ ...good, resource: 'feature_flag', access_level: 'viewer', resource_id: '999999' }), 400, /object does not exist/, 'resource_id');
    expectError(await ask({ ...good, resource: 'survey', access_level: 'viewer', resource_id: '1' }), 400, /only for/, 'resource_id');
    expectError(await ask({ ...good, resource_id: '12345' }), 400, undefined, 'resource_id');
    expect(await counts(w.org)).toEqual(before);
    expectError(await w.org.owner.client.post(`${requests(w.privateId)}not-a-uuid/approve/`, {}), 404);
  });

  it('sends requested, approved and denied entries to the organization sinks, with who, what, how long and why', async () => {
    const receiver = new HttpsReceiver(cert);
    await receiver.start();
    try {
      const w = await world();
      const sink = await w.org.owner.client.post(`/api/organizations/${w.org.id}/activity_log_sinks/`, { url: receiver.url });
      expect(sink.status, JSON.stringify(sink.body)).toBe(201);
      const filed = await fileProjectRequest(w);
      expect((await w.admin.client.post(`${requests(w.privateId)}${filed.id}/approve/`, { duration_hours: 2 })).status).toBe(200);
      const second = await fileProjectRequest(w, w.member, { resource: 'feature_flag', access_level: 'editor', reason: 'Flags too' });
      expect((await w.org.owner.client.post(`${requests(w.privateId)}${second.id}/deny/`, { reason: 'Not now' })).status).toBe(200);
      const received = await eventually('access request entries delivered', async () => {
        const got = receiver.accepted.flatMap((d) => d.body.entries as any[]).filter((e) => e.scope === 'AccessRequest');
        return got.length >= 4 && got;
      });
      expect(received.map((e: any) => e.activity)).toEqual(['requested', 'approved', 'requested', 'denied']);
      expect(received[0].detail.context).toMatchObject({
        requester: { uuid: w.member.user.uuid, email: w.member.user.email },
        access_level: 'member',
        duration_hours: 8,
        reason: 'On call this week',
      });
      expect(received[1].detail.context).toMatchObject({ decided_by: { uuid: w.admin.user.uuid }, granted_access_level: 'member' });
      expect(received[3].detail.context).toMatchObject({ resource: 'feature_flag', access_level: 'editor', reason: 'Flags too', decision_reason: 'Not now' });
      expect(received[3].detail.name).toContain(w.member.user.email);
    } finally {
      await receiver.stop();
    }
  });
});
