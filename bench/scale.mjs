// Benchmark 5 of issue 9: scale. Two databases, each served by its own `warden serve` child process
// (rate limits off, metrics on):
// - SMALL: what benchmark 1 has: `warden bootstrap`, 20 flags and one feature_flag:read key made
//   through the API;
// - LARGE: the same, plus bulk data seeded in SQL (INSERT … SELECT generate_series, batched):
//   10,000 organizations each with one project and one flag, 100,000 users (10 per organization,
//   1 owner, 2 admins, 7 members), 1,000,000 personal API keys (10 per user, feature_flag:read, known
//   values `phx_scale<k>`), 1,000,000 activity-log entries spread over the organizations.
// Loads (autocannon, 50 connections, ROUNDS alternating rounds of SECONDS s, medians), every response
// must be a 200: benchmark 1's request (the bootstrap project's flag with the API-made key) on both
// nodes, and on LARGE a multi-tenant load: TENANTS seeded keys of as many organizations, each reading
// its own organization's flag. Memory: each node's RSS (/proc/<pid>/status) after start and after
// load, the ratio large/small, and what the access cache holds (GET /metrics).
// Postgres when DATABASE_URL is set (fresh databases, dropped after), else the embedded database
// (PGlite data directories in a temporary folder, removed after).
// BENCH_SCALE=0.01 shrinks every count (organizations, users, keys, entries) for a quick try.
// Needs `npm run build` first (bin/warden.js and ../dist/).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { openStore } from '../dist/store/open.js';
import { createBenchData } from './authorized-requests.mjs';
import { createPostgresDatabase } from './databases.mjs';
import { median } from './timing.mjs';
import { CHILD_ENV, WARDEN, freePort } from './processes.mjs';

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ORGS = Math.max(1, Math.round(10_000 * SCALE));
const USERS_PER_ORG = 10;
const KEYS_PER_USER = 10;
const USERS = ORGS * USERS_PER_ORG;
const KEYS = USERS * KEYS_PER_USER;
const ENTRIES = Math.round(1_000_000 * SCALE);
const TENANTS = Math.min(Number(process.env.BENCH_TENANTS ?? 1_000), ORGS);
const BATCH = 100_000;
const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** After the load, the nodes idle this long before memory is read again (V8 may shrink its heap). */
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
const METRICS_TOKEN = 'scale-bench-metrics-token';
/** A node that is not answering /_health after this long is a failure. */
const START_TIMEOUT_MS = 180_000;
/**
 * Loaded into each serving node (with --expose-gc): SIGUSR2 runs a full garbage collection, so that
 * memory can also be read without the garbage the load left (which V8 collects when it likes).
 */
const GC_ON_SIGNAL = 'data:text/javascript,process.on("SIGUSR2",()=>globalThis.gc())';
const ENV = CHILD_ENV;

const fmt = (n) => Math.round(n).toLocaleString('en');
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const load1 = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

/** `--database-url U` or `--data-dir D`: where a database of this run lives. */
const whereArgs = (database) => (database.url ? ['--database-url', database.url] : ['--data-dir', database.dir]);

