import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshInstance, warden } from '../helpers/cli.js';
import { eventually } from '../helpers/https-receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org } from '../helpers/world.js';
import { openStore } from '../../src/store/open.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const verifyUrl = (org: Org) => `/api/organizations/${org.id}/activity_log/verify/`;

/** A realistic little history: flags created and changed, a member invited and joined. */
async function someChanges(org: Org): Promise<void> {
  const project = org.defaultProjectId;
  for (const key of ['alpha', 'beta', 'gamma']) {
    const res = await org.owner.client.post(`/api/projects/${project}/feature_flags/`, { key, name: key });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  const flags = await org.owner.client.get(`/api/projects/${project}/feature_flags/`);
  const beta = flags.body.results.find((f: any) => f.key === 'beta');
  expect((await org.owner.client.patch(`/api/projects/${project}/feature_flags/${beta.id}/`, { name: 'Beta!' })).status).toBe(200);
  await addMember(org, 1);
}

async function orgRows(org: Org): Promise<number> {
  const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1', [org.id]);
  return row!.n;
}

async function verified(org: Org) {
  const res = await org.owner.client.get(verifyUrl(org));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The id at a chain position (after verify has chained everything). */
async function idAt(org: Org, chainSeq: number): Promise<string> {
  const [row] = await server.db.query<{ id: string }>('SELECT id::text AS id FROM activity_log WHERE organization_id = $1 AND chain_seq = $2', [
    org.id,
    chainSeq,
  ]);
  return row!.id;
}

describe('activity log hash chain', () => {
  it('chains every entry after its write and verifies a clean history', async () => {
    const org = await newOrganization(server.url, 'Chain Co');
    const before = await verified(org);
    expect(before).toMatchObject({ organization_id: org.id, ok: true, problems: [] });
    await someChanges(org);
    // Chained in the background after each write, without anyone asking.
    await eventually('every entry chained', async () => {
      const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND hash IS NULL', [org.id]);
      return row!.n === 0;
    });
    const after = await verified(org);
    expect(after).toEqual({ organization_id: org.id, ok: true, entries: await orgRows(org), problems: [] });
    expect(after.entries).toBeGreaterThanOrEqual(before.entries + 5);
    const chain = await server.db.query<{ chain_seq: string; prev_hash: string; hash: string }>(
      'SELECT chain_seq::text AS chain_seq, prev_hash, hash FROM activity_log WHERE organization_id = $1 ORDER BY chain_seq',
      [org.id],
    );
    expect(chain.map((r) => Number(r.chain_seq))).toEqual(chain.map((_, i) => i + 1));
    expect(chain[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.prev_hash).toBe(chain[i - 1]!.hash);
  });

  it('reports an edited entry as modified at its position', async () => {
    const org = await newOrganization(server.url);
    await someChanges(org);
    const clean = await verified(org);
    expect(clean.ok).toBe(true);
    const id = await idAt(org, 3);
    await server.db.query(`UPDATE activity_log SET detail = jsonb_set(detail, '{name}', '"forged"') WHERE id = $1`, [id]);
    const report = await verified(org);
    expect(report).toEqual({ organization_id: org.id, ok: false, entries: clean.entries, problems: [{ kind: 'modified', chain_seq: 3, id }] });
  });

  it('reports an edited entry whose hash was recomputed as modified', async () => {
    const org = await newOrganization(server.url);
    await someChanges(org);
    const clean = await verified(org);
    const id = await idAt(org, 2);
    await server.db.query(`UPDATE activity_log SET item_id = 'other', hash = repeat('a', 64) WHERE id = $1`, [id]);
    const report = await verified(org);
    expect(report.ok).toBe(false);
    expect(report.problems).toContainEqual({ kind: 'modified', chain_seq: 2, id });
    expect(report.entries).toBe(clean.entries);
  });

  it('reports a deleted entry as missing', async () => {
    const org = await newOrganization(server.url);
    await someChanges(org);
    const clean = await verified(org);
    await server.db.query('DELETE FROM activity_log WHERE id = $1', [await idAt(org, 4)]);
    const report = await verified(org);
    expect(report).toEqual({
      organization_id: org.id,
      ok: false,
      entries: clean.entries - 1,
      problems: [{ kind: 'missing', chain_seq: 4, id: null, count: 1 }],
    });
    // Deleting the newest entry is caught against the chain head.
    await server.db.query('DELETE FROM activity_log WHERE id = $1', [await idAt(org, clean.entries)]);
    expect((await verified(org)).problems).toEqual([
      { kind: 'missing', chain_seq: 4, id: null, count: 1 },
      { kind: 'missing', chain_seq: clean.entries, id: null, count: 1 },
    ]);
  });

  it('reports two swapped entries as reordered', async () => {
    const org = await newOrganization(server.url);
    await someChanges(org);
    const clean = await verified(org);
    const [a, b] = [await idAt(org, 2), await idAt(org, 3)];
    await server.db.query(`UPDATE activity_log SET chain_seq = -chain_seq WHERE id IN ($1, $2)`, [a, b]);
    await server.db.query(`UPDATE activity_log SET chain_seq = CASE WHEN id = $1 THEN 3 ELSE 2 END WHERE id IN ($1, $2)`, [a, b]);
    const report = await verified(org);
    expect(report).toEqual({
      organization_id: org.id,
      ok: false,
      entries: clean.entries,
      // Every broken link is reported: the two swapped entries and the entry after them.
      problems: [
        { kind: 'reordered', chain_seq: 2, id: b },
        { kind: 'reordered', chain_seq: 3, id: a },
        { kind: 'reordered', chain_seq: 4, id: await idAt(org, 4) },
      ],
    });
    // Other organizations' chains are untouched.
    const other = await newOrganization(server.url);
    expect((await verified(other)).ok).toBe(true);
  });

  it('is for organization admins only', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const admin = await addMember(org, 8);
    expectError(await member.client.get(verifyUrl(org)), 403, 'Your organization access level is insufficient.');
    const res = await admin.client.get(verifyUrl(org));
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    const outsider = await newOrganization(server.url);
    expect((await outsider.owner.client.get(verifyUrl(org))).status).toBeGreaterThanOrEqual(403);
  });
});

describe('warden audit verify', () => {
  it('exits 0 on an intact log and 1 with the problem after tampering', async () => {
    const instance = await freshInstance();
    try {
      const boot = await warden(
        ['bootstrap', '--email', 'audit@example.com', '--password', 'correct horse battery staple', '--organization', 'Audit', '--json', ...instance.args],
        instance.env,
      );
      expect(boot.code, boot.stderr).toBe(0);
      const orgId = JSON.parse(boot.stdout).organization.id as string;
      const ok = await warden(['audit', 'verify', ...instance.args], instance.env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(new RegExp(`^${orgId} ok: [1-9]\\d* entries$`, 'm'));

      // Tamper through a second connection (closed again: PGlite is single-process).
      const dataDir = instance.args[0] === '--data-dir' ? instance.args[1]! : null;
      const db = await openStore({ databaseUrl: instance.env.DATABASE_URL || undefined, dataDir });
      const [row] = await db.query<{ id: string }>(`SELECT id::text AS id FROM activity_log WHERE organization_id = $1 AND chain_seq = 1`, [orgId]);
      await db.query(`UPDATE activity_log SET detail = jsonb_set(detail, '{name}', '"forged"') WHERE id = $1`, [row!.id]);
      await db.close();

      const bad = await warden(['audit', 'verify', '--organization', orgId, ...instance.args], instance.env);
      expect(bad.code, bad.stderr).toBe(1);
      expect(bad.stdout).toContain(`${orgId} FAILED:`);
      expect(bad.stdout).toContain(`modified at 1 (${row!.id})`);
    } finally {
      await instance.cleanup();
    }
  }, 60_000);
});
