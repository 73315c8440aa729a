// Start-up to ready on the embedded database (issue 9, benchmark 6). Each case is a child process,
// timed from spawn() to the first 200 from its health route over HTTP (polled every POLL_MS):
//   first start: `warden serve` on an empty data directory (PGlite's initdb, then every migration);
//   restart:     `warden serve` on a data directory that is already initialised and migrated;
//   bare:        a Node process that imports Fastify and answers one route, the floor.
// The three run in alternating rounds, each stopped (SIGTERM, waited for) before the next starts,
// on a free port each time; medians and the ratios to the bare process are what count. Then the
// same start-up again in a probe process that timestamps each step (the phases `warden serve` goes
// through), to say where a first start spends its time. Needs `npm run build` first (runs ../dist/).
//
// Knobs: BENCH_ROUNDS (default 5). DATABASE_URL and WARDEN_* are not passed to the children.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './timing.mjs';
import { CHILD_ENV, REPO, WARDEN, freePort } from './processes.mjs';

const DIST = pathToFileURL(join(REPO, 'dist')).href;
const FASTIFY = import.meta.resolve('fastify');
const PGLITE = import.meta.resolve('@electric-sql/pglite');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const POLL_MS = 20;
const READY_TIMEOUT_MS = 120_000;

/** The children's environment: nothing that would point them at Postgres or change their settings. */
const ENV = CHILD_ENV;

/** The floor: a Node process with Fastify answering the same path. */
const BARE = `
const { default: Fastify } = await import(process.argv[1]);
const app = Fastify({ logger: false });
app.get('/_health', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2]) });
`;

/**
 * What `warden serve` does before it listens, step by step (src/cli/main.ts serve()), with a
 * timestamp after each; prints them as JSON and exits. performance.now() counts from the process's
 * start, so the first step is Node's own boot. On an empty directory PGlite.create() makes a second,
 * in-memory PGlite, runs initdb in it, dumps the result and unpacks it into the data directory; the
 * hooks on PGlite.create and dumpDataDir time initdb and that copy (absent if PGlite changes that).
 */
const PHASES = `
const [dist, pglite, dataDir] = process.argv.slice(1);
const steps = [];
let last = 0;
const step = (name) => { const now = performance.now(); steps.push([name, now - last]); last = now; };
step('node');
await import(dist + '/cli/main.js');
const { loadConfig } = await import(dist + '/config.js');
const { openDatabase } = await import(dist + '/store/open.js');
const { migrate } = await import(dist + '/store/migrate.js');
const { buildApp } = await import(dist + '/http/app.js');
const { PGlite } = await import(pglite);
step('code');
const at = {};
let depth = 0;
const create = PGlite.create;
PGlite.create = async function (...args) {
  const inner = depth++ > 0;
  try {
    const db = await create.apply(this, args);
    if (inner) at.initdbFrom = performance.now();
    return db;
  } finally {
    depth--;
  }
};
const dump = PGlite.prototype.dumpDataDir;
PGlite.prototype.dumpDataDir = function (...args) {
  at.initdbTo ??= performance.now();
  return dump.apply(this, args);
};
const close = PGlite.prototype.close;
PGlite.prototype.close = function (...args) {
  if (at.initdbTo !== undefined) at.copyTo ??= performance.now();
  return close.apply(this, args);
};
const db = await openDatabase({ dataDir });
step('open');
const applied = await migrate(db);
step('migrate');
const { app } = await buildApp(db, loadConfig({ 'data-dir': dataDir, 'log-level': 'silent' }, {}));
step('build');
await app.listen({ host: '127.0.0.1', port: 0 });
step('listen');
await app.close();
await db.close();
const split = at.copyTo ? { initdb: at.initdbTo - at.initdbFrom, copy: at.copyTo - at.initdbTo } : {};
console.log(JSON.stringify({ steps: Object.fromEntries(steps), ...split, migrations: applied.length }));
process.exit(0);
`;

