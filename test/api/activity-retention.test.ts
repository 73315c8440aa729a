import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportLine } from '../../src/cli/audit.js';
import { verifyChain } from '../../src/domain/activity/activity-chain.js';
import { readAuditKey } from '../../src/domain/activity/activity-signing.js';
import { eventually } from '../helpers/https-receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org } from '../helpers/world.js';

let server: TestServer;
let dir: string;
let keyFile: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-retention-'));
  keyFile = join(dir, 'keys', 'audit-signing-key.pem');
  server = await startServer({ auditKeyFile: keyFile, retentionIntervalMs: 50 });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const orgUrl = (org: Org) => `/api/organizations/${org.id}/`;

async function unchainedCount(org: Org): Promise<number> {
  const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND hash IS NULL', [org.id]);
  return row!.n;
}

async function verified(org: Org) {
  const res = await org.owner.client.get(`${orgUrl(org)}activity_log/verify/`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/**
 * An organization with a history whose first `old` entries are 40 days old: written now, then
 * backdated and the chain rebuilt over the backdated rows (created_at is hashed).
 */
async function orgWithOldHistory(old: number): Promise<Org> {
  const org = await newOrganization(server.url);
  for (const key of ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']) {
    expect((await org.owner.client.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key })).status).toBe(201);
  }
  await eventually('chaining', async () => (await unchainedCount(org)) === 0);
  await server.db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [org.id]);
    await tx.query(
      `UPDATE activity_log SET created_at = now() - interval '40 days' - (interval '1 minute' * (100 - chain_seq))
       WHERE organization_id = $1 AND chain_seq <= $2`,
      [org.id, old],
    );
    await tx.query('UPDATE activity_log SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE organization_id = $1', [org.id]);
    await tx.query('DELETE FROM activity_chain_heads WHERE organization_id = $1', [org.id]);
  });
  expect(await verified(org)).toMatchObject({ ok: true, problems: [] });
  return org;
}

async function remaining(org: Org) {
  return server.db.query<{ chain_seq: number; activity: string }>(
    'SELECT chain_seq::int AS chain_seq, activity FROM activity_log WHERE organization_id = $1 ORDER BY seq',
    [org.id],
  );
}

async function setRetention(org: Org, days: number | null) {
  const res = await org.owner.client.patch(orgUrl(org), { activity_log_retention_days: days });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.activity_log_retention_days).toBe(days);
}

async function pruned(org: Org, upTo: number) {
  await eventually('pruning', async () => {
    const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND chain_seq <= $2', [
      org.id,
      upTo,
    ]);
    return row!.n === 0;
  });
}

