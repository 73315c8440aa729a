// Warden's benchmarks. Each prints ratios measured in one run on this machine (absolute times on
// shared machines are noisy; the ratios are what BENCHMARKS.md tracks). Run: npm run bench
import { benchDecisions } from './decisions.mjs';
import { benchKeyVerification } from './key-verification.mjs';

const only = process.argv[2];
if (!only || only === 'decisions') await benchDecisions();
if (!only || only === 'keys') await benchKeyVerification();