/** The status of one GET /_health, or 0 when nothing answered. */
function probe(port) {
  return new Promise((done) => {
    const req = get({ host: '127.0.0.1', port, path: '/_health', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => done(0));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Milliseconds from spawning `args` to the first 200 from /_health on `port`; the process is stopped after. */
async function timeToReady(args, port) {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  try {
    for (;;) {
      const attempt = performance.now();
      if ((await probe(port)) === 200) return performance.now() - started;
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited ${child.exitCode} before it was ready:\n${output}`);
      if (attempt - started > READY_TIMEOUT_MS) throw new Error(`${args.join(' ')} not ready after ${READY_TIMEOUT_MS} ms:\n${output}`);
      await sleep(Math.max(0, POLL_MS - (performance.now() - attempt)));
    }
  } finally {
    await stop(child);
  }
}

const serveArgs = (dataDir, port) => [WARDEN, 'serve', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port), '--log-level', 'silent'];

async function firstStart() {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-startup-'));
  try {
    const port = await freePort();
    return await timeToReady(serveArgs(join(dir, 'data'), port), port);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function restart(dataDir) {
  const port = await freePort();
  return timeToReady(serveArgs(dataDir, port), port);
}

async function bare() {
  const port = await freePort();
  return timeToReady(['--input-type=module', '-e', BARE, FASTIFY, String(port)], port);
}

/** The probe of PHASES on `dataDir`: milliseconds per step. */
async function phases(dataDir) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', PHASES, DIST, PGLITE, dataDir], {
    cwd: REPO,
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`start-up phase probe exited ${code}:\n${err}${out}`);
  return JSON.parse(out.trim().split('\n').pop());
}

const STEPS = [
  ['node', 'Node boot'],
  ['code', "load Warden's code"],
  ['open', 'open PGlite'],
  ['migrate', 'migrations'],
  ['build', 'build the app'],
  ['listen', 'listen'],
];

export async function benchStartup() {
  const root = mkdtempSync(join(tmpdir(), 'warden-bench-startup-'));
  const initialised = join(root, 'initialised');
  try {
    // Warm-up, not counted: a first start in the restart's directory initialises it, then a restart.
    await restart(initialised);
    await restart(initialised);
    await bare();

    const first = [];
    const again = [];
    const floor = [];
    for (let round = 0; round < ROUNDS; round++) {
      first.push(await firstStart());
      again.push(await restart(initialised));
      floor.push(await bare());
    }
    const f = median(first);
    const r = median(again);
    const b = median(floor);
    const ms = (values) => values.map((v) => v.toFixed(0)).join(', ');
    console.log(
      `start-up to ready on the embedded database: spawn to the first 200 from /_health (polled every ${POLL_MS} ms), ${ROUNDS} alternating rounds, medians`,
    );
    console.log(`  first start (empty data dir)   : ${f.toFixed(0).padStart(6)} ms   (${ms(first)})`);
    console.log(`  restart (initialised data dir) : ${r.toFixed(0).padStart(6)} ms   (${ms(again)})`);
    console.log(`  bare Fastify process           : ${b.toFixed(0).padStart(6)} ms   (${ms(floor)})`);
    console.log(`  ratio first start/bare: ${(f / b).toFixed(1)}, restart/bare: ${(r / b).toFixed(1)}, first start/restart: ${(f / r).toFixed(1)}`);

    // Where the time goes: the same steps with timestamps, again alternating empty and initialised.
    const fresh = [];
    const existing = [];
    let migrations = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const dir = join(root, `phases-${round}`);
      const p = await phases(dir);
      migrations = p.migrations;
      fresh.push({ ...p.steps, initdb: p.initdb, copy: p.copy });
      rmSync(dir, { recursive: true, force: true });
      existing.push((await phases(initialised)).steps);
    }
    console.log(`  steps of a start, in-process timestamps, ${ROUNDS} rounds, medians   empty data dir   initialised`);
    const stepMedians = {};
    for (const [key, label] of STEPS) {
      const e = median(fresh.map((st) => st[key]));
      const i = median(existing.map((st) => st[key]));
      stepMedians[key] = { empty: e, initialised: i };
      const name = key === 'migrate' ? `${label} (${migrations} on an empty database)` : key === 'open' ? `${label} (initdb on an empty dir)` : label;
      console.log(`    ${name.padEnd(45)}: ${e.toFixed(0).padStart(9)} ms ${i.toFixed(0).padStart(11)} ms`);
    }
    const total = (steps) => STEPS.reduce((sum, [key]) => sum + steps[key], 0);
    const e = median(fresh.map(total));
    const i = median(existing.map(total));
    console.log(`    ${'total'.padEnd(45)}: ${e.toFixed(0).padStart(9)} ms ${i.toFixed(0).padStart(11)} ms`);
    // initdb (and copying its result into the data directory) is what an empty directory adds to opening PGlite.
    const initdb = median(fresh.map((s, round) => s.open - existing[round].open));
    const share = median(fresh.map((s, round) => (s.open - existing[round].open) / total(s)));
    console.log(`    opening PGlite on an empty dir less on an initialised one: ${initdb.toFixed(0)} ms, ${(share * 100).toFixed(0)}% of the empty-dir total`);
    if (fresh.every((st) => st.initdb !== undefined)) {
      const proper = median(fresh.map((st) => st.initdb));
      const copy = median(fresh.map((st) => st.copy));
      const properShare = median(fresh.map((st) => st.initdb / total(st)));
      console.log(
        `      of which initdb itself (in a second, in-memory PGlite): ${proper.toFixed(0)} ms, ${(properShare * 100).toFixed(0)}% of the empty-dir total`,
      );
      console.log(`      and copying its cluster into the data directory    : ${copy.toFixed(0)} ms`);
    }
    return { firstStartMs: f, restartMs: r, bareMs: b, steps: stepMedians, initdbMs: initdb };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchStartup();