describe('activity log retention', () => {
  it('prunes entries older than the retention under a signed checkpoint, records it, and verifies ok', async () => {
    const org = await orgWithOldHistory(5);
    const before = await remaining(org);
    expect(readAuditKey(keyFile)).toBeNull();
    await setRetention(org, 30);
    await pruned(org, 5);

    const after = await remaining(org);
    expect(after.filter((r) => r.chain_seq !== null && r.chain_seq <= before.length).map((r) => r.chain_seq)).toEqual(before.slice(5).map((r) => r.chain_seq));
    const [checkpoint] = await server.db.query<{ up_to_chain_seq: number; hash_at: string; signature: string | null }>(
      'SELECT up_to_chain_seq::int AS up_to_chain_seq, hash_at, signature FROM activity_chain_checkpoints WHERE organization_id = $1',
      [org.id],
    );
    expect(checkpoint).toMatchObject({ up_to_chain_seq: 5 });
    expect(checkpoint!.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);

    const log = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/?scope=Organization`);
    const entry = log.body.results.find((e: any) => e.activity === 'activity_log_pruned');
    expect(entry).toMatchObject({ is_system: true, user: null, scope: 'Organization', item_id: org.id });
    expect(entry.detail.context).toMatchObject({ count: 5, retention_days: 30, from_chain_seq: 1, up_to_chain_seq: 5, checkpoint_hash: checkpoint!.hash_at });
    const setting = log.body.results.find((e: any) => e.activity === 'updated');
    expect(setting.detail.changes).toEqual([{ type: 'Organization', action: 'changed', field: 'activity_log_retention_days', before: null, after: 30 }]);

    const report = await verified(org);
    expect(report).toMatchObject({ ok: true, problems: [], pruned: { up_to_chain_seq: 5, hash_at: checkpoint!.hash_at } });
    expect(report.entries).toBe((await remaining(org)).length);
    const line = reportLine(await verifyChain(server.db, org.id, { auditKey: readAuditKey(keyFile) }));
    expect(line).toMatch(new RegExp(`^${org.id} ok: \\d+ entries, pruned up to 5 \\(signed checkpoint of `));
    // Nothing newer is pruned on later passes.
    await new Promise((r) => setTimeout(r, 150));
    expect((await remaining(org)).length).toBe(after.length);
  });

  it('still reports a row deleted after the checkpoint as missing, and a tampered or unsigned checkpoint', async () => {
    const org = await orgWithOldHistory(3);
    await setRetention(org, 30);
    await pruned(org, 3);
    await server.db.query('DELETE FROM activity_log WHERE organization_id = $1 AND chain_seq = 6', [org.id]);
    const gap = await verified(org);
    expect(gap).toMatchObject({ ok: false, pruned: { up_to_chain_seq: 3 }, problems: [{ kind: 'missing', chain_seq: 6, count: 1 }] });

    // A forged checkpoint (its hash changed) is rejected, and the gap it claimed to cover shows again.
    await server.db.query(`UPDATE activity_chain_checkpoints SET hash_at = repeat('a', 64) WHERE organization_id = $1`, [org.id]);
    const forged = await verified(org);
    expect(forged.ok).toBe(false);
    expect(forged.pruned).toBeUndefined();
    expect(forged.problems).toEqual(
      expect.arrayContaining([
        { kind: 'missing', chain_seq: 1, id: null, count: 3 },
        { kind: 'checkpoint', chain_seq: 3, id: null, reason: 'bad_signature' },
        { kind: 'missing', chain_seq: 6, id: null, count: 1 },
      ]),
    );
    expect(reportLine(await verifyChain(server.db, org.id, { auditKey: readAuditKey(keyFile) }))).toContain('checkpoint at 3 rejected (bad_signature)');

    // Hiding deletions behind an unsigned checkpoint does not work either.
    await server.db.query('DELETE FROM activity_chain_checkpoints WHERE organization_id = $1', [org.id]);
    const [row] = await server.db.query<{ hash: string }>('SELECT hash FROM activity_log WHERE organization_id = $1 AND chain_seq = 7', [org.id]);
    await server.db.query('DELETE FROM activity_log WHERE organization_id = $1 AND chain_seq <= 7', [org.id]);
    await server.db.query('INSERT INTO activity_chain_checkpoints (organization_id, up_to_chain_seq, hash_at) VALUES ($1, 7, $2)', [org.id, row!.hash]);
    const unsigned = await verified(org);
    expect(unsigned.ok).toBe(false);
    expect(unsigned.problems).toEqual(
      expect.arrayContaining([
        { kind: 'missing', chain_seq: 1, id: null, count: 7 },
        { kind: 'checkpoint', chain_seq: 7, id: null, reason: 'unsigned' },
      ]),
    );
    // Without the key, a checkpoint cannot be trusted.
    const noKey = await verifyChain(server.db, org.id);
    expect(noKey.ok).toBe(false);
  });

  it('keeps everything without a retention, validates the setting and lets only admins change it', async () => {
    const org = await orgWithOldHistory(4);
    const count = (await remaining(org)).length;
    await new Promise((r) => setTimeout(r, 150));
    expect((await remaining(org)).length).toBe(count);
    const c = org.owner.client;
    expect((await c.get(orgUrl(org))).body).toMatchObject({ activity_log_retention_days: null, log_sensitive_reads: false });
    expectError(await c.patch(orgUrl(org), { activity_log_retention_days: 0 }), 400, undefined, 'activity_log_retention_days');
    expectError(await c.patch(orgUrl(org), { activity_log_retention_days: 36501 }), 400, undefined, 'activity_log_retention_days');
    expectError(await c.patch(orgUrl(org), { activity_log_retention_days: 'soon' }), 400);
    const member = await addMember(org, 1);
    expectError(await member.client.patch(orgUrl(org), { activity_log_retention_days: 1 }), 403);
    expect((await remaining(org)).length).toBeGreaterThanOrEqual(count);
    expect((await c.get(orgUrl(org))).body.activity_log_retention_days).toBeNull();
  });
});