/** A `warden serve` child process on the database, once it answers /_health. */
async function startNode(database) {
  const port = await freePort();
  const args = [
    '--expose-gc',
    '--import',
    GC_ON_SIGNAL,
    WARDEN,
    'serve',
    ...whereArgs(database),
    '--port',
    String(port),
    '--log-level',
    'silent',
    '--rate-limits',
    'false',
    '--metrics-token',
    METRICS_TOKEN,
  ];
  const child = spawn(process.execPath, args, { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`warden serve exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/_health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() - started > START_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`warden serve did not become ready in ${START_TIMEOUT_MS / 1000}s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid,
    startMs: Date.now() - started,
    /** A full garbage collection in the node; resolves a moment later. */
    async collectGarbage() {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
async function memory(pid) {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** A few gauges of the node's /metrics. */
async function metrics(node) {
  const res = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const gauge = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    cacheEntries: gauge('warden_access_cache_entries'),
    hitRatio: gauge('warden_access_cache_hit_ratio'),
    heapUsed: gauge('warden_process_nodejs_heap_size_used_bytes'),
  };
}

/** A fresh database: a new Postgres database, or an empty data directory for the embedded one. */
async function createDatabase(label) {
  if (process.env.DATABASE_URL) {
    const database = await createPostgresDatabase();
    return { label, url: database.url, drop: database.drop };
  }
  const dir = await mkdtemp(join(tmpdir(), `warden-scale-${label}-`));
  return { label, dir, drop: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Benchmark 1's setup through the CLI and the API: `warden bootstrap`, then on a node its flags in
 * the bootstrap project and a feature_flag:read key (createBenchData). Returns the request benchmark 1 loads.
 */
async function setUp(database) {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [WARDEN, 'bootstrap', ...whereArgs(database), '--email', 'bench@example.com', '--password', 'a long bench password', '--organization', 'Bench', '--json'],
    { env: ENV },
  );
  const setup = JSON.parse(stdout);
  const node = await startNode(database);
  try {
    const { key, flagPath } = await createBenchData(node.url, setup.personal_api_key, setup.project.id);
    return { path: flagPath, headers: { authorization: `Bearer ${key}` } };
  } finally {
    await node.stop();
  }
}

/** Runs one seeding step, in batches of BATCH over 1..n, and returns its milliseconds. */
async function step(db, n, sql) {
  const t = Date.now();
  for (let from = 1; from <= n; from += BATCH) await db.query(sql, [from, Math.min(n, from + BATCH - 1)]);
  return Date.now() - t;
}

/**
 * The bulk data, in SQL. Organization o (1..ORGS) has slug scale-o, project token phc_scale_o and one
 * flag; user u (1..USERS) belongs to organization ceil(u / 10); key k (1..KEYS) to user ceil(k / 10),
 * with the value phx_scale<k>. Activity entries carry placeholder chain columns (as in
 * bench/activity-log.mjs) so that the nodes' background chainer leaves them alone.
 * Returns the time of each step and TENANTS requests: key → its organization's flag.
 */
async function seed(db) {
  const times = {};
  times.organizations = await step(
    db,
    ORGS,
    `INSERT INTO organizations (name, slug) SELECT 'Scale ' || o, 'scale-' || o FROM generate_series($1::int, $2::int) AS o`,
  );
  times.projects = await step(
    db,
    ORGS,
    `INSERT INTO projects (organization_id, name, api_token)
     SELECT org.id, 'Scale project ' || o, 'phc_scale_' || o FROM generate_series($1::int, $2::int) AS o JOIN organizations org ON org.slug = 'scale-' || o`,
  );
  times.flags = await step(
    db,
    ORGS,
    `INSERT INTO feature_flags (team_id, key, name, filters)
     SELECT p.id, 'scale-flag', 'Scale flag', '{"groups": [{"properties": [], "rollout_percentage": 50}]}'::jsonb
       FROM generate_series($1::int, $2::int) AS o JOIN projects p ON p.api_token = 'phc_scale_' || o`,
  );
  times.users = await step(
    db,
    USERS,
    `INSERT INTO users (distinct_id, email, first_name, current_organization_id, current_project_id)
     SELECT 'scale-' || u, 'scale-' || u || '@example.com', 'User ' || u, p.organization_id, p.id
       FROM generate_series($1::int, $2::int) AS u JOIN projects p ON p.api_token = 'phc_scale_' || ((u - 1) / ${USERS_PER_ORG} + 1)`,
  );
  times.memberships = await step(
    db,
    USERS,
    `INSERT INTO organization_memberships (organization_id, user_id, level)
     SELECT usr.current_organization_id, usr.id, CASE (u - 1) % ${USERS_PER_ORG} WHEN 0 THEN 15 WHEN 1 THEN 8 WHEN 2 THEN 8 ELSE 1 END
       FROM generate_series($1::int, $2::int) AS u JOIN users usr ON usr.distinct_id = 'scale-' || u`,
  );
  times.keys = await step(
    db,
    KEYS,
    `INSERT INTO personal_api_keys (id, user_id, label, mask_value, secure_value, scopes)
     SELECT 'scale' || k, usr.id, 'scale ' || k, 'phx_...' || right(k::text, 4),
            'sha256$' || encode(sha256(convert_to('phx_scale' || k, 'UTF8')), 'hex'), ARRAY['feature_flag:read']
       FROM generate_series($1::int, $2::int) AS k JOIN users usr ON usr.distinct_id = 'scale-' || ((k - 1) / ${KEYS_PER_USER} + 1)`,
  );
  times.activity = await step(
    db,
    ENTRIES,
    `INSERT INTO activity_log (organization_id, team_id, user_id, is_system, activity, scope, item_id, detail, created_at, chain_seq, prev_hash, hash)
     SELECT usr.current_organization_id, usr.current_project_id, usr.id, false,
            (ARRAY['created','updated','deleted'])[1 + i % 3],
            (ARRAY['FeatureFlag','Insight','Dashboard','Organization','PersonalAPIKey'])[1 + (i / 3) % 5],
            (i % 5000)::text,
            jsonb_build_object('name', 'item ' || (i % 5000), 'changes', jsonb_build_array(jsonb_build_object('type', 'FeatureFlag', 'action', 'changed', 'field', 'name', 'before', 'a', 'after', 'b'))),
            now() - make_interval(secs => (${ENTRIES} - i) * 31.536),
            -i, 'bench', 'bench'
       FROM generate_series($1::int, $2::int) AS i
       JOIN users usr ON usr.distinct_id = 'scale-' || ((i % ${ORGS}) * ${USERS_PER_ORG} + 1 + (i / ${ORGS}) % ${USERS_PER_ORG})`,
  );
  const t = Date.now();
  await db.query('ANALYZE');
  times.analyze = Date.now() - t;

  // TENANTS organizations spread over all of them; in each, one key of one of its users (every level).
  const picks = Array.from({ length: TENANTS }, (_, j) => {
    const org = 1 + Math.floor((j * ORGS) / TENANTS);
    const user = (org - 1) * USERS_PER_ORG + 1 + (j % USERS_PER_ORG);
    const key = (user - 1) * KEYS_PER_USER + 1 + ((j * 3) % KEYS_PER_USER);
    return { org, key };
  });
  const rows = await db.query(
    `SELECT split_part(p.api_token, '_', 3)::int AS org, p.id AS project, f.id AS flag
       FROM projects p JOIN feature_flags f ON f.team_id = p.id WHERE p.api_token = ANY($1::text[])`,
    [picks.map((p) => `phc_scale_${p.org}`)],
  );
  const flagOf = new Map(rows.map((r) => [Number(r.org), r]));
  const tenants = picks.map(({ org, key }) => {
    const r = flagOf.get(org);
    if (!r) throw new Error(`no seeded flag for organization ${org}`);
    return { path: `/api/projects/${r.project}/feature_flags/${r.flag}/`, headers: { authorization: `Bearer phx_scale${key}` } };
  });
  return { times, tenants };
}

async function databaseSize(database) {
  if (database.url) {
    const db = await openStore({ databaseUrl: database.url, dataDir: null });
    try {
      const [row] = await db.query('SELECT pg_database_size(current_database())::bigint AS n');
      return Number(row.n);
    } finally {
      await db.close();
    }
  }
  const { stdout } = await promisify(execFile)('du', ['-sb', database.dir]);
  return Number(stdout.split(/\s/)[0]);
}

/** One autocannon run; every answer must be a 200. */
async function loadOnce(target, seconds) {
  const requests = target.requests;
  let client = 0;
  const result = await autocannon({
    url: target.url,
    connections: CONNECTIONS,
    duration: seconds,
    ...(requests
      ? {
          requests,
          // Each connection starts elsewhere in the list, so that a round reaches every key.
          setupClient: (c) => {
            const offset = Math.floor(((client++ % CONNECTIONS) * requests.length) / CONNECTIONS);
            c.setRequests([...requests.slice(offset), ...requests.slice(0, offset)].map((r) => ({ ...r, headers: { ...r.headers } })));
          },
        }
      : { headers: target.headers }),
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return { rps: result.requests.average, p99: result.latency.p99, total: result.requests.total };
}

/** Sends each request once, checking it is answered 200 with the flag asked for; the largest body's bytes. */
async function prime(url, requests) {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++];
      const res = await fetch(`${url}${r.path}`, { headers: r.headers });
      const text = await res.text();
      bytes = Math.max(bytes, Buffer.byteLength(text));
      const body = JSON.parse(text);
      if (res.status !== 200) throw new Error(`${r.path} with ${r.headers.authorization.slice(0, 20)}…: ${res.status} ${JSON.stringify(body)}`);
      if (!r.path.endsWith(`/${body.id}/`)) throw new Error(`${r.path}: answered flag ${body.id}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return bytes;
}

export async function benchScale() {
  const kind = process.env.DATABASE_URL ? 'Postgres' : 'embedded database';
  const loadBefore = load1();
  const databases = [];
  const nodes = [];
  try {
    const small = await createDatabase('small');
    databases.push(small);
    const large = await createDatabase('large');
    databases.push(large);
    const t0 = Date.now();
    const smallFlag = await setUp(small);
    const largeFlag = await setUp(large);
    const setupMs = Date.now() - t0;

    const t1 = Date.now();
    const db = large.url ? await openStore({ databaseUrl: large.url, dataDir: null }) : await openStore({ dataDir: large.dir });
    let seeded;
    try {
      seeded = await seed(db);
    } finally {
      await db.close();
    }
    const seedMs = Date.now() - t1;
    const sizes = { small: await databaseSize(small), large: await databaseSize(large) };

    const smallNode = await startNode(small);
    nodes.push(smallNode);
    const largeNode = await startNode(large);
    nodes.push(largeNode);
    await new Promise((r) => setTimeout(r, 1000)); // settle after start
    const atStart = { small: await memory(smallNode.pid), large: await memory(largeNode.pid) };
    await smallNode.collectGarbage();
    await largeNode.collectGarbage();
    const startGauges = { small: await metrics(smallNode), large: await metrics(largeNode) };

    const targets = {
      'flag (benchmark 1), small': { name: 'small flag', url: smallNode.url + smallFlag.path, headers: smallFlag.headers },
      'flag (benchmark 1), large': { name: 'large flag', url: largeNode.url + largeFlag.path, headers: largeFlag.headers },
      [`${fmt(TENANTS)} tenants' keys, large`]: { name: 'large tenants', url: largeNode.url, requests: seeded.tenants },
    };
    // Every request once (each tenant's key and flag checked), then a warm-up second each.
    const bytes = { flag: await prime(smallNode.url, [smallFlag]), tenant: await prime(largeNode.url, seeded.tenants) };
    await prime(largeNode.url, [largeFlag]);
    for (const target of Object.values(targets)) await loadOnce(target, 1);
    const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, target] of Object.entries(targets)) runs[name].push(await loadOnce(target, SECONDS));
    }
    const m = Object.fromEntries(
      Object.entries(runs).map(([name, r]) => [
        name,
        { rps: median(r.map((x) => x.rps)), p99: median(r.map((x) => x.p99)), requests: r.reduce((s, x) => s + x.total, 0) },
      ]),
    );
    const afterLoad = { small: await memory(smallNode.pid), large: await memory(largeNode.pid) };
    const gauges = { small: await metrics(smallNode), large: await metrics(largeNode) };
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle = { small: await memory(smallNode.pid), large: await memory(largeNode.pid) };
    const idleGauges = { small: await metrics(smallNode), large: await metrics(largeNode) };
    await smallNode.collectGarbage();
    await largeNode.collectGarbage();
    const collected = { small: await memory(smallNode.pid), large: await memory(largeNode.pid) };
    const collectedGauges = { small: await metrics(smallNode), large: await metrics(largeNode) };

    const t = seeded.times;
    console.log(
      `scale on ${kind}: LARGE = benchmark 1's setup + ${fmt(ORGS)} organizations (one project, one flag each), ${fmt(USERS)} users with memberships, ` +
        `${fmt(KEYS)} keys, ${fmt(ENTRIES)} activity entries${SCALE === 1 ? '' : ` (BENCH_SCALE=${SCALE})`}; SMALL = benchmark 1's setup`,
    );
    console.log(
      `  setup of both through CLI + API: ${secs(setupMs)}; seeding LARGE: ${secs(seedMs)} ` +
        `(organizations ${secs(t.organizations)}, projects ${secs(t.projects)}, flags ${secs(t.flags)}, users ${secs(t.users)}, memberships ${secs(t.memberships)}, ` +
        `keys ${secs(t.keys)}, activity ${secs(t.activity)}, ANALYZE ${secs(t.analyze)})`,
    );
    console.log(
      `  database size: small ${mb(sizes.small)}, large ${mb(sizes.large)}; node start to /_health: small ${secs(smallNode.startMs)}, large ${secs(largeNode.startMs)}`,
    );
    console.log(
      `  load: autocannon, ${CONNECTIONS} connections, ${ROUNDS}x${SECONDS}s alternating, medians; every response 200 ` +
        `(benchmark 1's flag ${bytes.flag} bytes, a tenant's flag up to ${bytes.tenant} bytes)`,
    );
    for (const [name, r] of Object.entries(m)) {
      console.log(`    ${name.padEnd(30)}: ${r.rps.toFixed(0).padStart(7)} req/s   p99 ${String(r.p99).padStart(4)} ms   (${fmt(r.requests)} requests)`);
    }
    const s = m['flag (benchmark 1), small'];
    const l = m['flag (benchmark 1), large'];
    const mt = m[`${fmt(TENANTS)} tenants' keys, large`];
    console.log(`  ratio large/small, benchmark 1's request: p99 ${(l.p99 / s.p99).toFixed(2)}, req/s ${(l.rps / s.rps).toFixed(2)}`);
    console.log(`  ratio tenants (large) / benchmark 1 (small): p99 ${(mt.p99 / s.p99).toFixed(2)}, req/s ${(mt.rps / s.rps).toFixed(2)}`);
    console.log(`  memory of a node               small         large   large/small`);
    const row = (label, a, b) => console.log(`    ${label.padEnd(26)}: ${mib(a).padStart(9)}   ${mib(b).padStart(9)}   ${(b / a).toFixed(2)}`);
    row('RSS after start', atStart.small.rss, atStart.large.rss);
    row('RSS after load', afterLoad.small.rss, afterLoad.large.rss);
    row(`RSS ${IDLE_SECONDS}s idle after load`, idle.small.rss, idle.large.rss);
    row('RSS after a full GC', collected.small.rss, collected.large.rss);
    row('RSS peak (VmHWM)', collected.small.peak, collected.large.peak);
    row('JS heap used, start + GC', startGauges.small.heapUsed, startGauges.large.heapUsed);
    row('JS heap used, after load', gauges.small.heapUsed, gauges.large.heapUsed);
    row(`JS heap used, ${IDLE_SECONDS}s idle`, idleGauges.small.heapUsed, idleGauges.large.heapUsed);
    row('JS heap used, end + GC', collectedGauges.small.heapUsed, collectedGauges.large.heapUsed);
    console.log(
      `  access cache after load: small ${gauges.small.cacheEntries} entries (hit ratio ${gauges.small.hitRatio.toFixed(4)}), ` +
        `large ${gauges.large.cacheEntries} entries (hit ratio ${gauges.large.hitRatio.toFixed(4)})`,
    );
    console.log(`  load average (1, 5, 15 min): ${loadBefore} before, ${load1()} after`);
    return { m, atStart, afterLoad, idle, collected, gauges, collectedGauges, seedMs, sizes };
  } finally {
    for (const node of nodes) await node.stop();
    for (const database of databases) await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchScale();
