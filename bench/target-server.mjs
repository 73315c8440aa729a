// One server for the HTTP benchmarks, run as its own process (so it can be pinned to a core):
// TARGET=warden (benchmark 1's Warden, src/http on the embedded database, or Postgres with
// DATABASE_URL) or TARGET=bare (Fastify answering `{id,name,ok}`). Prints its targets as one JSON
// line once it serves; SIGTERM closes it.
import { startBare, startWarden } from './authorized-requests.mjs';

const server = process.env.TARGET === 'bare' ? await startBare() : await startWarden({ cache: process.env.BENCH_CACHE !== 'false' });
console.log(JSON.stringify(server.targets));
process.on('SIGTERM', async () => {
  await server.close();
  process.exit(0);
});
