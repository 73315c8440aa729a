// Soak (issue 19): does a node's memory stay flat under a steady load on a constant data set?
// One `warden serve` child process (rate limits off, metrics on, --expose-gc) on a database seeded
// with `warden bootstrap` and SOAK_FLAGS flags (INSERT … SELECT generate_series, through the store
// before the node starts). Then SOAK_SECONDS of load from SOAK_WORKERS concurrent clients, a mix
// that reads and rewrites flags without changing how many there are: list pages at random offsets
// (`?limit=100`), flag definitions for local evaluation, single flags, and a PATCH of a random
// flag's name every tenth request (each PATCH makes the cached definitions stale). Every answer must
// be a 2xx. Every SOAK_SAMPLE_SECONDS: the node's RSS (/proc/<pid>/status) and JS heap in use
// (/metrics). Reported: the first and last samples after warm-up (the first fifth of the run), the
// peaks, and the growth per minute of the last half (least squares), RSS and heap; the heap also
// after a full garbage collection at the start and at the end.
// Short by default (SOAK_SECONDS=30, SOAK_FLAGS=1000); the form: SOAK_SECONDS=300 SOAK_FLAGS=10000.
// Postgres when DATABASE_URL is set (a fresh database, dropped after), else the embedded database
// (a data directory in the temporary folder, removed after). Needs `npm run build` first.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../dist/store/open.js';
import { createPostgresDatabase } from './databases.mjs';
import { CHILD_ENV, WARDEN, freePort } from './processes.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const FLAGS = Number(process.env.SOAK_FLAGS ?? 1_000);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 16);
const SAMPLE_SECONDS = Number(process.env.SOAK_SAMPLE_SECONDS ?? Math.max(1, Math.min(10, SECONDS / 30)));
const METRICS_TOKEN = 'soak-bench-metrics-token';
const GC_ON_SIGNAL = 'data:text/javascript,process.on("SIGUSR2",()=>globalThis.gc())';
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function seed(database) {
  const where = database.url ? ['--database-url', database.url] : ['--data-dir', database.dir];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [WARDEN, 'bootstrap', ...where, '--email', 'soak@example.com', '--password', 'a long soak password', '--organization', 'Soak', '--json'],
    { env: CHILD_ENV },
  );
  const boot = JSON.parse(stdout);
  const db = await openStore(database.url ? { databaseUrl: database.url, dataDir: null } : { dataDir: database.dir });
  try {
    await db.query(
      `INSERT INTO feature_flags (team_id, key, name, filters, created_by_id)
       SELECT $1, 'soak-' || g, 'Soak flag ' || g,
              jsonb_build_object('groups', jsonb_build_array(jsonb_build_object('properties', '[]'::jsonb, 'rollout_percentage', g % 100, 'variant', null)), 'multivariate', null, 'payloads', '{}'::jsonb),
              $2
         FROM generate_series(1, $3) AS g`,
      [boot.project.id, boot.user.id, FLAGS],
    );
    const ids = (await db.query('SELECT id FROM feature_flags WHERE team_id = $1 ORDER BY id', [boot.project.id])).map((r) => r.id);
    return { key: boot.personal_api_key, projectId: boot.project.id, token: boot.project.api_token, ids };
  } finally {
    await db.close();
  }
}

