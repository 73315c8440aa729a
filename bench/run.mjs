// Warden's benchmarks. Each prints ratios measured in one run on this machine (absolute times on
// shared machines are noisy; the ratios are what BENCHMARKS.md tracks).
// Run all: npm run bench. One: npm run bench -- decisions | keys | local-evaluation | ingestion | activity-log
import { benchActivityLog } from './activity-log.mjs';
import { benchDecisions } from './decisions.mjs';
import { benchIngestion } from './ingestion.mjs';
import { benchKeyVerification } from './key-verification.mjs';
import { benchLocalEvaluation } from './local-evaluation.mjs';

const benches = {
  decisions: benchDecisions,
  keys: benchKeyVerification,
  'local-evaluation': benchLocalEvaluation,
  ingestion: benchIngestion,
  'activity-log': benchActivityLog,
};

const only = process.argv[2];
if (only && !benches[only]) {
  console.error(`unknown benchmark "${only}"; one of: ${Object.keys(benches).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(benches)) {
  if (!only || only === name) await run();
}
