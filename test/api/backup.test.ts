/** `warden backup` / `warden restore` of the embedded database, and `warden migrate`'s output, as processes. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run, serve, warden } from '../helpers/cli.js';
import { Client } from '../helpers/client.js';
import { freshPostgresDatabase, storeKind } from '../helpers/server.js';
import { PASSWORD } from '../helpers/world.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const embedded = { DATABASE_URL: '' };

describe.runIf(storeKind === 'pglite')('backup and restore of the embedded database', () => {
  it('restores exactly what was backed up, refuses while a server runs, and keeps a replaced database aside', async () => {
    const data = join(dir, 'data');
    const boot = await warden(['bootstrap', '--email', 'b@example.com', '--password', PASSWORD, '--organization', 'B', '--json', '--data-dir', data], embedded);
    expect(boot.code, boot.stderr).toBe(0);
    const { personal_api_key: key, project } = JSON.parse(boot.stdout);

    let server = await serve(['--data-dir', data], embedded);
    const before = await new Client(server.url).withKey(key).post(`/api/projects/${project.id}/feature_flags/`, { key: 'kept' });
    expect(before.status).toBe(201);
    const archive = join(dir, 'warden.tar.gz');
    const busy = await warden(['backup', '--out', archive, '--data-dir', data], embedded);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/is in use by warden serve \(pid \d+, since/);
    expect(await server.stop()).toBe(0);

    const backup = await warden(['backup', '--out', archive, '--data-dir', data, '--json'], embedded);
    expect(backup.code, backup.stderr).toBe(0);
    const summary = JSON.parse(backup.stdout);
    expect(summary).toMatchObject({ file: archive, organizations: 1, users: 1 });
    expect(summary.activity_entries).toBeGreaterThan(3);
    expect(statSync(archive).mode & 0o777).toBe(0o600);

    // A change after the backup...
    server = await serve(['--data-dir', data], embedded);
    expect((await new Client(server.url).withKey(key).post(`/api/projects/${project.id}/feature_flags/`, { key: 'lost' })).status).toBe(201);
    expect(await server.stop()).toBe(0);

    // ...is gone after restoring over it; the replaced database is kept aside.
    const refused = await warden(['restore', '--from', archive, '--data-dir', data], embedded);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('add --replace');
    const restore = await warden(['restore', '--from', archive, '--data-dir', data, '--replace'], embedded);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/Restored 1 organizations, 1 users, \d+ activity entries/);
    expect(restore.stdout).toMatch(/kept in .*pgdata\.before-restore-/);

    server = await serve(['--data-dir', data], embedded);
    const flags = await new Client(server.url).withKey(key).get(`/api/projects/${project.id}/feature_flags/`);
    expect(flags.body.results.map((f: { key: string }) => f.key)).toEqual(['kept']);
    expect(await server.stop()).toBe(0);
    const audit = await warden(['audit', 'verify', '--data-dir', data], embedded);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);

    // Into a fresh directory too; garbage is refused and leaves nothing behind.
    const fresh = await warden(['restore', '--from', archive, '--data-dir', join(dir, 'fresh')], embedded);
    expect(fresh.code, fresh.stderr).toBe(0);
    const garbage = await warden(['restore', '--from', join(import.meta.dirname, 'backup.test.ts'), '--data-dir', join(dir, 'garbage')], embedded);
    expect(garbage.code).toBe(1);
    expect(garbage.stderr).toContain('is not a Warden backup');
  }, 240_000);
});

describe('warden migrate', () => {
  it('shows each migration as it runs, or one JSON line with --json', async () => {
    const data = join(dir, 'migrate');
    const first = await warden(['migrate', '--data-dir', data, '--json'], embedded);
    expect(first.code, first.stderr).toBe(0);
    const { applied } = JSON.parse(first.stdout);
    expect(applied[0]).toBe('0001_core');
    expect(applied.length).toBeGreaterThan(7);
    const again = await warden(['migrate', '--data-dir', data], embedded);
    expect(again.stdout.trim()).toBe('Database is up to date.');
    const fresh = await warden(['migrate', '--data-dir', join(dir, 'migrate2')], embedded);
    expect(fresh.stdout).toMatch(/^Applying 0001_core \.\.\. done$/m);
  }, 120_000);

  it('backup on Postgres points to pg_dump', async () => {
    const res = await warden(['backup', '--out', join(dir, 'x'), '--database-url', 'postgres://localhost/none'], {});
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('pg_dump');
  });
});

describe.runIf(storeKind === 'postgres')('backup and restore on Postgres, as docs/deployment.md says', () => {
  it('pg_dump, pg_restore into a new database, and the restored chains verify', async () => {
    const source = await freshPostgresDatabase(process.env.DATABASE_URL!);
    const target = await freshPostgresDatabase(process.env.DATABASE_URL!);
    try {
      const boot = await warden(['bootstrap', '--email', 'pg@example.com', '--password', PASSWORD, '--organization', 'PG', '--json'], {
        DATABASE_URL: source.url,
      });
      expect(boot.code, boot.stderr).toBe(0);
      const file = join(dir, 'warden.dump');
      const dump = await run('pg_dump', ['--format=custom', '--file', file, source.url]);
      expect(dump.code, dump.stderr).toBe(0);
      const restore = await run('pg_restore', ['--no-owner', '--dbname', target.url, file]);
      expect(restore.code, restore.stderr).toBe(0);
      const audit = await warden(['audit', 'verify'], { DATABASE_URL: target.url });
      expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toContain(JSON.parse(boot.stdout).organization.id);
    } finally {
      await source.drop();
      await target.drop();
    }
  }, 120_000);
});
