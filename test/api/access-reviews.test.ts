import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startNode, startServer, storeKind, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, PASSWORD, type Org, type Person } from '../helpers/world.js';

/**
 * Access reviews (issue 25, part 3): a snapshot of every grant in scope, flags, decisions by the
 * reviewers, closing that applies the revocations (access really gone), and the evidence export
 * tied to the activity-log chain.
 */
const reviews = (org: Org) => `/api/organizations/${org.id}/access_reviews/`;
const flagsOf = (projectId: number) => `/api/projects/${projectId}/feature_flags/`;

async function memberId(org: Org, person: Person): Promise<string> {
  const res = await org.owner.client.get(`/api/organizations/${org.id}/members/?email=${encodeURIComponent(person.user.email)}`);
  return res.body.results[0].id;
}

async function privateProject(org: Org, name: string): Promise<number> {
  const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name, access_control: true });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function explicitMember(org: Org, projectId: number, person: Person) {
  const res = await org.owner.client.post(`/api/projects/${projectId}/explicit_members/`, { user_uuid: person.user.uuid, level: 1 });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function items(client: Client, org: Org, reviewId: string): Promise<any[]> {
  const res = await client.get(`${reviews(org)}${reviewId}/items/`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.results;
}

async function decide(client: Client, org: Org, reviewId: string, itemId: string, decision: string, note?: string) {
  return client.patch(`${reviews(org)}${reviewId}/items/${itemId}/`, note === undefined ? { decision } : { decision, note });
}

async function reviewCount(server: TestServer, org: Org): Promise<number> {
  const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_reviews WHERE organization_id = $1', [org.id]);
  return row!.n;
}

describe('access reviews', () => {
  let server: TestServer;
  let org: Org;
  let admin: Person;
  let member: Person;
  let other: Person;
  let leaver: Person;
  let projectId: number;
  let roleId: string;
  let memberKey: Client & { keyId: string };
  let oldKey: Client & { keyId: string };
  let accountId: string;
  let reviewId: string;
  let projectReviewId: string;

  beforeAll(async () => {
    server = await startServer();
    org = await newOrganization(server.url);
    admin = await addMember(org, 8);
    member = await addMember(org, 1);
    other = await addMember(org, 1);
    leaver = await addMember(org, 1);
    projectId = await privateProject(org, 'Payments');
    await explicitMember(org, projectId, member);
    const role = await org.owner.client.post(`/api/organizations/${org.id}/roles/`, { name: 'Engineers' });
    roleId = role.body.id;
    expect((await org.owner.client.post(`/api/organizations/${org.id}/roles/${roleId}/role_memberships/`, { user_uuid: other.user.uuid })).status).toBe(201);
    const rule = await org.owner.client.put(`/api/projects/${org.defaultProjectId}/resource_access_controls/`, {
      resource: 'dashboard',
      access_level: 'editor',
      organization_member: await memberId(org, other),
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    memberKey = await keyClient(member, ['feature_flag:read']);
    oldKey = await keyClient(member, ['feature_flag:read']);
    expect((await memberKey.get(flagsOf(projectId))).status).toBe(200);
    expect((await oldKey.get(flagsOf(projectId))).status).toBe(200);
    // Unused for 100 days (set in the past in the database).
    await server.db.query("UPDATE personal_api_keys SET last_used_at = now() - interval '100 days', created_at = now() - interval '200 days' WHERE id = $1", [
      oldKey.keyId,
    ]);
    const account = await org.owner.client.post(`/api/organizations/${org.id}/service_accounts/`, { name: 'ci-bot' });
    expect(account.status, JSON.stringify(account.body)).toBe(201);
    accountId = account.body.id;
    // The leaver was deactivated but still holds the membership.
    await server.db.query('UPDATE users SET is_active = false WHERE id = $1', [leaver.user.id]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses bad input with a clear error, creating nothing', async () => {
    const before = await reviewCount(server, org);
    expectError(await admin.client.post(reviews(org), {}), 400);
    expectError(await admin.client.post(reviews(org), { name: '  ' }), 400, 'This field is required.', 'name');
    expectError(await admin.client.post(reviews(org), { name: 'Q1', project_id: 999999 }), 400, /does not exist/, 'project_id');
    expectError(await admin.client.post(reviews(org), { name: 'Q1', due_at: '2001-01-01T00:00:00Z' }), 400, 'The due date must be in the future.', 'due_at');
    expectError(await admin.client.post(reviews(org), { name: 'Q1', due_at: 'soon' }), 400, undefined, 'due_at');
    expectError(
      await admin.client.post(reviews(org), { name: 'Q1', reviewer_ids: ['00000000-0000-4000-8000-000000000000'] }),
      400,
      /is not an active person/,
      'reviewer_ids',
    );
    // A reviewer of a project review must have access to the project.
    expectError(
      await admin.client.post(reviews(org), { name: 'Q1', project_id: projectId, reviewer_ids: [other.user.uuid] }),
      400,
      /access to the project/,
      'reviewer_ids',
    );
    // Only admins start reviews.
    expectError(await member.client.post(reviews(org), { name: 'Q1' }), 403);
    expect(await reviewCount(server, org)).toBe(before);
  });

  it('starts a review of the organization: every grant becomes an item, with flags', async () => {
    const res = await admin.client.post(reviews(org), { name: 'Q1 review', due_at: new Date(Date.now() + 7 * 86_400_000).toISOString() });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    reviewId = res.body.id;
    expect(res.body).toMatchObject({ name: 'Q1 review', status: 'open', project_id: null, chain_head: null, can_decide: true });
    // Default reviewers: the organization's admins and owners.
    expect(res.body.reviewers.map((r: any) => r.email).sort()).toEqual([admin.user.email, org.owner.user.email].sort());

    const all = await items(admin.client, org, reviewId);
    expect(res.body.counts).toMatchObject({ items: all.length, undecided: all.length, keep: 0, revoke: 0 });
    const of = (kind: string, email?: string) => all.filter((i) => i.kind === kind && (email === undefined || i.subject.email === email));
    // Memberships: every person, service accounts as their own kind.
    expect(
      of('organization_membership')
        .map((i) => i.subject.email)
        .sort(),
    ).toEqual([org.owner, admin, member, other, leaver].map((p) => p.user.email).sort());
    expect(of('organization_membership', org.owner.user.email)[0]).toMatchObject({ access: 'owner (15) of the organization', subject: { level: 15 } });
    expect(of('service_account')).toHaveLength(1);
    expect(of('service_account')[0].target_id).toBe(accountId);
    expect(of('project_membership', member.user.email)).toEqual([
      expect.objectContaining({ project_id: projectId, detail: { project_name: 'Payments', level: 1 } }),
    ]);
    expect(of('role_membership', other.user.email)[0].detail).toEqual({ role_id: roleId, role_name: 'Engineers' });
    expect(of('access_control', other.user.email)[0]).toMatchObject({
      project_id: org.defaultProjectId,
      detail: { resource: 'dashboard', resource_id: null, access_level: 'editor' },
    });
    const keys = of('personal_api_key', member.user.email);
    expect(keys.map((k) => k.target_id).sort()).toEqual([memberKey.keyId, oldKey.keyId].sort());
    // Flags: the unused key, and the person who left.
    expect(keys.find((k) => k.target_id === oldKey.keyId).flags).toEqual(['unused_key']);
    expect(keys.find((k) => k.target_id === memberKey.keyId).flags).toEqual([]);
    expect(of('organization_membership', leaver.user.email)[0].flags).toEqual(['left']);
    expect(of('organization_membership', member.user.email)[0].flags).toEqual([]);
    expect(res.body.counts.flagged).toBe(all.filter((i) => i.flags.length > 0).length);
    expect(all.every((i) => i.decision === null && i.outcome === null)).toBe(true);

    const [entry] = await server.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND activity = 'access_review_started' AND item_id = $2",
      [org.id, reviewId],
    );
    expect(entry!.n).toBe(1);
  });

  it('refuses an overlapping review of the same scope, nothing created; another scope is fine', async () => {
    const before = await reviewCount(server, org);
    expectError(await admin.client.post(reviews(org), { name: 'again' }), 409, /already exists/);
    expect(await reviewCount(server, org)).toBe(before);
    const project = await admin.client.post(reviews(org), { name: 'Payments review', project_id: projectId });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    projectReviewId = project.body.id;
    expectError(await admin.client.post(reviews(org), { name: 'again', project_id: projectId }), 409);
    // A project review: who can enter the project (organization-level access is not revocable there), its grants and keys.
    const list = await items(admin.client, org, project.body.id);
    const reach = list.filter((i) => i.kind === 'organization_membership');
    expect(reach.map((i) => i.subject.email).sort()).toEqual([org.owner.user.email, admin.user.email, member.user.email].sort());
    expect(reach.every((i) => i.revocable === false)).toBe(true);
    expect(
      list
        .filter((i) => i.kind === 'personal_api_key')
        .map((i) => i.target_id)
        .sort(),
    ).toEqual([memberKey.keyId, oldKey.keyId].sort());
    expectError(await decide(admin.client, org, project.body.id, reach[0].id, 'revoke'), 400, /review of the organization/, 'decision');
    // Default reviewers of a project review: its admins.
    expect(project.body.reviewers.map((r: any) => r.email)).toContain(admin.user.email);
    expect(project.body.reviewers.map((r: any) => r.email)).not.toContain(member.user.email);
  });

  it('lets reviewers decide, within the ceiling; others are refused', async () => {
    const all = await items(admin.client, org, reviewId);
    const find = (kind: string, email: string, target?: string) =>
      all.find((i) => i.kind === kind && i.subject.email === email && (target === undefined || i.target_id === target));
    const before = JSON.stringify(all);
    expectError(await decide(member.client, org, reviewId, all[0].id, 'keep'), 403, 'You are not a reviewer of this access review.');
    expectError(await member.client.get(`${reviews(org)}${reviewId}/items/`), 403);
    expect((await member.client.get(reviews(org))).body.count).toBe(0);
    expectError(await decide(admin.client, org, reviewId, all[0].id, 'maybe'), 400, undefined, 'decision');
    expectError(await decide(admin.client, org, reviewId, '00000000-0000-4000-8000-000000000000', 'keep'), 404);
    // An admin may not revoke the owner (the grant ceiling).
    expectError(await decide(admin.client, org, reviewId, find('organization_membership', org.owner.user.email).id, 'revoke'), 403);
    expect(JSON.stringify(await items(admin.client, org, reviewId))).toBe(before);

    const revoked = [
      find('personal_api_key', member.user.email, oldKey.keyId),
      find('project_membership', member.user.email),
      find('role_membership', other.user.email),
      find('access_control', other.user.email),
      find('organization_membership', leaver.user.email),
    ];
    for (const item of revoked) {
      const res = await decide(admin.client, org, reviewId, item.id, 'revoke', '=HYPERLINK("http://evil")');
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ decision: 'revoke', decided_by: { email: admin.user.email }, note: '=HYPERLINK("http://evil")' });
    }
    const kept = await decide(org.owner.client, org, reviewId, find('personal_api_key', member.user.email, memberKey.keyId).id, 'keep', 'in use');
    expect(kept.body).toMatchObject({ decision: 'keep', decided_by: { email: org.owner.user.email } });
    const review = await admin.client.get(`${reviews(org)}${reviewId}/`);
    expect(review.body.counts).toMatchObject({ keep: 1, revoke: 5, undecided: all.length - 6 });
  });

  it('refuses to close with undecided items unless forced; nothing changes', async () => {
    expectError(await admin.client.post(`${reviews(org)}${reviewId}/close/`, {}), 400, /no decision/, 'force');
    expectError(await member.client.post(`${reviews(org)}${reviewId}/close/`, { force: true }), 403);
    expect((await oldKey.get(flagsOf(projectId))).status).toBe(200);
    expect((await admin.client.get(`${reviews(org)}${reviewId}/`)).body.status).toBe('open');
  });

  it('closes: applies every revocation (access really gone), keeps the rest, records the chain head', async () => {
    const res = await admin.client.post(`${reviews(org)}${reviewId}/close/`, { force: true });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ revoked: 5, already_gone: 0, review: { status: 'closed', closed_by: { email: admin.user.email } } });
    expect(res.body.review.chain_head).toMatchObject({ chain_seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The revoked key is refused, the kept one works; the member is out of the private project.
    expectError(await oldKey.get(flagsOf(projectId)), 401);
    expect((await memberKey.get(flagsOf(org.defaultProjectId))).status).toBe(200);
    expectError(await member.client.get(flagsOf(projectId)), 403);
    const gone = async (sql: string, id: string) => (await server.db.query(sql, [id])).length === 0;
    expect(await gone('SELECT 1 FROM role_memberships WHERE role_id = $1', roleId)).toBe(true);
    expect(await gone('SELECT 1 FROM organization_memberships WHERE user_id = $1', String(leaver.user.id))).toBe(true);
    const [rows] = await server.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM access_controls WHERE resource = 'dashboard' AND team_id = $1 AND organization_member_id IS NOT NULL",
      [org.defaultProjectId],
    );
    expect(rows!.n).toBe(0);
    const all = await items(admin.client, org, reviewId);
    expect(all.filter((i) => i.outcome === 'revoked')).toHaveLength(5);
    expect(all.filter((i) => i.outcome === 'kept')).toHaveLength(all.length - 5);
    // Each revocation wrote its own entry, plus the review's.
    const activities = (await server.db.query<{ activity: string }>('SELECT activity FROM activity_log WHERE organization_id = $1', [org.id])).map(
      (r) => r.activity,
    );
    for (const a of [
      'api_key_revoked',
      'project_member_removed',
      'role_unassigned',
      'deleted',
      'member_removed',
      'access_review_item_decided',
      'access_review_closed',
    ]) {
      expect(activities, a).toContain(a);
    }
    // Closed: no more decisions, no second close.
    expectError(await decide(admin.client, org, reviewId, all[0].id, 'keep'), 409);
    expectError(await admin.client.post(`${reviews(org)}${reviewId}/close/`, { force: true }), 409);
  });

  it('records a revocation whose grant is already gone as already_gone', async () => {
    // The project review started before the organization review closed: its project membership is gone now.
    const list = await items(admin.client, org, projectReviewId);
    const membership = list.find((i) => i.kind === 'project_membership' && i.subject.email === member.user.email);
    const key = list.find((i) => i.kind === 'personal_api_key' && i.target_id === memberKey.keyId);
    for (const item of [membership, key]) expect((await decide(admin.client, org, projectReviewId, item.id, 'revoke')).status).toBe(200);
    expect((await member.client.delete(`/api/personal_api_keys/${memberKey.keyId}/`)).status).toBe(204);
    const res = await admin.client.post(`${reviews(org)}${projectReviewId}/close/`, { force: true });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ revoked: 0, already_gone: 2 });
    const after = await items(admin.client, org, projectReviewId);
    expect(
      after
        .filter((i) => i.outcome === 'already_gone')
        .map((i) => i.id)
        .sort(),
    ).toEqual([membership.id, key.id].sort());
  });

  it('exports the evidence as JSON and CSV, tied to the activity-log chain', async () => {
    const json = await admin.client.get(`${reviews(org)}${reviewId}/export/?format=json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toMatch(/application\/json/);
    const { review, items: exported } = json.body;
    expect(exported).toHaveLength(review.counts.items);
    const revoked = exported.filter((i: any) => i.decision === 'revoke');
    expect(revoked).toHaveLength(5);
    for (const i of revoked) expect(i).toMatchObject({ decided_by: { email: admin.user.email }, decided_at: expect.any(String), outcome: 'revoked' });
    // The hash is the chain's entry at that position, and the chain verifies.
    const [entry] = await server.db.query<{ hash: string }>('SELECT hash FROM activity_log WHERE organization_id = $1 AND chain_seq = $2', [
      org.id,
      review.chain_head.chain_seq,
    ]);
    expect(entry!.hash).toBe(review.chain_head.hash);
    const verify = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/verify/`);
    expect(verify.body.ok, JSON.stringify(verify.body)).toBe(true);

    const csv = await admin.client.get(`${reviews(org)}${reviewId}/export/?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const text = csv.body as string;
    const lines = text.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^review_id,review_name,/);
    expect(lines).toHaveLength(exported.length + 1);
    expect(text).toContain(review.chain_head.hash);
    // Formula injection: the note is quoted and starts with a single quote.
    expect(text).toContain(`"'=HYPERLINK(""http://evil"")"`);
    expect(text).not.toMatch(/,=HYPERLINK/);
    expectError(await admin.client.get(`${reviews(org)}${reviewId}/export/?format=xml`), 400, undefined, 'format');
  });
});

describe.runIf(storeKind === 'postgres')('access reviews on two nodes', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    a = await startServer();
    b = await startNode(a);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a revocation applied at close on node A is refused on node B at once', async () => {
    const org = await newOrganization(a.url);
    const member = await addMember(org, 1);
    const projectId = await privateProject(org, 'Secret');
    await explicitMember(org, projectId, member);
    const key = await member.client.post('/api/personal_api_keys/', { label: 'two nodes', scopes: ['feature_flag:read'] });
    const keyOnB = new Client(b.url).withKey(key.body.value);
    const sessionOnB = new Client(b.url);
    expect((await sessionOnB.post('/api/login/', { email: member.user.email, password: PASSWORD })).status).toBe(200);
    // Warm node B with the key and the member's project access.
    for (let i = 0; i < 2; i++) {
      expect((await keyOnB.get(flagsOf(org.defaultProjectId))).status).toBe(200);
      expect((await sessionOnB.get(flagsOf(projectId))).status).toBe(200);
    }
    const started = await org.owner.client.post(reviews(org), { name: 'nodes' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const list = await items(org.owner.client, org, started.body.id);
    for (const item of list) {
      const revoke = (item.kind === 'personal_api_key' && item.target_id === key.body.id) || item.kind === 'project_membership';
      expect((await decide(org.owner.client, org, started.body.id, item.id, revoke ? 'revoke' : 'keep')).status).toBe(200);
    }
    const closed = await org.owner.client.post(`${reviews(org)}${started.body.id}/close/`, {});
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    expect(closed.body.revoked).toBe(2);
    expect((await keyOnB.get(flagsOf(org.defaultProjectId))).status).toBe(401);
    expect((await sessionOnB.get(flagsOf(projectId))).status).toBe(403);
  });
});
