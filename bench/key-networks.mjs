// Keys bound to networks and rates (docs/key-networks.md): does a key with address ranges (and one
// with a rate limit) cost more per request than a plain key? The same route, GET /api/projects/:id/,
// with three `*` keys of one user: one without bounds, one with eight ranges (IPv4 and IPv6; the
// loopback client matches the last one, the worst case), and one with a rate of 1,000,000 a minute
// (counted, never reached). One Warden in this process (the embedded database, or a fresh database
// on DATABASE_URL's server) with its access cache; the targets are loaded in turn, ROUNDS times, and
// the medians compared: the ratios should stay near 1. Needs `npm run build` first (imports ../dist/).
// Run: npm run bench -- key-networks (BENCH_SECONDS, BENCH_ROUNDS as for authorized-requests).
import { loadConfig } from '../dist/config.js';
import { bootstrap } from '../dist/domain/identity/signup.js';
import { buildApp } from '../dist/http/app.js';
import { alternate } from './authorized-requests.mjs';
import { freshStore } from './databases.mjs';

const RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '203.0.113.0/24', '2001:db8::/32', 'fd00::/8', '::1/128', '127.0.0.0/8'];

async function makeKey(url, star, body) {
  const res = await fetch(`${url}/api/personal_api_keys/`, {
    method: 'POST',
    headers: { authorization: `Bearer ${star}`, 'content-type': 'application/json' },
    body: JSON.stringify({ label: body.label, scopes: ['*'], ...body }),
  });
  const key = await res.json();
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(key)}`);
  return key.value;
}

export async function benchKeyNetworks() {
  const { db, kind, drop } = await freshStore({ cache: true });
  const setup = await bootstrap(db, { first_name: 'Bench', email: 'bench@example.com', password: 'a long bench password', organization_name: 'Bench' });
  const { app } = await buildApp(db, { ...loadConfig({}, {}), logLevel: 'silent', port: 0 });
  try {
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const route = `${url}/api/projects/${setup.project.id}/`;
    const plain = await makeKey(url, setup.personalApiKey, { label: 'plain' });
    const ranged = await makeKey(url, setup.personalApiKey, { label: 'ranged', allowed_ips: RANGES });
    const rated = await makeKey(url, setup.personalApiKey, { label: 'rated', rate_limit_per_minute: 1_000_000 });
    const target = (key) => ({ url: route, headers: { authorization: `Bearer ${key}` } });
    const m = await alternate({ plain: target(plain), ranged: target(ranged), rated: target(rated) });
    console.log(
      `keys bound to networks on the ${kind}, GET /api/projects/:id/, medians; one process (server and load); ${new Date().toISOString().slice(0, 10)}`,
    );
    console.log('\n| key | req/s | ratio to the plain key | p99 |\n|---|---|---|---|');
    const row = (label, r) => `| ${label} | ${Math.round(r.rps).toLocaleString('en-US')} | ${(r.rps / m.plain.rps).toFixed(2)} | ${r.p99} ms |`;
    console.log(row('`*` key, no bounds', m.plain));
    console.log(row(`\`*\` key with ${RANGES.length} ranges (matched by the last)`, m.ranged));
    console.log(row('`*` key with a rate limit (never reached)', m.rated));
    return m;
  } finally {
    await app.close();
    await drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchKeyNetworks();
