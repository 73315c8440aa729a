import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const flags = (org: Org) => `/api/projects/${org.defaultProjectId}/feature_flags/`;
const requests = (org: Org) => `/api/projects/${org.defaultProjectId}/change_requests/`;
const policies = (org: Org) => `/api/projects/${org.defaultProjectId}/approval_policies/`;

async function flag(org: Org, rollout = 10, active = true): Promise<number> {
  const res = await org.owner.client.post(flags(org), {
    key: `f-${Math.random().toString(36).slice(2, 10)}`,
    name: 'F',
    active,
    filters: { groups: [{ properties: [], rollout_percentage: rollout }] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const rollout = (n: number) => ({ filters: { groups: [{ properties: [], rollout_percentage: n }] } });

async function policy(org: Org, body: Record<string, unknown>) {
  const res = await org.owner.client.post(policies(org), body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function flagRow(id: number) {
  const [row] = await server.db.query<{ active: boolean; filters: any; deleted: boolean; tags: string[] }>(
    'SELECT active, filters, deleted, tags FROM feature_flags WHERE id = $1',
    [id],
  );
  return row!;
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await server.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return row!.n;
}

describe('approval policies', () => {
  let org: Org;
  let admin: Person;
  let member: Person;
  beforeAll(async () => {
    org = await newOrganization(server.url);
    admin = await addMember(org, 8);
    member = await addMember(org, 1);
  });

  it('refuses bad policies in PostHog’s error shape, and changes nothing', async () => {
    const before = await count('approval_policies WHERE organization_id = $1', [org.id]);
    const outsider = await newOrganization(server.url);
    expectError(
      await org.owner.client.post(policies(org), { action_key: 'feature_flag.explode', approver_config: { quorum: 1 } }),
      400,
      '"feature_flag.explode" is not a valid choice.',
      'action_key',
    );
    expectError(
      await org.owner.client.post(policies(org), {
        action_key: 'feature_flag.enable',
        approver_config: { quorum: 1, users: [admin.user.id, outsider.owner.user.id] },
      }),
      400,
      `Unknown approvers: users ${outsider.owner.user.id} are not members of this organization.`,
      'approver_config',
    );
    expectError(
      await org.owner.client.post(policies(org), { action_key: 'feature_flag.enable', approver_config: { quorum: 3, users: [admin.user.id, member.user.id] } }),
      400,
      'The quorum (3) is larger than the number of eligible approvers (2).',
      'approver_config',
    );
    expectError(
      await org.owner.client.post(policies(org), {
        action_key: 'feature_flag.enable',
        approver_config: { quorum: 1, roles: ['00000000-0000-4000-8000-000000000002'] },
      }),
      400,
      'Roles do not exist: 00000000-0000-4000-8000-000000000002',
      'approver_config',
    );
    expectError(
      await org.owner.client.post(policies(org), { action_key: 'feature_flag.enable', conditions: { type: 'before_after', field: 'rollout_percentage' } }),
      400,
      /operator/,
      'conditions',
    );
    expectError(
      await org.owner.client.post(policies(org), { action_key: 'feature_flag.enable', expires_after: 'soon' }),
      400,
      /Duration has wrong format/,
      'expires_after',
    );
    expectError(
      await member.client.post(policies(org), { action_key: 'feature_flag.enable' }),
      403,
      'You need to be an organization admin to change approval policies.',
    );
    expect(await count('approval_policies WHERE organization_id = $1', [org.id])).toBe(before);
    expect(await count("activity_log WHERE organization_id = $1 AND scope = 'ApprovalPolicy'", [org.id])).toBe(0);
  });

  it('reads, edits and removes a policy in PostHog’s shape, each change logged', async () => {
    const created = await policy(org, {
      action_key: 'feature_flag.disable',
      approver_config: { quorum: 1, users: [admin.user.id] },
      expires_after: '7 00:00:00',
    });
    expect(created).toMatchObject({
      action_key: 'feature_flag.disable',
      approver_config: { quorum: 1, users: [admin.user.id], roles: [] },
      allow_self_approve: false,
      expires_after: '7 00:00:00',
      enabled: true,
      bypass_object_managers: false,
    });
    expect(created.created_by.uuid).toBe(org.owner.user.uuid);
    expectError(
      await org.owner.client.post(policies(org), { action_key: 'feature_flag.disable', approver_config: { quorum: 1 } }),
      400,
      'A policy for this action already exists. You can edit the existing policy instead.',
    );
    const patched = await org.owner.client.patch(`${policies(org)}${created.id}/`, {
      approver_config: { quorum: 2, users: [admin.user.id, member.user.id] },
      allow_self_approve: true,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ approver_config: { quorum: 2 }, allow_self_approve: true });
    expect((await member.client.get(`${policies(org)}${created.id}/`)).body.approver_config.quorum).toBe(2);
    expect((await member.client.get(`${policies(org)}?action_key=feature_flag.disable`)).body.count).toBe(1);
    expect((await org.owner.client.delete(`${policies(org)}${created.id}/`)).status).toBe(204);
    const logged = await server.db.query<{ activity: string }>(
      "SELECT activity FROM activity_log WHERE item_id = $1 AND scope = 'ApprovalPolicy' ORDER BY seq",
      [created.id],
    );
    expect(logged.map((e) => e.activity)).toEqual(['created', 'updated', 'deleted']);
  });
});

describe('change requests for flag changes', () => {
  it('holds a rollout change until the quorum of named approvers approves, then applies it as the requester', async () => {
    const org = await newOrganization(server.url);
    const [a, b] = [await addMember(org, 1), await addMember(org, 1)];
    const requester = await addMember(org, 1);
    // Only a rollout above 50% needs approval (PostHog's before_after condition).
    await policy(org, {
      action_key: 'feature_flag.update',
      conditions: { type: 'before_after', field: 'rollout_percentage', operator: '>', value: 50 },
      approver_config: { quorum: 2, users: [a.user.id, b.user.id] },
    });
    const id = await flag(org);
    expect((await requester.client.patch(`${flags(org)}${id}/`, rollout(40))).status).toBe(200);
    const held = await requester.client.patch(`${flags(org)}${id}/`, { ...rollout(90), name: 'wider' });
    expect(held.status, JSON.stringify(held.body)).toBe(409);
    expect(held.body).toMatchObject({ code: 'approval_required', required_approvers: { quorum: 2, users: [a.user.id, b.user.id] } });
    expect((await flagRow(id)).filters.groups[0].rollout_percentage).toBe(40);
    const path = `${requests(org)}${held.body.change_request_id}/`;

    expectError(await requester.client.post(`${path}approve/`, {}), 403, 'You cannot approve or reject your own change request.');
    expectError(await org.owner.client.post(`${path}approve/`, {}), 403, 'You are not an approver of this change request.');
    const first = await a.client.post(`${path}approve/`, { reason: 'ok' });
    expect(first.body).toMatchObject({ status: 'approved', change_request: { state: 'pending' } });
    expectError(await a.client.post(`${path}approve/`, {}), 400, 'You have already voted on this change request.');
    expect((await flagRow(id)).filters.groups[0].rollout_percentage).toBe(40);
    expect((await b.client.get(path)).body).toMatchObject({ can_approve: true, user_decision: null });

    const second = await b.client.post(`${path}approve/`, {});
    expect(second.body).toMatchObject({ status: 'applied', change_request: { state: 'applied' } });
    expect((await flagRow(id)).filters.groups[0].rollout_percentage).toBe(90);
    const [entry] = await server.db.query<{ user_id: number; detail: any }>(
      "SELECT user_id, detail FROM activity_log WHERE scope = 'FeatureFlag' AND activity = 'updated' AND item_id = $1 ORDER BY seq DESC LIMIT 1",
      [String(id)],
    );
    expect(entry!.user_id).toBe(requester.user.id);
    expect(entry!.detail.context.approved_by.sort()).toEqual([a.user.id, b.user.id].sort());
    expect(entry!.detail.changes.map((c: any) => c.field).sort()).toEqual(['filters', 'name']);
  });

  it('gates enabling, lets the requester approve where the policy allows, and refuses an approver who may not change the flag', async () => {
    const org = await newOrganization(server.url);
    const approver = await addMember(org, 1);
    await policy(org, {
      action_key: 'feature_flag.enable',
      approver_config: { quorum: 1, users: [approver.user.id, org.owner.user.id] },
      allow_self_approve: true,
    });
    const id = await flag(org, 10, false);
    const held = await org.owner.client.patch(`${flags(org)}${id}/`, { active: true });
    expect(held.status).toBe(409);
    // Disabling is another action: no policy covers it.
    const other = await flag(org, 10, true);
    expect((await org.owner.client.patch(`${flags(org)}${other}/`, { active: false })).status).toBe(200);

    // The named approver loses write access to flags: their approval cannot let the change through.
    await server.db.query(
      `INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id)
       SELECT $1, 'viewer', 'feature_flag', NULL, id FROM organization_memberships WHERE organization_id = $2 AND user_id = $3`,
      [org.defaultProjectId, org.id, approver.user.id],
    );
    const path = `${requests(org)}${held.body.change_request_id}/`;
    expectError(await approver.client.post(`${path}approve/`, {}), 403);
    expect(await count('change_request_approvals WHERE change_request_id = $1', [held.body.change_request_id])).toBe(0);
    const mine = await org.owner.client.post(`${path}approve/`, {});
    expect(mine.body.status).toBe('applied');
    expect((await flagRow(id)).active).toBe(true);
  });

  it('lets the levels and roles a policy names bypass it', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const [role] = await server.db.query<{ id: string }>("INSERT INTO roles (organization_id, name) VALUES ($1, 'release') RETURNING id", [org.id]);
    await server.db.query(
      `INSERT INTO role_memberships (role_id, organization_member_id) SELECT $1, id FROM organization_memberships WHERE organization_id = $2 AND user_id = $3`,
      [role!.id, org.id, admin.user.id],
    );
    const created = await policy(org, {
      action_key: 'feature_flag.disable',
      approver_config: { quorum: 1 },
      bypass_org_membership_levels: ['15'],
      bypass_roles: [role!.id],
    });
    expect(created).toMatchObject({ bypass_org_membership_levels: ['15'], bypass_roles: [role!.id] });
    expect((await org.owner.client.patch(`${flags(org)}${await flag(org)}/`, { active: false })).status).toBe(200);
    expect((await admin.client.patch(`${flags(org)}${await flag(org)}/`, { active: false })).status).toBe(200);
    expect((await member.client.patch(`${flags(org)}${await flag(org)}/`, { active: false })).status).toBe(409);
  });

  it('refuses to apply a stale request, and expires old ones (logged, by the system)', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    await policy(org, { action_key: 'feature_flag.disable', approver_config: { quorum: 1 } });
    const id = await flag(org);
    const held = await member.client.patch(`${flags(org)}${id}/`, { active: false });
    expect(held.status).toBe(409);
    // Someone changes the flag meanwhile (a rename is not gated).
    expect((await org.owner.client.patch(`${flags(org)}${id}/`, { name: 'renamed' })).status).toBe(200);
    const path = `${requests(org)}${held.body.change_request_id}/`;
    expectError(await org.owner.client.post(`${path}approve/`, {}), 400, /has changed since this change request was made/);
    expect((await flagRow(id)).active).toBe(true);
    expect((await org.owner.client.get(path)).body.state).toBe('pending');
    // The requester withdraws it and asks again.
    expectError(await org.owner.client.post(`${path}cancel/`, {}), 403, 'Only the requester can cancel this change request.');
    expect((await member.client.post(`${path}cancel/`, {})).body).toMatchObject({ status: 'canceled', change_request: { state: 'rejected' } });
    const again = await member.client.patch(`${flags(org)}${id}/`, { active: false });
    expect(again.status).toBe(409);

    await server.db.query("UPDATE change_requests SET expires_at = now() - interval '1 minute' WHERE id = $1", [again.body.change_request_id]);
    const expiredPath = `${requests(org)}${again.body.change_request_id}/`;
    expectError(await org.owner.client.post(`${expiredPath}approve/`, {}), 400, 'This change request has expired.');
    expect((await org.owner.client.get(expiredPath)).body).toMatchObject({ state: 'expired', validation_status: 'expired' });
    expect((await flagRow(id)).active).toBe(true);
    const [expiry] = await server.db.query<{ is_system: boolean; user_id: number | null }>(
      "SELECT is_system, user_id FROM activity_log WHERE scope = 'ChangeRequest' AND activity = 'expired' AND item_id = $1",
      [again.body.change_request_id],
    );
    expect(expiry).toEqual({ is_system: true, user_id: null });
  });

  it('applies tag and project conditions, organization-wide policies, and refuses a change two policies cover', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const production = org.defaultProjectId;
    const orgPolicies = `/api/organizations/${org.id}/approval_policies/`;
    const created = await org.owner.client.post(orgPolicies, {
      action_key: 'feature_flag.delete',
      approver_config: { quorum: 1 },
      conditions: { project_ids: [production], flag_tags: ['critical'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.team_id).toBeNull();
    expect((await member.client.get(orgPolicies)).body.count).toBe(1);
    expect((await member.client.get(policies(org))).body.count).toBe(0);

    const plain = await flag(org);
    expect((await member.client.delete(`${flags(org)}${plain}/`)).status).toBe(204);
    const critical = await flag(org);
    // Tags are set through the flags API (a tags-only change is not a deletion, so no policy holds it).
    const tagged = await org.owner.client.patch(`${flags(org)}${critical}/`, { tags: [' critical ', 'critical', 'billing'] });
    expect(tagged.status, JSON.stringify(tagged.body)).toBe(200);
    expect(tagged.body.tags).toEqual(['critical', 'billing']);
    expect((await org.owner.client.get(`${flags(org)}${critical}/`)).body.tags).toEqual(['critical', 'billing']);
    expectError(await org.owner.client.patch(`${flags(org)}${critical}/`, { tags: 'critical' }), 400, /.+/);
    expect((await member.client.delete(`${flags(org)}${critical}/`)).status).toBe(409);
    // Taking the tag off is not a way round the policy: the member it holds may not remove it.
    const untag = await member.client.patch(`${flags(org)}${critical}/`, { tags: ['billing'] });
    expectError(untag, 403, /tag "critical" puts this flag under an approval policy/);
    expect((await flagRow(critical)).tags).toEqual(['critical', 'billing']);
    expect((await member.client.patch(`${flags(org)}${critical}/`, { tags: ['critical', 'billing', 'new'] })).status).toBe(200);

    // A project policy for disabling too: disabling and deleting at once matches two policies.
    await policy(org, { action_key: 'feature_flag.disable', approver_config: { quorum: 1 } });
    const both = await flag(org);
    await server.db.query("UPDATE feature_flags SET tags = '{critical}' WHERE id = $1", [both]);
    const conflict = await member.client.patch(`${flags(org)}${both}/`, { active: false, deleted: true });
    expectError(conflict, 400, /matches multiple approval policies/);
    expect(conflict.body.code).toBe('policy_conflict');
    expect((await flagRow(both)).deleted).toBe(false);
    expect(await count('change_requests WHERE resource_id = $1', [String(both)])).toBe(0);
  });
});