async function startNode(database) {
  const port = await freePort();
  const where = database.url ? ['--database-url', database.url] : ['--data-dir', database.dir];
  const args = [
    '--expose-gc',
    '--import',
    GC_ON_SIGNAL,
    WARDEN,
    'serve',
    ...where,
    '--port',
    String(port),
    '--log-level',
    'silent',
    '--rate-limits',
    'false',
    '--metrics-token',
    METRICS_TOKEN,
  ];
  const child = spawn(process.execPath, args, { env: CHILD_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  while (
    !(await fetch(`${url}/_health`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() - started > 120_000) throw new Error(`warden serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid,
    async collectGarbage() {
      child.kill('SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function sample(node) {
  const status = await readFile(`/proc/${node.pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const heap = Number(/^warden_process_nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), heap };
}

/** Least-squares slope of (t seconds, bytes) in bytes per minute. */
function perMinute(points) {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.v, 0) / n;
  const num = points.reduce((a, p) => a + (p.t - mx) * (p.v - my), 0);
  const den = points.reduce((a, p) => a + (p.t - mx) ** 2, 0);
  return (num / den) * 60;
}

async function loadFor(node, data, seconds, onSample) {
  const headers = { authorization: `Bearer ${data.key}` };
  const base = `${node.url}/api/projects/${data.projectId}/feature_flags/`;
  const pick = () => data.ids[Math.floor(Math.random() * data.ids.length)];
  const counts = { requests: 0, writes: 0 };
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const n = counts.requests++;
      let res;
      if (n % 10 === 9) {
        counts.writes++;
        res = await fetch(`${base}${pick()}/`, {
          method: 'PATCH',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `Soak ${n}` }),
        });
      } else if (n % 3 === 0) {
        res = await fetch(`${base}?limit=100&offset=${Math.floor(Math.random() * Math.max(1, data.ids.length - 100))}`, { headers });
      } else if (n % 3 === 1) {
        res = await fetch(`${node.url}/api/feature_flag/local_evaluation/?token=${data.token}`, { headers });
      } else {
        res = await fetch(`${base}${pick()}/`, { headers });
      }
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`${res.url} answered ${res.status}`);
    }
  };
  const started = Date.now();
  const timer = setInterval(() => void onSample((Date.now() - started) / 1000), SAMPLE_SECONDS * 1000);
  try {
    await Promise.all(Array.from({ length: WORKERS }, worker));
  } finally {
    clearInterval(timer);
  }
  return counts;
}

export async function benchSoak() {
  const postgres = Boolean(process.env.DATABASE_URL);
  const database = postgres ? await createPostgresDatabase() : { dir: await mkdtemp(join(tmpdir(), 'warden-soak-')) };
  let node;
  try {
    const data = await seed(database);
    node = await startNode(database);
    await node.collectGarbage();
    const start = await sample(node);
    const samples = [];
    const load1 = loadavg()[0].toFixed(2);
    const counts = await loadFor(node, data, SECONDS, async (t) => samples.push({ t, ...(await sample(node)) }));
    const end = await sample(node);
    await node.collectGarbage();
    const endGc = await sample(node);
    const warm = samples.filter((s) => s.t >= SECONDS / 5);
    const lastHalf = samples.filter((s) => s.t >= SECONDS / 2);
    const first = warm[0] ?? start;
    const last = warm.at(-1) ?? end;
    console.log(
      `soak on ${postgres ? 'Postgres' : 'the embedded database'}: ${FLAGS.toLocaleString('en')} flags, ${SECONDS} s, ${WORKERS} clients, load average ${load1} at start`,
    );
    console.log(
      `  requests: ${counts.requests.toLocaleString('en')} (${Math.round(counts.requests / SECONDS)}/s), of which PATCH ${counts.writes.toLocaleString('en')}; ${samples.length} samples`,
    );
    console.log(
      `  RSS:  after start ${mb(start.rss)}, after warm-up ${mb(first.rss)}, end ${mb(last.rss)}, peak ${mb(end.peak)}, last half ${mb(perMinute(lastHalf.map((s) => ({ t: s.t, v: s.rss }))))}/min`,
    );
    console.log(
      `  heap: after start + GC ${mb(start.heap)}, after warm-up ${mb(first.heap)}, end ${mb(last.heap)}, max ${mb(Math.max(...samples.map((s) => s.heap)))}, end + GC ${mb(endGc.heap)}, last half ${mb(perMinute(lastHalf.map((s) => ({ t: s.t, v: s.heap }))))}/min`,
    );
  } finally {
    await node?.stop();
    if (database.drop) await database.drop();
    else await rm(database.dir, { recursive: true, force: true });
  }
}
