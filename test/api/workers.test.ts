/**
 * `warden serve --workers N` as a real process: on Postgres, N workers share the port, each a full
 * node (its own access cache and LISTEN connection); a change made through one is refused through
 * every other; a worker that dies is replaced; SIGTERM to the primary stops them all. The embedded
 * database is one process: more workers are refused before anything is opened.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/https-receiver.js';
import { freshInstance, serve, warden } from '../helpers/cli.js';
import { storeKind } from '../helpers/server.js';

/** One request on a new connection (the primary hands each connection to the next worker in turn). */
function call(url: string, method = 'GET', headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('warden serve --workers on the embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-workers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses more than one worker with a message, opening nothing', async () => {
    const dataDir = join(dir, 'data');
    for (const [args, env] of [
      [['--workers', '2'], {}],
      [[], { WARDEN_WORKERS: '3' }],
    ] as const) {
      const res = await warden(['serve', '--port', '0', '--data-dir', dataDir, ...args], { DATABASE_URL: '', ...env });
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/^warden serve: --workers \d needs Postgres \(DATABASE_URL\): the embedded database is one process/);
    }
    expect(existsSync(dataDir)).toBe(false);
    const bad = await warden(['config', 'print', '--workers', 'many'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('WARDEN_WORKERS must be auto or a whole number');
    // auto is one process on the embedded database.
    const auto = await warden(['config', 'print', '--json', '--workers', 'auto', '--data-dir', dataDir], { DATABASE_URL: '' });
    expect(JSON.parse(auto.stdout)).toMatchObject({ workers: 1 });
  });
});

describe.runIf(storeKind === 'postgres')('warden serve --workers 2 on Postgres', () => {
  it('both workers answer, a revocation on one is refused on all, a killed worker is replaced, SIGTERM stops all', async () => {
    const instance = await freshInstance();
    const started = await warden(
      ['bootstrap', '--email', 'owner@example.com', '--password', 'a long enough password', '--organization', 'W', '--json'],
      instance.env,
    );
    expect(started.code, started.stderr).toBe(0);
    const { personal_api_key: star, project } = JSON.parse(started.stdout) as { personal_api_key: string; project: { id: number } };
    const token = 'a-metrics-token-for-workers';
    const server = await serve(['--workers', '2', '--log-level', 'info'], { ...instance.env, WARDEN_METRICS_TOKEN: token });
    const pids = new Set<number>();
    try {
      const health = async () => (JSON.parse((await call(`${server.url}/_health`)).body) as { worker: { slot: number; pid: number } }).worker;
      await eventually(
        'both workers answer',
        async () => {
          pids.add((await health()).pid);
          return pids.size === 2;
        },
        30_000,
      );
      expect(server.output()).toMatch(/"msg":"Warden listening on http:\/\/127\.0\.0\.1:\d+ \(Postgres, 2 workers\)"/);
      const [first] = [...pids];

      // /metrics, whichever worker gets the scrape, is every worker's counts merged by the primary.
      const healthCount = async () => {
        const text = (await call(`${server.url}/metrics`, 'GET', { authorization: `Bearer ${token}` })).body;
        const line = text.split('\n').find((l) => l.startsWith('warden_http_requests_total{') && l.includes('route="/_health"') && l.includes('status="200"'));
        expect(line, text.slice(0, 2000)).toBeDefined();
        expect(line).toContain('service="warden"');
        return Number(line!.split(' ').at(-1));
      };
      const scrapes = [await healthCount(), await healthCount()];
      expect(scrapes[0]).toBe(scrapes[1]);
      expect(scrapes[0]).toBeGreaterThanOrEqual(pids.size + 1);
      for (let i = 0; i < 4; i++) await health();
      expect(await healthCount()).toBe(scrapes[0]! + 4);

      // A key each worker has served (and cached), revoked through one of them.
      const auth = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
      const created = await call(
        `${server.url}/api/personal_api_keys/`,
        'POST',
        auth(star),
        JSON.stringify({ label: 'workers', scopes: ['feature_flag:read'] }),
      );
      expect(created.status).toBe(201);
      const key = JSON.parse(created.body) as { id: string; value: string };
      const flags = async () => (await call(`${server.url}/api/projects/${project.id}/feature_flags/`, 'GET', auth(key.value))).status;
      for (let i = 0; i < 6; i++) expect(await flags()).toBe(200);
      expect((await call(`${server.url}/api/personal_api_keys/${key.id}/`, 'DELETE', { authorization: `Bearer ${star}` })).status).toBe(204);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push(await flags());
      expect(statuses).toEqual([401, 401, 401, 401, 401, 401]);

      // A worker killed outright is replaced; the port keeps answering meanwhile.
      process.kill(first!, 'SIGKILL');
      await eventually(
        'a new worker answers',
        async () => {
          const { pid } = await health().catch(() => ({ pid: 0 }));
          if (pid > 0) pids.add(pid);
          return pids.size === 3;
        },
        30_000,
      );
      expect(server.output()).toMatch(/"msg":"worker \d \(pid \d+\) exited with signal SIGKILL; restarting it in \d+ ms"/);
      expect(await flags()).toBe(401);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
      await instance.cleanup();
    }
    for (const pid of pids) expect(alive(pid), `worker ${pid} still running`).toBe(false);
    expect(server.output()).toContain('SIGTERM: stopping 2 workers');
  }, 120_000);
});
