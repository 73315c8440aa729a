/** Runs fn `iterations` times and returns nanoseconds per call. */
export async function nsPerCall(fn, iterations) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn(i);
  return Number(process.hrtime.bigint() - start) / iterations;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Measures a and b in alternating rounds (so load on the machine hits both alike) and returns the
 * median per-call cost of each.
 */
export async function compare(a, b, { rounds = 7, iterations = 1000 } = {}) {
  const as = [];
  const bs = [];
  await nsPerCall(a, Math.ceil(iterations / 10)); // warm up
  await nsPerCall(b, Math.ceil(iterations / 10));
  for (let r = 0; r < rounds; r++) {
    as.push(await nsPerCall(a, iterations));
    bs.push(await nsPerCall(b, iterations));
  }
  return { a: median(as), b: median(bs) };
}
