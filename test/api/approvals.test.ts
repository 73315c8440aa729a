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

async function flag(org: Org, by: Person = org.owner): Promise<number> {
  const res = await by.client.post(flags(org), {
    key: `flag-${Math.random().toString(36).slice(2, 10)}`,
    name: 'F',
    filters: { groups: [{ properties: [], rollout_percentage: 50 }] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function activity(org: Org, scope: string) {
  return server.db.query<{ activity: string; user_id: number; item_id: string; detail: any }>(
    'SELECT activity, user_id, item_id, detail FROM activity_log WHERE organization_id = $1 AND scope = $2 ORDER BY seq',
    [org.id, scope],
  );
}

describe('approvals for flag deletion', () => {
  it('lets editors delete directly until a policy asks for approval', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const free = await flag(org);
    expect((await member.client.delete(`${flags(org)}${free}/`)).status).toBe(204);

    expectError(
      await member.client.post(policies(org), { action: 'delete_feature_flag' }),
      403,
      'You need to be an organization admin to change approval policies.',
    );
    expectError(await org.owner.client.post(policies(org), { action: 'delete_everything' }), 400, '"delete_everything" is not a valid choice.', 'action');
    const created = await org.owner.client.post(policies(org), { action: 'delete_feature_flag' });
    expect(created.status).toBe(201);
    expect((await member.client.get(policies(org))).body.results).toHaveLength(1);

    const guarded = await flag(org);
    // PostHog's answer to a gated change: 409 approval_required, with the change request.
    const first = await member.client.delete(`${flags(org)}${guarded}/`);
    expect(first.status).toBe(409);
    expect(first.body).toMatchObject({ code: 'approval_required', status: 'approval_required', resource_type: 'feature_flag', resource_id: String(guarded) });
    expect(first.body.change_request).toMatchObject({
      action: 'delete_feature_flag',
      action_key: 'feature_flag.delete',
      resource: 'feature_flag',
      resource_id: String(guarded),
      state: 'pending',
    });
    expect(first.body.change_request.requested_by.uuid).toBe(member.user.uuid);
    expect(first.body.change_request_id).toBe(first.body.change_request.id);
    const again = await member.client.delete(`${flags(org)}${guarded}/`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'change_request_pending', change_request_id: first.body.change_request.id });
    expect((await member.client.get(`${flags(org)}${guarded}/`)).status).toBe(200);

    // PATCH {deleted: true} is a deletion too, and goes the same way.
    // The whole PATCH is held (PostHog's intent), not only its deletion.
    const patched = await member.client.patch(`${flags(org)}${await flag(org)}/`, { deleted: true, name: 'renamed' });
    expect(patched.status).toBe(409);
    expect(patched.body.change_request.state).toBe('pending');
    expect(patched.body.change_request.intent.full_request_data).toEqual({ name: 'renamed', deleted: true });
    const stillThere = await member.client.get(`${flags(org)}${patched.body.resource_id}/`);
    expect(stillThere.body).toMatchObject({ name: 'F', deleted: false });

    // Owners and admins have manager access: they delete directly.
    const ownerFlag = await flag(org);
    expect((await org.owner.client.delete(`${flags(org)}${ownerFlag}/`)).status).toBe(204);
  });

  it('performs the action only when someone with manager access approves', async () => {
    const org = await newOrganization(server.url);
    const admin = await addMember(org, 8);
    const member = await addMember(org, 1);
    const other = await addMember(org, 1);
    await org.owner.client.post(policies(org), { action: 'delete_feature_flag' });
    const target = await flag(org);
    const request = await member.client.delete(`${flags(org)}${target}/`);
    expect(request.status).toBe(409);
    const path = `${requests(org)}${request.body.change_request_id}/`;

    expectError(await member.client.post(`${path}approve/`, {}), 403, 'You cannot approve or reject your own change request.');
    expectError(await other.client.post(`${path}approve/`, {}), 403, 'Must be manager to approve or reject this change request.');
    expect((await member.client.get(`${flags(org)}${target}/`)).status).toBe(200);

    const approved = await admin.client.post(`${path}approve/`, { reason: 'cleanup' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: 'applied', change_request: { state: 'applied', reason: 'cleanup' } });
    expect(approved.body.change_request.decided_by.uuid).toBe(admin.user.uuid);
    expect(approved.body.change_request.applied_by.uuid).toBe(admin.user.uuid);
    expect(approved.body.change_request.approvals.map((a: any) => [a.created_by.uuid, a.decision, a.reason])).toEqual([
      [admin.user.uuid, 'approved', 'cleanup'],
    ]);
    expect((await member.client.get(`${flags(org)}${target}/`)).status).toBe(404);
    expectError(await admin.client.post(`${path}reject/`, {}), 400, 'This change request can no longer be rejected.');

    const listed = await member.client.get(`${requests(org)}?state=applied`);
    expect(listed.body.results.map((r: { id: string }) => r.id)).toEqual([request.body.change_request_id]);
    expectError(await member.client.get(`${requests(org)}?state=bogus`), 400);

    expect((await activity(org, 'ChangeRequest')).map((e) => e.activity)).toEqual(['created', 'approved', 'applied']);
    // The deletion is the requester's, and names its approvers.
    const deletions = (await activity(org, 'FeatureFlag')).filter((e) => e.activity === 'deleted' && e.item_id === String(target));
    expect(deletions).toHaveLength(1);
    expect(deletions[0]!.user_id).toBe(member.user.id);
    expect(deletions[0]!.detail.context).toMatchObject({ change_request_id: request.body.change_request_id, approved_by: [admin.user.id] });
  });

  it('leaves the object alone when a request is rejected', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    await org.owner.client.post(policies(org), { action: 'delete_feature_flag' });
    const target = await flag(org);
    const request = await member.client.delete(`${flags(org)}${target}/`);
    const rejected = await org.owner.client.post(`${requests(org)}${request.body.change_request_id}/reject/`, { reason: 'still in use' });
    expect(rejected.body).toMatchObject({ status: 'rejected', change_request: { state: 'rejected', reason: 'still in use' } });
    expect((await member.client.get(`${flags(org)}${target}/`)).status).toBe(200);
    expect((await activity(org, 'ChangeRequest')).map((e) => e.activity)).toEqual(['created', 'rejected']);
    // A new request may be filed after a rejection.
    expect((await member.client.delete(`${flags(org)}${target}/`)).body.change_request.state).toBe('pending');
  });

  it('applies a role-scoped policy to that role only, and never to managers of the object', async () => {
    const org = await newOrganization(server.url);
    const inRole = await addMember(org, 1);
    const outside = await addMember(org, 1);
    const manager = await addMember(org, 1);
    const [role] = await server.db.query<{ id: string }>("INSERT INTO roles (organization_id, name) VALUES ($1, 'engineering') RETURNING id", [org.id]);
    await server.db.query(
      `INSERT INTO role_memberships (role_id, organization_member_id)
       SELECT $1, id FROM organization_memberships WHERE organization_id = $2 AND user_id = $3`,
      [role!.id, org.id, inRole.user.id],
    );
    expect((await org.owner.client.post(policies(org), { action: 'delete_feature_flag', role: role!.id })).status).toBe(201);
    expectError(
      await org.owner.client.post(policies(org), { action: 'delete_feature_flag', role: '00000000-0000-4000-8000-000000000000' }),
      400,
      'Role does not exist.',
      'role',
    );

    expect((await inRole.client.delete(`${flags(org)}${await flag(org)}/`)).status).toBe(409);
    expect((await outside.client.delete(`${flags(org)}${await flag(org)}/`)).status).toBe(204);

    const managed = await flag(org);
    await server.db.query(
      `INSERT INTO role_memberships (role_id, organization_member_id)
       SELECT $1, id FROM organization_memberships WHERE organization_id = $2 AND user_id = $3`,
      [role!.id, org.id, manager.user.id],
    );
    await server.db.query(
      `INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id)
       SELECT $1, 'manager', 'feature_flag', $2, id FROM organization_memberships WHERE organization_id = $3 AND user_id = $4`,
      [org.defaultProjectId, String(managed), org.id, manager.user.id],
    );
    expect((await manager.client.delete(`${flags(org)}${managed}/`)).status).toBe(204);

    const listed = await org.owner.client.get(policies(org));
    const policy = listed.body.results[0];
    expect((await org.owner.client.delete(`${policies(org)}${policy.id}/`)).status).toBe(204);
    expect((await inRole.client.delete(`${flags(org)}${await flag(org)}/`)).status).toBe(204);
    expect((await activity(org, 'ApprovalPolicy')).map((e) => e.activity)).toEqual(['created', 'deleted']);
  });
});
