#!/usr/bin/env node
// Where ms-async's conversion spends its time: runs `ms-async convert` once under
// `node --cpu-prof` and prints the top functions and files by self time.
// Usage: node bench/profile.mjs <input.json> [csv|ndjson] [--top N] [--keep]
//   e.g. node bench/profile.mjs .bench-cache/stock-bystore-100MB-s1-g…-compact.json csv
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    keep: { type: 'boolean', default: false },
    report: { type: 'string', default: 'stock-bystore' },
  },
});
const [input, format = 'csv'] = positionals;
if (!input) {
  console.error('usage: node bench/profile.mjs <input.json> [csv|ndjson] [--top N] [--keep] [--report alias]');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'ms-async-prof-'));
const out = join(dir, `out.${format}`);
const t0 = process.hrtime.bigint();
const r = spawnSync(
  process.execPath,
  [
    '--cpu-prof',
    '--cpu-prof-dir',
    dir,
    join(ROOT, 'bin/ms-async.js'),
    '-q',
    'convert',
    resolve(input),
    '--report',
    values.report,
    '--out',
    out,
    '--format',
    format,
  ],
  { stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 },
);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.status !== 0) {
  console.error(`convert failed (exit ${r.status})`);
  process.exit(1);
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));

// Self time per node = sum of the time deltas of the samples that landed in it.
const self = new Map();
for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map();
const byFile = new Map();
const short = (url) => {
  if (!url) return '(native/vm)';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  return p.startsWith(ROOT) ? relative(ROOT, p) : p;
};
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  if (!t) continue;
  const cf = node.callFrame;
  const where = short(cf.url);
  const key = `${cf.functionName || '(anonymous)'}  ${where}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
  byFn.set(key, (byFn.get(key) ?? 0) + t);
  byFile.set(where, (byFile.get(where) ?? 0) + t);
}
const top = Number(values.top);
const pct = (t) => `${((t / total) * 100).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms`;
console.log(`ms-async convert → ${format}: ${wall.toFixed(2)} s wall, ${(total / 1e6).toFixed(2)} s sampled\n`);
console.log('self time by function:');
for (const [k, t] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`);
console.log('\nself time by file:');
for (const [k, t] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(t)}  ${k}`);
if (values.keep) console.log(`\nprofile kept in ${join(dir, file)} (open in Chrome DevTools → Performance)`);
else rmSync(dir, { recursive: true, force: true });
