// Summarizes a .cpuprofile (bench/profile-server.mjs writes one): where the samples' self time went,
// by source (a package in node_modules, a Warden file in dist/, node's internals) and by function.
//   node bench/profile-summary.mjs warden.cpuprofile [top] [requests served while profiling]
// With the request count it also prints each source's self time per request (µs), from the
// samples' own timestamps.
import { readFileSync } from 'node:fs';

const [file = 'warden.cpuprofile', top = '25', requests] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
const selfUs = new Map();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + 1);
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
});
const total = profile.samples.length;

function source(url) {
  if (!url) return '(native/gc/idle)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `warden ${dist[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.split('/').slice(-2).join('/');
}

const bySource = new Map();
const usBySource = new Map();
const byFunction = new Map();
for (const [id, count] of self) {
  const node = byId.get(id);
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
    bySource.set(name, (bySource.get(name) ?? 0) + count);
    continue;
  }
  const src = source(url);
  bySource.set(src, (bySource.get(src) ?? 0) + count);
  usBySource.set(src, (usBySource.get(src) ?? 0) + selfUs.get(id));
  const key = `${name} (${src}:${lineNumber + 1})`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + count);
}
const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
const busy = total - (bySource.get('(idle)') ?? 0);
console.log(`${total} samples, ${pct(busy)} busy`);
console.log('\nself time by source:');
for (const [k, v] of [...bySource].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${pct(v)}  ${k}`);
console.log('\nself time by function:');
for (const [k, v] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) console.log(`  ${pct(v)}  ${k}`);
if (requests) {
  console.log(`\nself time per request (${requests} requests), by source:`);
  for (const [k, v] of [...usBySource].sort((a, b) => b[1] - a[1]).slice(0, Number(top)))
    console.log(`  ${(v / Number(requests)).toFixed(2).padStart(7)} µs  ${k}`);
}
