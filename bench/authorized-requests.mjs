// Local-evaluation definitions served by Warden versus a bare Fastify server returning the same
// JSON as a constant, both in this process, loaded alternately by autocannon (50 connections, a
// few seconds per round, the load generator in a worker thread). The ratio is what counts: it is
// the cost of Warden's authentication, guard, resource gate and query over the bare HTTP floor.
// Warden runs on the embedded database, or on a fresh database of the Postgres server in
// DATABASE_URL when it is set. Needs `npm run build` first (imports ../dist/).
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { loadConfig } from '../dist/config.js';
import { bootstrap } from '../dist/domain/signup.js';
import { buildApp } from '../dist/http/app.js';
import { freshStore } from './databases.mjs';
import { median } from './timing.mjs';

const CONNECTIONS = 50;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const FLAGS = 20;

async function json(res) {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
}


/** A Warden with one project holding FLAGS flags, and a key that may read them. */
async function startWarden() {
  const { db, kind, drop } = await freshStore();
  const setup = await bootstrap(db, { first_name: 'Bench', email: 'bench@example.com', password: 'a long bench password', organization_name: 'Bench' });
  const { app } = await buildApp(db, { ...loadConfig({}, {}), logLevel: 'silent', port: 0 });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const star = { authorization: `Bearer ${setup.personalApiKey}`, 'content-type': 'application/json' };
  for (let i = 0; i < FLAGS; i++) {
    const filters =
      i % 2 === 0
        ? { groups: [{ properties: [], rollout_percentage: (i * 7) % 100 }] }
        : { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }], rollout_percentage: 50 }] };
    await json(await fetch(`${url}/api/projects/${setup.project.id}/feature_flags/`, { method: 'POST', headers: star, body: JSON.stringify({ key: `bench-${i}`, filters }) }));
  }
  const key = await json(
    await fetch(`${url}/api/personal_api_keys/`, { method: 'POST', headers: star, body: JSON.stringify({ label: 'bench', scopes: ['feature_flag:read'] }) }),
  );
  return {
    kind,
    url: `${url}/flags/definitions?token=${setup.project.api_token}&send_cohorts`,
    headers: { authorization: `Bearer ${key.value}` },
    close: async () => {
      await app.close();
      await drop();
    },
  };
}

/** The floor: Fastify answering the same bytes without auth, guard or database. */
async function startBare(body) {
  const app = Fastify({ logger: false });
  app.get('/flags/definitions', async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `${url}/flags/definitions`, headers: {}, close: () => app.close() };
}

async function load(target, seconds) {
  const result = await autocannon({ url: target.url, headers: target.headers, connections: CONNECTIONS, duration: seconds, workers: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx and ${result.errors} errors from ${target.url}`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

export async function benchLocalEvaluation() {
  const warden = await startWarden();
  const body = await (await fetch(warden.url, { headers: warden.headers })).text();
  const bare = await startBare(body);
  try {
    await load(warden, 1); // warm up both
    await load(bare, 1);
    const w = [];
    const b = [];
    for (let round = 0; round < ROUNDS; round++) {
      w.push(await load(warden, SECONDS));
      b.push(await load(bare, SECONDS));
    }
    const wardenRps = median(w.map((r) => r.rps));
    const bareRps = median(b.map((r) => r.rps));
    const wardenP99 = median(w.map((r) => r.p99));
    const bareP99 = median(b.map((r) => r.p99));
    console.log(`local evaluation definitions on the ${warden.kind} (${FLAGS} flags, ${body.length} bytes), ${CONNECTIONS} connections, ${ROUNDS}x${SECONDS}s alternating, medians`);
    console.log(`  Warden /flags/definitions : ${wardenRps.toFixed(0).padStart(8)} req/s   p99 ${String(wardenP99).padStart(4)} ms`);
    console.log(`  bare Fastify, same JSON   : ${bareRps.toFixed(0).padStart(8)} req/s   p99 ${String(bareP99).padStart(4)} ms`);
    console.log(`  ratio Warden/bare: throughput ${(wardenRps / bareRps).toFixed(2)}, p99 ${(wardenP99 / Math.max(bareP99, 1)).toFixed(2)}`);
    return { wardenRps, bareRps, wardenP99, bareP99 };
  } finally {
    await bare.close();
    await warden.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLocalEvaluation();
