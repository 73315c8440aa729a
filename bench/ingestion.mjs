// Ingestion throughput: events per second that `warden serve` accepts through POST /batch/ over
// loopback, as posthog-node sends them (gzip-compressed batches), from a fixed number of concurrent
// senders for a few seconds. The server runs as its own process (from ../dist: `npm run build`
// first), on the embedded database in a fresh data directory, and again on Postgres when
// DATABASE_URL is set (in a fresh database, dropped afterwards). Every accepted event is checked
// to be stored. Not part of bench/run.mjs; run it alone: node bench/ingestion.mjs
//
// Knobs: BENCH_SECONDS (default 5), BENCH_BATCH (events per request, default 100),
// BENCH_CONCURRENCY (requests in flight, default 8), BENCH_GZIP (default 1).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createPostgresDatabase } from './databases.mjs';
import { openStore } from '../dist/store/open.js';
import { REPO, WARDEN, freePort } from './processes.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const GZIP = (process.env.BENCH_GZIP ?? '1') !== '0';

function run(args, env) {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [WARDEN, ...args], { env: { ...process.env, ...env }, cwd: REPO });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolveRun(out) : reject(new Error(`warden ${args[0]} exited ${code}:\n${out}`))));
  });
}

/** A fresh embedded data directory, or a fresh database on the DATABASE_URL server. */
async function freshStore(kind) {
  if (kind === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'warden-bench-'));
    return { args: ['--data-dir', dir], env: { DATABASE_URL: '' }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const database = await createPostgresDatabase();
  return { args: [], env: { DATABASE_URL: database.url }, url: database.url, drop: database.drop };
}

async function serve(store) {
  const port = await freePort();
  const child = spawn(process.execPath, [WARDEN, 'serve', '--port', String(port), ...store.args], {
    env: { ...process.env, WARDEN_LOG_LEVEL: 'warn', ...store.env },
    cwd: REPO,
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`warden serve exited early:\n${output}`);
    if (
      await fetch(`${url}/_health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) throw new Error(`warden serve did not become healthy:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

function body(token, sender, n) {
  const now = new Date().toISOString();
  const batch = Array.from({ length: BATCH }, (_, i) => ({
    event: i % 5 === 0 ? '$pageview' : 'bench event',
    distinct_id: `user-${sender}-${i % 20}`,
    uuid: randomUUID(),
    timestamp: now,
    properties: { $lib: 'bench', sender, n, i, $current_url: 'https://example.com/pricing', plan: 'pro' },
  }));
  const json = JSON.stringify({ api_key: token, batch, sent_at: now });
  return GZIP ? gzipSync(json) : json;
}

/** CONCURRENCY senders post batches back to back for SECONDS; returns what the server accepted. */
async function load(url, token) {
  const headers = { 'content-type': 'application/json', ...(GZIP ? { 'content-encoding': 'gzip' } : {}) };
  let accepted = 0;
  let requests = 0;
  let failures = 0;
  const latencies = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, sender) => {
      for (let n = 0; performance.now() < end; n++) {
        const payload = body(token, sender, n);
        const t = performance.now();
        const res = await fetch(`${url}/batch/`, { method: 'POST', headers, body: payload });
        await res.arrayBuffer();
        latencies.push(performance.now() - t);
        requests++;
        if (res.status === 200) accepted += BATCH;
        else failures++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { accepted, requests, failures, seconds, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)] };
}

async function benchOne(kind) {
  const store = await freshStore(kind);
  let expectStored = 0;
  try {
    const boot = await run(
      ['bootstrap', '--email', 'bench@example.com', '--password', 'a long bench password', '--organization', 'Bench', '--json', ...store.args],
      store.env,
    );
    const token = JSON.parse(boot.slice(boot.indexOf('{'))).project.api_token;
    const server = await serve(store);
    try {
      const warm = await load(server.url, token); // warm-up, not counted in the rate
      const r = await load(server.url, token);
      expectStored = warm.accepted + r.accepted;
      const label = kind === 'pglite' ? 'PGlite (embedded, on disk)' : 'Postgres';
      console.log(
        `  ${label.padEnd(27)}: ${Math.round(r.accepted / r.seconds).toLocaleString('en')} events/s ` +
          `(${(r.requests / r.seconds).toFixed(0)} requests/s, ${r.accepted.toLocaleString('en')} events in ${r.seconds.toFixed(1)}s, ` +
          `latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms${r.failures ? `, ${r.failures} FAILED requests` : ''})`,
      );
      return { kind, ...r };
    } finally {
      await server.stop();
      // Every accepted event is stored (the warm-up's included).
      const db = await openStore(kind === 'pglite' ? { dataDir: store.args[1] } : { databaseUrl: store.url, dataDir: null });
      const [row] = await db.query('SELECT count(*)::int AS n FROM events');
      await db.close();
      const check = row.n === expectStored ? 'every accepted event' : `MISMATCH: ${expectStored.toLocaleString('en')} accepted`;
      console.log(`    stored ${row.n.toLocaleString('en')} events (warm-up included): ${check}`);
    }
  } finally {
    await store.drop();
  }
}

export async function benchIngestion() {
  console.log(
    `ingestion: POST /batch/, ${BATCH} events per request${GZIP ? ' (gzip)' : ''}, ${CONCURRENCY} in flight, ${SECONDS}s, server and senders on one machine`,
  );
  const results = [await benchOne('pglite')];
  if (process.env.DATABASE_URL) results.push(await benchOne('postgres'));
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchIngestion();
