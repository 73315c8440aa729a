// Benchmark 1 of issues 9 and 22: what an authorized request costs next to a bare Fastify reply.
// Four routes, as issue 22's table has them: GET /api/projects/:id/ with the bootstrap key, GET
// .../feature_flags/:id/ with a `feature_flag:read` key, GET /api/feature_flag/local_evaluation/
// (the definitions posthog-node polls) and POST /flags/?v=2 (remote evaluation with the project
// token), against bare Fastify answering `{id,name,ok}`. Each server is its own process pinned to
// core 0 and autocannon runs here pinned to the last core (bench/pinning.mjs; unpinned where the
// machine has one core); every target is loaded in turn, ROUNDS times, and the medians compared.
// The embedded database, or a fresh database on the Postgres server in DATABASE_URL when it is set.
// Needs `npm run build` first (imports ../dist/). BENCH_COMPARE=<another built checkout> (with these
// bench files) also loads that checkout's Warden in the same rounds: a before/after from one run.
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { loadConfig } from '../dist/config.js';
import { bootstrap } from '../dist/domain/identity/signup.js';
import { buildApp } from '../dist/http/app.js';
import { addSecurityHeaders } from '../dist/http/security-headers.js';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freshStore } from './databases.mjs';
import { pinningNote, pinSelfToLoadCore, startChild } from './pinning.mjs';
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

/** A Warden with benchmark 1's data; its four routes as targets. */
export async function startWarden({ cache }) {
  const { db, kind, drop } = await freshStore({ cache });
  const setup = await bootstrap(db, { first_name: 'Bench', email: 'bench@example.com', password: 'a long bench password', organization_name: 'Bench' });
  const { app } = await buildApp(db, { ...loadConfig({}, {}), logLevel: 'silent', port: 0 });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const { key, flagPath } = await createBenchData(url, setup.personalApiKey, setup.project.id);
  const headers = { authorization: `Bearer ${key}` };
  const token = setup.project.api_token;
  const targets = {
    kind,
    project: { url: `${url}/api/projects/${setup.project.id}/`, headers: { authorization: `Bearer ${setup.personalApiKey}` } },
    flag: { url: `${url}${flagPath}`, headers },
    definitions: { url: `${url}/api/feature_flag/local_evaluation/?token=${token}&send_cohorts`, headers },
    flags: {
      url: `${url}/flags/?v=2`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, distinct_id: 'bench-user-1', person_properties: { email: 'someone@example.com' } }),
    },
  };
  return {
    kind,
    db,
    url,
    key,
    projectId: setup.project.id,
    ...targets,
    targets,
    close: async () => {
      await app.close();
      await drop();
    },
  };
}

/**
 * The floor: Fastify answering `{id,name,ok}` without auth, guard or database. Also, as references
 * (no auth, no database either), Fastify sending a reply of Warden's shape: its headers and a body of
 * the size of the project route's (400 bytes) or /flags' (4,500 bytes), so the table shows how much of
 * the distance to the floor is the reply itself.
 */
export async function startBare() {
  const app = Fastify({ logger: false });
  app.get('/', async () => ({ id: 1, name: 'bench', ok: true }));
  for (const size of [400, 4500]) {
    const body = JSON.stringify({ text: 'x'.repeat(size - 11) });
    // Under /api/, so Warden's own addSecurityHeaders gives it the API set (no-store included).
    app.get(`/api/shaped/${size}`, async (request, reply) => {
      reply.header('x-request-id', randomUUID()).type('application/json; charset=utf-8');
      addSecurityHeaders(request, reply);
      return body;
    });
  }
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    targets: {
      bare: { url: `${url}/`, headers: {} },
      shaped400: { url: `${url}/api/shaped/400`, headers: {} },
      shaped4500: { url: `${url}/api/shaped/4500`, headers: {} },
    },
    close: () => app.close(),
  };
}

/**
 * Loads a target for `seconds`. A target may carry `cpu` (the serving process's CPU time so far, µs:
 * startChild's cpuMicros): then the answer also has the server's CPU time per request.
 */
