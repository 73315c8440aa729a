import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './cli.js';

/**
 * A throwaway Postgres cluster of its own (initdb into a temporary directory, its own port, run as
 * the machine's `postgres` user), for tests that kill, restart and freeze the database: the shared
 * server is never touched. Always stopped: by `destroy()` (afterAll) and, should the test process
 * end first, by an exit handler.
 */
export interface PgCluster {
  url: string;
  port: number;
  /** Runs SQL as the superuser on a connection of its own. */
  sql<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  /** pg_ctl stop -m fast|immediate (immediate = a crash: no shutdown checkpoint). */
  stop(mode: 'fast' | 'immediate'): void;
  start(): void;
  /** Every process of the server (postmaster and its children) stopped with SIGSTOP / resumed with SIGCONT. */
  freeze(): void;
  thaw(): void;
  destroy(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin/initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest)
    throw new Error('These tests start a Postgres cluster of their own: install the Postgres server (initdb under /usr/lib/postgresql/<version>/bin).');
  return join(root, newest, 'bin');
}

const live = new Set<PgCluster>();
let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const stopAll = () => {
    for (const cluster of live) cluster.destroy();
  };
  process.once('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopAll();
      process.exit(130);
    });
  }
}

export async function startCluster(): Promise<PgCluster> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'warden-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe', timeout: 60_000 });
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50 -c shared_buffers=16MB`;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let destroyed = false;
  const cluster: PgCluster = {
    url,
    port,
    async sql(text, params) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return (await client.query(text, params)).rows;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    stop(mode) {
      cluster.thaw();
      asPostgres('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    },
    start() {
      asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start']);
    },
    freeze() {
      for (const pid of serverPids(data)) signal(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of serverPids(data)) signal(pid, 'SIGCONT');
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(cluster);
      for (const pid of serverPids(data)) signal(pid, 'SIGCONT');
      spawnSync('runuser', ['-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore', timeout: 30_000 });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(cluster);
  hookExit();
  cluster.start();
  return cluster;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/** The postmaster (from postmaster.pid) and every process whose parent it is. */
function serverPids(data: string): number[] {
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return [];
  }
  const children = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}
