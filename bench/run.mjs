// Warden's benchmarks. Each prints ratios measured in one run on this machine (absolute times on
// shared machines are noisy; the ratios are what BENCHMARKS.md tracks).
// Run all: npm run bench. One: npm run bench -- decisions | keys | authorized-requests | key-networks | latency | workers | ingestion | activity-log | … | startup | soak
import { benchActivityLog } from './activity-log.mjs';
import { benchDecisions } from './decisions.mjs';
import { benchIngestion } from './ingestion.mjs';
import { benchKeyVerification } from './key-verification.mjs';
import { benchKeyNetworks } from './key-networks.mjs';
import { benchAuthorizedRequests } from './authorized-requests.mjs';
import { benchLatency } from './latency.mjs';
import { benchWorkers } from './workers.mjs';
import { benchStartup } from './startup.mjs';
import { benchRevocation } from './revocation.mjs';
import { benchScale } from './scale.mjs';
import { benchSoak } from './soak.mjs';

const benches = {
  decisions: benchDecisions,
  keys: benchKeyVerification,
  'authorized-requests': benchAuthorizedRequests,
  'key-networks': benchKeyNetworks,
  latency: benchLatency,
  workers: benchWorkers,
  ingestion: benchIngestion,
  'activity-log': benchActivityLog,
  startup: benchStartup,
  revocation: benchRevocation,
  scale: benchScale,
  soak: benchSoak,
};

const only = process.argv[2];
if (only && !benches[only]) {
  console.error(`unknown benchmark "${only}"; one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (!only || only === name) await run();
}