export async function load(target, seconds, connections = CONNECTIONS) {
  const { cpu, ...request } = target;
  const before = cpu?.();
  const result = await autocannon({ ...request, connections, duration: seconds });
  const after = cpu?.();
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx and ${result.errors} errors from ${target.url}`);
  const cpuPerRequest = before !== undefined && after !== undefined && result.requests.total > 0 ? (after - before) / result.requests.total : undefined;
  return { rps: result.requests.average, p99: result.latency.p99, cpuPerRequest };
}

/** Every target loaded once per round, in turn, ROUNDS times; medians per target. */
export async function alternate(targets, { rounds = ROUNDS, seconds = SECONDS } = {}) {
  for (const target of Object.values(targets)) await load(target, 1); // warm up
  const runs = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, target] of Object.entries(targets)) runs[name].push(await load(target, seconds));
  }
  const cpuMedian = (r) => (r.every((x) => x.cpuPerRequest !== undefined) ? median(r.map((x) => x.cpuPerRequest)) : undefined);
  return Object.fromEntries(
    Object.entries(runs).map(([name, r]) => [name, { rps: median(r.map((x) => x.rps)), p99: median(r.map((x) => x.p99)), cpuPerRequest: cpuMedian(r) }]),
  );
}

export const ROUTES = {
  project: 'GET /api/projects/:id/ with the bootstrap key',
  flag: 'GET .../feature_flags/:id/ with a `feature_flag:read` key',
  definitions: 'GET /api/feature_flag/local_evaluation/',
  flags: 'POST /flags/?v=2 (project token, remote evaluation)',
};

/** Reference rows: bare Fastify sending replies of Warden's shape (no auth, no database). */
const SHAPED = {
  shaped400: "reference: bare Fastify, Warden's headers, 400-byte body",
  shaped4500: "reference: bare Fastify, Warden's headers, 4,500-byte body",
};

const thousands = (n) => Math.round(n).toLocaleString('en-US');

export async function benchAuthorizedRequests() {
  pinSelfToLoadCore();
  const script = join(import.meta.dirname, 'target-server.mjs');
  const bare = await startChild(script, { TARGET: 'bare' });
  const warden = await startChild(script, { TARGET: 'warden' });
  const compare = process.env.BENCH_COMPARE ? await startChild(join(process.env.BENCH_COMPARE, 'bench/target-server.mjs'), { TARGET: 'warden' }) : undefined;
  try {
    const withCpu = (targets, child) => Object.fromEntries(Object.entries(targets).map(([name, t]) => [name, { ...t, cpu: child.cpuMicros }]));
    const { kind, ...routes } = warden.value;
    const before = compare ? withCpu(Object.fromEntries(Object.keys(ROUTES).map((name) => [`${name} (compared)`, compare.value[name]])), compare) : {};
    const m = await alternate({ ...withCpu(bare.value, bare), ...withCpu(routes, warden), ...before });
    console.log(
      `authorized requests on the ${kind}, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s, medians; ${pinningNote()}; ${new Date().toISOString().slice(0, 10)}`,
    );
    // The server's CPU time per request (from /proc) is the steadier figure on a shared machine: the
    // time a server waits for its core is not in it. Its ratio is bare Fastify's CPU over the route's.
    const cpu = (r) =>
      r.cpuPerRequest === undefined ? 'n/a | n/a' : `${r.cpuPerRequest.toFixed(1)} µs | ${(m.bare.cpuPerRequest / r.cpuPerRequest).toFixed(2)}`;
    const row = (label, r) => `| ${label} | ${thousands(r.rps)} | ${(r.rps / m.bare.rps).toFixed(2)} | ${r.p99} ms | ${cpu(r)} |`;
    console.log(
      `\n| route (${CONNECTIONS} connections) | req/s | ratio to bare Fastify | p99 | server CPU per request | CPU ratio |\n|---|---|---|---|---|---|`,
    );
    console.log(row('bare Fastify `{id,name,ok}`', m.bare));
    for (const [name, label] of Object.entries(SHAPED)) console.log(row(label, m[name]));
    for (const [name, label] of Object.entries(ROUTES)) console.log(row(label, m[name]));
    if (compare) {
      console.log(`\nthe same rounds, ${process.env.BENCH_COMPARE}'s Warden (ratio to the same bare Fastify) against this one's:`);
      console.log(
        '| route | compared: req/s, ratio, p99, CPU | this: req/s, ratio, p99, CPU | this / compared (req/s) | compared / this (CPU) |\n|---|---|---|---|---|',
      );
      for (const [name, label] of Object.entries(ROUTES)) {
        const [a, b] = [m[`${name} (compared)`], m[name]];
        const cell = (r) => `${thousands(r.rps)}, ${(r.rps / m.bare.rps).toFixed(2)}, ${r.p99} ms, ${r.cpuPerRequest?.toFixed(1) ?? 'n/a'} µs`;
        const cpuGain = a.cpuPerRequest !== undefined && b.cpuPerRequest !== undefined ? (a.cpuPerRequest / b.cpuPerRequest).toFixed(2) : 'n/a';
        console.log(`| ${label} | ${cell(a)} | ${cell(b)} | ${(b.rps / a.rps).toFixed(2)} | ${cpuGain} |`);
      }
    }
    return m;
  } finally {
    await compare?.stop();
    await warden.stop();
    await bare.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchAuthorizedRequests();
