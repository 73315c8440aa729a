/**
 * The embedded database is single-process (issue 19): every command that opens a data directory
 * holds its lock, a second opener is refused in one line naming the holder, a second `serve` leaves
 * the first one's pid file alone, and a lock left by a killed process is taken over. And `warden
 * backup` killed while writing leaves the previous backup as it was.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, serve, warden, type RunningServer } from '../helpers/cli.js';
import { storeKind } from '../helpers/server.js';
import { PASSWORD } from '../helpers/world.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-lock-'));
/** This process's start time as the kernel counts it (/proc/self/stat, field 22). */
const startTime = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};
const embedded = { DATABASE_URL: '' };
let running: RunningServer | undefined;
afterAll(async () => {
  await running?.stop('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe.runIf(storeKind === 'pglite')('one process per embedded data directory', () => {
  it('refuses every second opener while serve runs, keeps its pid file, and takes over a stale lock', { timeout: 120_000 }, async () => {
    const data = join(dir, 'data');
    const boot = await warden(['bootstrap', '--email', 'l@example.com', '--password', PASSWORD, '--organization', 'L', '--data-dir', data], embedded);
    expect(boot.code, boot.stderr).toBe(0);
    running = await serve(['--data-dir', data], embedded);
    const pid = running.process.pid!;
    expect(readFileSync(join(data, 'warden.pid'), 'utf8')).toBe(String(pid));

    const holder = new RegExp(`is in use by warden serve \\(pid ${pid}, since [^)]+\\); the embedded database is single-process`);
    for (const args of [
      ['serve', '--port', '0'],
      ['migrate'],
      ['bootstrap', '--email', 'x@example.com', '--password', PASSWORD, '--organization', 'X'],
      ['domains', 'verify', '--domain', 'example.com'],
      ['backup', '--out', join(dir, 'b.tar.gz')],
      ['audit', 'verify'],
    ]) {
      const second = await warden([...args, '--data-dir', data], embedded);
      expect(second.code, `${args[0]}: ${second.stdout}${second.stderr}`).toBe(1);
      expect(second.stderr.trim().split('\n'), args[0]).toHaveLength(1);
      expect(second.stderr, args[0]).toMatch(holder);
    }
    // A read-only question names the API route that answers it through the running server.
    const audit = await warden(['audit', 'verify', '--data-dir', data], embedded);
    expect(audit.stderr).toContain('GET /api/organizations/:id/activity_log/verify/');
    expect(readFileSync(join(data, 'warden.pid'), 'utf8')).toBe(String(pid));
    expect((await fetch(`${running.url}/_health`)).status).toBe(200);

    // kill -9 leaves the lock behind; the next opener sees its process is gone and takes over.
    await running.stop('SIGKILL');
    running = undefined;
    expect(JSON.parse(readFileSync(join(data, 'warden.lock'), 'utf8'))).toMatchObject({ pid, command: 'warden serve' });
    const after = await warden(['audit', 'verify', '--data-dir', data], embedded);
    expect(after.code, after.stdout + after.stderr).toBe(0);

    // A pid that is alive but belongs to a process started at another time is stale too.
    writeFileSync(join(data, 'warden.lock'), JSON.stringify({ pid: process.pid, started: `${startTime()}0`, command: 'warden serve', since: 'then' }));
    const reused = await warden(['migrate', '--data-dir', data], embedded);
    expect(reused.code, reused.stdout + reused.stderr).toBe(0);
    expect(readdirSync(data).filter((f) => f.startsWith('warden.lock'))).toEqual([]);
  });

  it('keeps the previous backup whole when warden backup is killed while writing', { timeout: 120_000 }, async () => {
    const data = join(dir, 'backed-up');
    const boot = await warden(['bootstrap', '--email', 'k@example.com', '--password', PASSWORD, '--organization', 'K', '--data-dir', data], embedded);
    expect(boot.code, boot.stderr).toBe(0);
    const out = join(dir, 'backups');
    mkdirSync(out);
    const archive = join(out, 'warden.tar.gz');
    const first = await warden(['backup', '--out', archive, '--data-dir', data], embedded);
    expect(first.code, first.stderr).toBe(0);
    const good = readFileSync(archive);

    // The second backup is killed (SIGKILL, by a preloaded hook) halfway through its first write
    // into the backup directory: the moment a crash or an operator's kill can hit.
    const hook = pathToFileURL(resolve(REPO, 'test/fixtures/kill-on-write.mjs')).href;
    const killed = await warden(['backup', '--out', archive, '--data-dir', data], {
      ...embedded,
      NODE_OPTIONS: `--import=${hook}`,
      WARDEN_TEST_KILL_WRITING_IN: out,
    });
    expect(killed.code, killed.stderr).toBeNull();
    expect(readFileSync(archive).equals(good)).toBe(true);

    // The next backup replaces it; what the killed one left is its own temporary file, nothing else.
    const next = await warden(['backup', '--out', archive, '--data-dir', data, '--json'], embedded);
    expect(next.code, next.stderr).toBe(0);
    expect(readFileSync(archive).equals(good)).toBe(false);
    expect(readdirSync(out).filter((f) => f !== 'warden.tar.gz')).toEqual(readdirSync(out).filter((f) => /^\.warden\.tar\.gz\.\d+\.[0-9a-f]+\.tmp$/.test(f)));
  });
});
