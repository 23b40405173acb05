#!/usr/bin/env node
// Where a process's CPU went, from the V8 profile `--cpu-prof` wrote (the shop writes one per
// process with SHOP_PROFILE_DIR set): self time by package or Node module, then by function.
// usage: node scripts/profile-summary.mjs <file.cpuprofile> [functions shown, default 25]
import { readFileSync } from 'node:fs';

const [file, shown = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node scripts/profile-summary.mjs <file.cpuprofile> [functions shown]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));

/** Microseconds of self time per profile node: each sample's delta goes to the node it hit. */
const selfTime = new Map();
for (const [index, id] of profile.samples.entries()) {
  selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0));
}

const where = (url, name) => {
  if (url.includes('node_modules/')) return url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1');
  if (url.startsWith('node:')) return url;
  if (url === '') return name; // (garbage collector), (program), native calls
  return url.replace(/.*\/(packages|apps)\/([^/]+)\/.*/, '$1/$2');
};
const byGroup = new Map();
const byFunction = new Map();
let total = 0;
for (const [id, micros] of selfTime) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  total += micros;
  const group = where(url, functionName);
  byGroup.set(group, (byGroup.get(group) ?? 0) + micros);
  const name = `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/.*\/(packages|apps)\//, '$1/')}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
}
const idle = byGroup.get('(idle)') ?? 0;
const busy = total - idle;
byGroup.delete('(idle)');
console.log(`${file}: ${(total / 1e6).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy`);
const print = (title, entries, limit) => {
  console.log(title);
  for (const [name, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
    console.log(
      `${(micros / 1e3).toFixed(0).padStart(8)} ms ${((100 * micros) / busy).toFixed(1).padStart(5)}%  ${name}`,
    );
  }
};
print('busy time by package or module:', byGroup, 15);
print(
  'busy time by function:',
  [...byFunction].filter(([name]) => !name.startsWith('(idle)')),
  Number(shown),
);
