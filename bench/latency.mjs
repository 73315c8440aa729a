// The latency table users compare vendors by (issue 22): for the four routes of benchmark 1,
// p50/p95/p99 at a fixed offered rate (autocannon `overallRate`, 10 connections) of 500 and 2,000
// req/s, and the highest rate of a ladder that keeps p99 <= 10 ms (and is actually served: at least
// 90% of the offered rate; the ladder ends at two steps in a row that do not), on the embedded
// database and, with DATABASE_URL, on Postgres. The server is its own process pinned to core 0,
// autocannon here on the last core (bench/pinning.mjs).
// Latencies are every response's own time (autocannon's 'response' events), percentiles exact.
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { ROUTES } from './authorized-requests.mjs';
import { pinningNote, pinSelfToLoadCore, startChild } from './pinning.mjs';

const SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 2);
const CONNECTIONS = 10;
const FIXED = [500, 2000];
const LADDER = [500, 1000, 2000, 3000, 4000, 6000, 8000, 12000, 16000];
const P99_LIMIT_MS = 10;

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One run at `rate` req/s offered: served rate and p50/p95/p99 in ms. */
async function atRate(target, rate) {
  const times = [];
  const instance = autocannon({ ...target, connections: CONNECTIONS, overallRate: rate, duration: SECONDS });
  instance.on('response', (_client, _status, _bytes, responseTime) => times.push(responseTime));
  const result = await instance;
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${result.non2xx} non-2xx and ${result.errors} errors from ${target.url}`);
  times.sort((a, b) => a - b);
  return { served: times.length / SECONDS, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99) };
}

const ms = (v) => (v < 10 ? v.toFixed(1) : v.toFixed(0));

async function tableFor(env) {
  const server = await startChild(join(import.meta.dirname, 'target-server.mjs'), { TARGET: 'warden', ...env });
  const rows = [];
  try {
    const { kind, ...routes } = server.value;
    for (const [name, target] of Object.entries(routes)) {
      await atRate(target, 500); // warm up
      const fixed = {};
      for (const rate of FIXED) fixed[rate] = await atRate(target, rate);
      // The highest rate of the ladder that kept the limit; one step over it is not the end (on a
      // shared machine one pause can spoil a step's p99), two in a row are.
      let capacity = 0;
      let missed = 0;
      for (const rate of LADDER) {
        const r = fixed[rate] ?? (await atRate(target, rate));
        if (r.p99 > P99_LIMIT_MS || r.served < 0.9 * rate) {
          if (++missed === 2) break;
          continue;
        }
        missed = 0;
        capacity = rate;
      }
      rows.push({ name, fixed, capacity });
    }
    console.log(`\n${kind}: ${CONNECTIONS} connections, ${SECONDS} s per rate; ${pinningNote()}`);
    console.log('| route | p50 / p95 / p99 at 500 req/s | p50 / p95 / p99 at 2,000 req/s | highest rate with p99 <= 10 ms |\n|---|---|---|---|');
    for (const { name, fixed, capacity } of rows) {
      const cell = (r) => `${ms(r.p50)} / ${ms(r.p95)} / ${ms(r.p99)} ms${r.served < 0.9 * r.offered ? ' (not sustained)' : ''}`;
      for (const [rate, r] of Object.entries(fixed)) r.offered = Number(rate);
      console.log(
        `| ${ROUTES[name]} | ${cell(fixed[500])} | ${cell(fixed[2000])} | ${capacity ? `${capacity.toLocaleString('en-US')} req/s` : `< ${LADDER[0]} req/s`} |`,
      );
    }
  } finally {
    await server.stop();
  }
  return rows;
}

/** The machine's own hiccups: the longest event-loop delay an idle Node process sees in `seconds`. */
async function idleEventLoopDelayMs(seconds = 3) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  histogram.disable();
  return histogram.max / 1e6;
}

export async function benchLatency() {
  pinSelfToLoadCore();
  console.log(`latency at a fixed offered rate, ${new Date().toISOString().slice(0, 10)}`);
  // A p99 of a few milliseconds means little on a machine that stalls an idle process as long.
  console.log(`this machine: an idle Node process saw event-loop delays up to ${ms(await idleEventLoopDelayMs())} ms in 3 s`);
  const { DATABASE_URL } = process.env;
  const embedded = await tableFor({ DATABASE_URL: '' });
  const postgres = DATABASE_URL ? await tableFor({ DATABASE_URL }) : undefined;
  if (!DATABASE_URL) console.log('(Postgres: set DATABASE_URL)');
  return { embedded, postgres };
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLatency();
