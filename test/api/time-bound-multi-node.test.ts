import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { startNode, startServer, storeKind, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, PASSWORD } from '../helpers/world.js';

/**
 * Time-bound grants on two nodes (docs/time-bound-access.md): node B, its cache warm with the
 * member's access, refuses right after the expiry. No change happens at expiry (no sweep runs in
 * these seconds: its first run is a minute after start), so no invalidation reaches B: its cached
 * facts end on their own at the earliest expiry they were built from.
 */
describe.runIf(storeKind === 'postgres')('time-bound grants on two nodes', () => {
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

  const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
  const until = (iso: string) => new Promise((r) => setTimeout(r, Math.max(0, new Date(iso).getTime() - Date.now() + 100)));
  async function loginOn(node: TestServer, email: string): Promise<Client> {
    const client = new Client(node.url);
    expect((await client.post('/api/login/', { email, password: PASSWORD })).status).toBe(200);
    return client;
  }

  it('node B, warmed, refuses an expired explicit membership and access-control row without any sweep', async () => {
    const org = await newOrganization(a.url);
    const viaMembership = await addMember(org, 1);
    const viaRow = await addMember(org, 1);
    const project = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Private', access_control: true });
    const projectId: number = project.body.id;
    const expiresAt = soon(3_000);
    const added = await org.owner.client.post(`/api/projects/${projectId}/explicit_members/`, { user_uuid: viaMembership.user.uuid, expires_at: expiresAt });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const memberId = (await org.owner.client.get(`/api/organizations/${org.id}/members/`)).body.results.find(
      (m: { user: { uuid: string } }) => m.user.uuid === viaRow.user.uuid,
    ).id;
    const rule = await org.owner.client.put(`/api/projects/${projectId}/access_controls/`, {
      access_level: 'member',
      organization_member: memberId,
      expires_at: expiresAt,
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);

    const clients = [await loginOn(b, viaMembership.user.email), await loginOn(b, viaRow.user.email)];
    const flags = `/api/projects/${projectId}/feature_flags/`;
    for (const client of clients) for (let i = 0; i < 3; i++) expect((await client.get(flags)).status).toBe(200);

    await until(expiresAt);
    for (const client of clients) expect((await client.get(flags)).status).toBe(403);
    const [stored] = await a.db.query<{ n: number }>('SELECT count(*)::int AS n FROM explicit_project_memberships_stored WHERE project_id = $1', [projectId]);
    expect(stored!.n).toBe(1); // not swept: the refusal came from the expiry itself
  });

  it('node B, warmed, applies the fall-back of an expired organization level raise without any sweep', async () => {
    const org = await newOrganization(a.url);
    const member = await addMember(org, 1);
    const expiresAt = soon(3_000);
    const raised = await org.owner.client.patch(`/api/organizations/${org.id}/members/${member.user.uuid}/`, { level: 8, expires_at: expiresAt });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    const onB = await loginOn(b, member.user.email);
    // An admin-only read, answered from B's cached membership once warm.
    const inventory = () => onB.get(`/api/organizations/${org.id}/personal_api_keys/`);
    for (let i = 0; i < 3; i++) expect((await inventory()).status).toBe(200);
    await until(expiresAt);
    expect((await inventory()).status).toBe(403);
  });
});
