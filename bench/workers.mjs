// `warden serve --workers N` on Postgres (issue 22): throughput of benchmark 1's flag route
// (feature_flag:read key, 50 connections) for N = 1, 2, 4, 8 workers, each a real `warden serve`
// process on its own fresh database, loaded in alternating rounds; the ratio throughput(N) /
// throughput(1). Only the N the machine's cores allow are run (N <= cores): the load generator
// runs on the same machine, unpinned, and takes a share of the cores itself. Needs DATABASE_URL.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { alternate, createBenchData } from './authorized-requests.mjs';
import { createPostgresDatabase } from './databases.mjs';
import { CHILD_ENV, freePort, WARDEN } from './processes.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

function run(args, env) {
  const child = spawn(process.execPath, [WARDEN, ...args], { env: { ...CHILD_ENV, ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function startWorkers(n) {
  const database = await createPostgresDatabase();
  const env = { DATABASE_URL: database.url, WARDEN_LOG_LEVEL: 'warn' };
  const boot = run(['bootstrap', '--email', 'bench@example.com', '--password', 'a long bench password', '--organization', 'Bench', '--json'], env);
  const [code] = await once(boot.child, 'exit');
  if (code !== 0) throw new Error(boot.output());
  const setup = JSON.parse(boot.output().slice(boot.output().indexOf('{')));
  const port = await freePort();
  const server = run(['serve', '--workers', String(n), '--port', String(port), '--log-level', 'info'], env);
  const deadline = Date.now() + 60_000;
  while (!/Warden listening on .*\((Postgres, \d+ workers|Postgres)\)/.test(server.output())) {
    if (server.child.exitCode !== null || Date.now() > deadline) throw new Error(`warden serve --workers ${n} did not start:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = `http://127.0.0.1:${port}`;
  const { key, flagPath } = await createBenchData(url, setup.personal_api_key, setup.project.id);
  return {
    target: { url: `${url}${flagPath}`, headers: { authorization: `Bearer ${key}` } },
    async stop() {
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      await exited;
      await database.drop();
    },
  };
}

export async function benchWorkers() {
  if (!process.env.DATABASE_URL) {
    console.log('workers: needs Postgres (set DATABASE_URL); the embedded database is one process.');
    return;
  }
  const cores = availableParallelism();
  const counts = [1, 2, 4, 8].filter((n) => n === 1 || n <= cores);
  const servers = {};
  try {
    for (const n of counts) servers[n] = await startWorkers(n);
    const m = await alternate(Object.fromEntries(counts.map((n) => [n, servers[n].target])), { rounds: ROUNDS, seconds: SECONDS });
    console.log(
      `\nwarden serve --workers N on Postgres: flag route, feature_flag:read key, 50 connections, ${ROUNDS} alternating rounds of ${SECONDS} s, medians; ` +
        `${cores} cores shared with autocannon (unpinned); ${new Date().toISOString().slice(0, 10)}`,
    );
    console.log('| workers | req/s | ratio to 1 worker | target (0.8 x N) | p99 |\n|---|---|---|---|---|');
    for (const n of counts) {
      console.log(
        `| ${n} | ${Math.round(m[n].rps).toLocaleString('en-US')} | ${(m[n].rps / m[1].rps).toFixed(2)} | ${(0.8 * n).toFixed(1)} | ${m[n].p99} ms |`,
      );
    }
    if (counts.length < 4) console.log(`(4 and 8 workers not run: ${cores} cores)`);
    return m;
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWorkers();
