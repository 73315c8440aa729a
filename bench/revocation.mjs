// Benchmark 4 of issue 9: revocation across nodes. Two `warden serve` processes on one fresh Postgres
// database; for each of REVOCATIONS keys: the key is used on node B (so B's cache holds it), deleted
// through node A, and node B is asked again and again until it answers 401. The time from sending the
// DELETE to B's first 401 is what a revoked key can still do elsewhere. Printed with the same
// figures for node A itself (which forgets at commit) and for a plain request to B, the floor of
// any measurement here. Rate limits are off: polling a revoked key is a stream of failed
// authentications, which a real client would be throttled for. Postgres only (DATABASE_URL): the embedded database has one node.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { createPostgresDatabase } from './databases.mjs';
import { CHILD_ENV, WARDEN, freePort } from './processes.mjs';

const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 200);
/** Give up on one revocation after this long: it would be a failure, not a figure. */
const GIVE_UP_MS = 5_000;
const ENV = CHILD_ENV;

async function startNode(databaseUrl) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [WARDEN, 'serve', '--database-url', databaseUrl, '--port', String(port), '--log-level', 'silent', '--rate-limits', 'false'],
    {
      env: ENV,
      stdio: 'ignore',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`warden serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/_health`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error('warden serve did not become ready');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (v) => `${v.toFixed(1)} ms`;
const describe = (values) => `p50 ${ms(percentile(values, 50))}, p99 ${ms(percentile(values, 99))}, max ${ms(Math.max(...values))}`;

/** Milliseconds from `start` until `url` answers 401 with `key` (polling back to back). */
async function untilRefused(url, key, start) {
  for (;;) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    await res.arrayBuffer();
    if (res.status === 401) return performance.now() - start;
    if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
    if (performance.now() - start > GIVE_UP_MS) throw new Error(`still accepted ${GIVE_UP_MS} ms after revocation`);
  }
}

export async function benchRevocation() {
  if (!process.env.DATABASE_URL) {
    console.log('revocation across nodes: skipped (needs DATABASE_URL: two nodes share a Postgres server)');
    return;
  }
  const database = await createPostgresDatabase();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      WARDEN,
      'bootstrap',
      '--database-url',
      database.url,
      '--email',
      'bench@example.com',
      '--password',
      'a long bench password',
      '--organization',
      'Bench',
      '--json',
    ],
    { env: ENV },
  );
  const setup = JSON.parse(stdout);
  const a = await startNode(database.url);
  const b = await startNode(database.url);
  try {
    const star = { authorization: `Bearer ${setup.personal_api_key}`, 'content-type': 'application/json' };
    const path = `/api/projects/${setup.project.id}/feature_flags/`;
    const acrossNodes = [];
    const sameNode = [];
    const afterAck = [];
    const plain = [];
    for (let i = 0; i < REVOCATIONS; i++) {
      const key = await (
        await fetch(`${a.url}/api/personal_api_keys/`, {
          method: 'POST',
          headers: star,
          body: JSON.stringify({ label: `r${i}`, scopes: ['feature_flag:read'] }),
        })
      ).json();
      for (const node of [a, b]) {
        for (let j = 0; j < 2; j++) {
          const t = performance.now();
          const res = await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${key.value}` } });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`key refused before revocation: ${res.status}`);
          if (node === b && j === 1) plain.push(performance.now() - t);
        }
      }
      const start = performance.now();
      const deleted = await fetch(`${a.url}/api/personal_api_keys/${key.id}/`, { method: 'DELETE', headers: { authorization: star.authorization } });
      if (deleted.status !== 204) throw new Error(`delete answered ${deleted.status}`);
      const acknowledged = performance.now() - start;
      // Alternate which node is asked first, so neither gets the other's head start.
      if (i % 2 === 0) {
        acrossNodes.push(await untilRefused(`${b.url}${path}`, key.value, start));
        afterAck.push(acrossNodes.at(-1) - acknowledged);
        sameNode.push(await untilRefused(`${a.url}${path}`, key.value, start));
      } else {
        sameNode.push(await untilRefused(`${a.url}${path}`, key.value, start));
        acrossNodes.push(await untilRefused(`${b.url}${path}`, key.value, start));
      }
    }
    console.log(`revocation across nodes: two warden serve processes on one Postgres, ${REVOCATIONS} keys, DELETE on node A until the first 401`);
    console.log(`  node B (another node), from the DELETE sent         : ${describe(acrossNodes)}`);
    console.log(`  node A (the node that deleted), from the DELETE sent: ${describe(sameNode)}`);
    console.log(`  node B, from the DELETE's 204 (B asked first)       : ${describe(afterAck)}`);
    console.log(`  a plain authorized GET on B                         : ${describe(plain)}`);
    console.log(`  ratio B/plain at p99: ${(percentile(acrossNodes, 99) / percentile(plain, 99)).toFixed(1)}`);
    return { acrossNodes, sameNode, plain };
  } finally {
    await a.stop();
    await b.stop();
    await database.drop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRevocation();
