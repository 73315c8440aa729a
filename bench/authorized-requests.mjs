// Benchmark 1 of issue 9: authorized HTTP requests with a scoped `phx_` key (feature_flag:read) on
// the two hot routes, GET /api/projects/:id/feature_flags/:id/ and the local-evaluation definitions
// posthog-node polls, against a bare Fastify server returning the same bytes, all in this process,
// loaded alternately by autocannon (50 connections, a few seconds per round, the load generator in a
// worker thread). Warden runs twice: with the access cache a serving node has, and without it (every
// fact read from the database), so the run shows what the cache buys. The ratios are what count.
// The embedded database, or fresh databases on the Postgres server in DATABASE_URL when it is set.
// Needs `npm run build` first (imports ../dist/).
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

/**
 * Benchmark 1's data through a Warden's API at `url`, with the bootstrap key `star`: FLAGS flags in
 * the project and a `feature_flag:read` key. Returns the key and the route of the flag loaded.
 */
export async function createBenchData(url, star, projectId) {
  const headers = { authorization: `Bearer ${star}`, 'content-type': 'application/json' };
  const flagIds = [];
  for (let i = 0; i < FLAGS; i++) {
    const filters =
      i % 2 === 0
        ? { groups: [{ properties: [], rollout_percentage: (i * 7) % 100 }] }
        : { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@example.com' }], rollout_percentage: 50 }] };
    const flag = await json(
      await fetch(`${url}/api/projects/${projectId}/feature_flags/`, { method: 'POST', headers, body: JSON.stringify({ key: `bench-${i}`, filters }) }),
    );
    flagIds.push(flag.id);
  }
  const key = await json(
    await fetch(`${url}/api/personal_api_keys/`, { method: 'POST', headers, body: JSON.stringify({ label: 'bench', scopes: ['feature_flag:read'] }) }),
  );
  return { key: key.value, flagPath: `/api/projects/${projectId}/feature_flags/${flagIds[7]}/` };
}

/** A Warden with benchmark 1's data; its two routes as targets. */
export async function startWarden({ cache }) {
  const { db, kind, drop } = await freshStore({ cache });
  const setup = await bootstrap(db, { first_name: 'Bench', email: 'bench@example.com', password: 'a long bench password', organization_name: 'Bench' });
  const { app } = await buildApp(db, { ...loadConfig({}, {}), logLevel: 'silent', port: 0 });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { key, flagPath } = await createBenchData(url, setup.personalApiKey, setup.project.id);
  const headers = { authorization: `Bearer ${key}` };
  return {
    kind,
    db,
    url,
    key,
    projectId: setup.project.id,
    flag: { url: `${url}${flagPath}`, headers },
    definitions: { url: `${url}/flags/definitions?token=${setup.project.api_token}&send_cohorts`, headers },
    close: async () => {
      await app.close();
      await drop();
    },
  };
}

/** The floor: Fastify answering the same bytes without auth, guard or database. */
export async function startBare(bodies) {
  const app = Fastify({ logger: false });
  for (const [path, body] of Object.entries(bodies)) {
    app.get(path, async (_request, reply) => reply.type('application/json; charset=utf-8').send(body));
  }
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

export async function load(target, seconds) {
  const result = await autocannon({ url: target.url, headers: target.headers, connections: CONNECTIONS, duration: seconds, workers: 1 });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx and ${result.errors} errors from ${target.url}`);
  return { rps: result.requests.average, p99: result.latency.p99 };
}

/** Every target loaded once per round, in turn, ROUNDS times; medians per target. */
export async function alternate(targets) {
  for (const target of Object.values(targets)) await load(target, 1); // warm up
  const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, target] of Object.entries(targets)) runs[name].push(await load(target, SECONDS));
  }
  return Object.fromEntries(
    Object.entries(runs).map(([name, r]) => [name, { rps: median(r.map((x) => x.rps)), p99: median(r.map((x) => x.p99)) }]),
  );
}

const text = async (target) => (await fetch(target.url, { headers: target.headers })).text();

export async function benchAuthorizedRequests() {
  const cached = await startWarden({ cache: true });
  const uncached = await startWarden({ cache: false });
  const bodies = { '/flag': await text(cached.flag), '/definitions': await text(cached.definitions) };
  const bare = await startBare(bodies);
  try {
    const m = await alternate({
      'flag, cached': cached.flag,
      'flag, no cache': uncached.flag,
      'flag, bare': { url: `${bare.url}/flag`, headers: {} },
      'definitions, cached': cached.definitions,
      'definitions, no cache': uncached.definitions,
      'definitions, bare': { url: `${bare.url}/definitions`, headers: {} },
    });
    console.log(
      `authorized requests on the ${cached.kind}: feature_flag:read key, ${CONNECTIONS} connections, ${ROUNDS}x${SECONDS}s alternating, medians ` +
        `(flag ${bodies['/flag'].length} bytes, definitions of ${FLAGS} flags ${bodies['/definitions'].length} bytes)`,
    );
    for (const route of ['flag', 'definitions']) {
      const floor = m[`${route}, bare`];
      for (const variant of ['cached', 'no cache', 'bare']) {
        const r = m[`${route}, ${variant}`];
        const ratio = variant === 'bare' ? '' : `   throughput/bare ${(r.rps / floor.rps).toFixed(2)}`;
        console.log(`  ${`${route}, ${variant}`.padEnd(22)}: ${r.rps.toFixed(0).padStart(8)} req/s   p99 ${String(r.p99).padStart(4)} ms${ratio}`);
      }
    }
    return m;
  } finally {
    await bare.close();
    await uncached.close();
    await cached.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAuthorizedRequests();
