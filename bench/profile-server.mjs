// Serves benchmark 1's Warden for a CPU profile of the load alone (not its start): prints the
// targets (four routes) as JSON, profiles from then on, and on SIGINT writes PROFILE (a .cpuprofile for Chrome's
// DevTools or any cpuprofile reader) and exits. BENCH_CACHE=false serves without the access cache.
//   node bench/profile-server.mjs > targets.json &   then load a target, then kill -INT it.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startWarden } from './authorized-requests.mjs';

const PROFILE = process.env.PROFILE ?? 'warden.cpuprofile';
const warden = await startWarden({ cache: process.env.BENCH_CACHE !== 'false' });
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
console.log(JSON.stringify(warden.targets));
process.on('SIGINT', async () => {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(PROFILE, JSON.stringify(profile));
  await warden.close();
  process.exit(0);
});
