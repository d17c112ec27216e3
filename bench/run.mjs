#!/usr/bin/env node
// npm run bench [-- --sizes 100,1000 --repeat 3 --quick --write-readme …]
//
// ms-async's converter side by side with its peers (naive JSON.parse, stream-json, jq) and the
// I/O ceiling (cat, gzip -dc), on the same sandbox-generated stock-by-store files, every tool a
// whole child process measured from outside. Issue #5 is the spec; bench/README.md explains the
// method. Results: printed, written to bench/RESULTS.md, and with --write-readme put between the
// <!-- bench:start --> / <!-- bench:end --> markers of README.md.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { countRecords } from './lib/count.mjs';
import { loadGenerator, prepareInputs, pruneStale, REPORT } from './lib/inputs.mjs';
import { killActive, median, runTimed, TIME_BIN } from './lib/measure.mjs';
import { renderMarkdown, evaluateTargets } from './lib/report.mjs';
import { sandboxAvailable, startSandbox } from './lib/sandbox.mjs';
import { detectMsAsync, toolVersion, which } from './lib/tools.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = `usage: npm run bench -- [options]
  --sizes LIST         target sizes of the compact input in MB (10^6 bytes), default 100,1000
  --quick              one ~20 MB size (a quick try of the whole harness)
  --repeat N           runs per measurement; the median is reported (default 3, at least 1)
  --startup-repeat N   runs of each start-up command (default 10)
  --seed N             generator seed (default 1)
  --timeout S          per-child timeout in seconds (default 900)
  --only LIST          groups to run: io,ms-async,naive,stream-json,jq,export,download,e2e,startup,xlsx (default all)
  --xlsx-sizes LIST    sizes at which the xlsx group runs (default: every size)
  --stream-json-variant V   stream-json peer configuration (default fast; see bench/README.md)
  --cache DIR          where inputs and outputs go (default .bench-cache)
  --results FILE       where the Markdown goes (default bench/RESULTS.md)
  --write-readme       also replace the block between <!-- bench:start --> and <!-- bench:end --> in README.md
  --readme FILE        the README to update (default README.md)
  --keep-outputs       keep the converted files in <cache>/out
  --from-json FILE     measure nothing: render a saved .bench-cache/results-*.json again
  --keep-extra-ca-certs  run the tools with NODE_EXTRA_CA_CERTS when it is set (default: without)
  -h, --help`;

const { values: opt } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000' },
    quick: { type: 'boolean', default: false },
    repeat: { type: 'string', default: '3' },
    'startup-repeat': { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    timeout: { type: 'string', default: '900' },
    only: { type: 'string' },
    'xlsx-sizes': { type: 'string' },
    'stream-json-variant': { type: 'string', default: 'fast' },
    cache: { type: 'string', default: join(ROOT, '.bench-cache') },
    results: { type: 'string', default: join(ROOT, 'bench/RESULTS.md') },
    'write-readme': { type: 'boolean', default: false },
    readme: { type: 'string', default: join(ROOT, 'README.md') },
    'from-json': { type: 'string' },
    'keep-outputs': { type: 'boolean', default: false },
    'keep-extra-ca-certs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
const positiveInt = (name, text, min = 1) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be an integer ≥ ${min}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const sizes = opt.quick ? [20] : opt.sizes.split(',').map((s) => Number(s.trim()));
if (sizes.some((s) => !Number.isFinite(s) || s <= 0)) {
  console.error(`--sizes takes positive numbers of MB, e.g. 100,1000\n${USAGE}`);
  process.exit(2);
}
// Some machines set NODE_EXTRA_CA_CERTS (this VM does, for its proxy). Node parses that CA bundle
// at every start, whatever the script: ~0.05 s here, paid by every Node row and by no curl row,
// for TLS the bench never uses (the sandbox is plain HTTP on loopback). The tools run without it,
// as on a machine that does not set it; the start-up group measures `node -e 0` with it too.
const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS || undefined;
const dropCaCerts = extraCaCerts !== undefined && !opt['keep-extra-ca-certs'];
if (dropCaCerts) delete process.env.NODE_EXTRA_CA_CERTS;
const repeat = positiveInt('repeat', opt.repeat);
const startupRepeat = positiveInt('startup-repeat', opt['startup-repeat']);
const seed = positiveInt('seed', opt.seed, 0);
const timeoutS = positiveInt('timeout', opt.timeout);
const GROUPS = ['io', 'ms-async', 'naive', 'stream-json', 'jq', 'export', 'download', 'e2e', 'startup', 'xlsx'];
const xlsxSizes = opt['xlsx-sizes'] ? new Set(opt['xlsx-sizes'].split(',').map((x) => Number(x.trim()))) : undefined;
const only = new Set(opt.only ? opt.only.split(',').map((s) => s.trim()) : GROUPS);
for (const g of only) {
  if (!GROUPS.includes(g)) {
    console.error(`--only: unknown group "${g}" (${GROUPS.join(', ')})`);
    process.exit(2);
  }
}
const cacheDir = resolve(opt.cache);
const outDir = join(cacheDir, 'out');
mkdirSync(outDir, { recursive: true });

const log = (line) => process.stderr.write(`[bench] ${line}\n`);
const node = process.execPath;
const cliBin = join(ROOT, 'bin/ms-async.js');
const peer = (name) => join(ROOT, 'bench/peers', name);

// ---------------------------------------------------------------------------------------------
// What can run here

const gen = await loadGenerator(ROOT, cacheDir);
pruneStale(cacheDir, gen.version, log);
const sample = join(cacheDir, `sample-${REPORT}-s${seed}-g${gen.version}.json`);
if (!existsSync(sample)) await gen.writeResultFile(sample, { report: REPORT, rows: 200, seed });
const ms = detectMsAsync(ROOT, { sample, outDir, report: REPORT });
const jqPath = which('jq');
const notes = [];
if (!ms.convert.ok) notes.push(`ms-async convert rows skipped: ${ms.convert.reason}.`);
if (!ms.export.ok) notes.push(`export --sandbox rows skipped: ${ms.export.reason}.`);
if (!jqPath) notes.push('jq rows skipped: jq is not on PATH.');
const sbx = sandboxAvailable(ROOT);
if (only.has('download') && !sbx.ok) notes.push(`download rows skipped: ${sbx.reason}.`);
if (!TIME_BIN) notes.push('/usr/bin/time is missing: no peak RSS.');
for (const n of notes) log(n);

// ---------------------------------------------------------------------------------------------
// Jobs: one per (tool, input, format) and size. `argv(out)` builds the command line.

function jobsFor(inputs, sandboxUrl) {
  const { compact, pretty, gzip, sizeMB, rows } = inputs;
  const jobs = [];
  const add = (job) => jobs.push({ sizeMB, rows, runs: [], ...job });
  if (only.has('io')) {
    add({
      group: 'io',
      tool: 'cat',
      input: 'compact',
      format: '-',
      bytes: compact.bytes,
      cmd: 'cat',
      argv: () => [compact.path],
    });
    if (gzip)
      add({
        group: 'io',
        tool: 'gzip -dc',
        input: 'compact.gz',
        format: '-',
        bytes: compact.bytes,
        cmd: 'gzip',
        argv: () => ['-dc', gzip.path],
      });
  }
  for (const format of ['csv', 'ndjson']) {
    if (only.has('ms-async') && ms.convert.ok) {
      for (const [label, file] of [
        ['compact', compact],
        ['pretty', pretty],
      ]) {
        add({
          group: 'ms-async',
          tool: 'ms-async convert',
          input: label,
          format,
          bytes: file.bytes,
          cmd: node,
          argv: (out) => [cliBin, '-q', 'convert', file.path, '--report', REPORT, '--out', out, '--format', format],
        });
      }
    }
    if (only.has('naive')) {
      add({
        group: 'naive',
        tool: 'naive (JSON.parse)',
        input: 'compact',
        format,
        bytes: compact.bytes,
        cmd: node,
        argv: (out) => [peer('naive.mjs'), compact.path, out, format, REPORT],
      });
    }
    if (only.has('stream-json')) {
      add({
        group: 'stream-json',
        tool: 'stream-json',
        input: 'compact',
        format,
        bytes: compact.bytes,
        cmd: node,
        argv: (out) => [peer('stream-json.mjs'), compact.path, out, format, REPORT, opt['stream-json-variant']],
      });
    }
    if (format === 'ndjson' && only.has('jq') && jqPath) {
      add({
        group: 'jq',
        tool: "jq -c '.rows[]'",
        input: 'compact',
        format,
        bytes: compact.bytes,
        cmd: jqPath,
        argv: () => ['-c', '.rows[]', compact.path],
        stdoutToOut: true,
      });
    }
    if (only.has('export') && ms.export.ok) {
      add({
        group: 'export',
        tool: 'ms-async export --sandbox',
        input: 'sandbox',
        format,
        bytes: compact.bytes,
        cmd: node,
        argv: (out) => [
          cliBin,
          '-q',
          'export',
          REPORT,
          '--sandbox',
          ms.export.rowsFlag,
          String(rows),
          ...(ms.export.seedFlag ? [ms.export.seedFlag, String(seed)] : []),
          '--out',
          out,
          '--format',
          format,
        ],
      });
    }
    if (sandboxUrl) {
      add({
        group: 'download',
        tool: 'ms-async export --reuse',
        input: 'sandbox (ext.)',
        format,
        bytes: compact.bytes,
        cmd: node,
        argv: (out) => [
          cliBin,
          '-q',
          '--base-url',
          sandboxUrl,
          '--token',
          'bench',
          'export',
          REPORT,
          '--reuse',
          '--out',
          out,
          '--format',
          format,
        ],
      });
    }
  }
  // XLSX (issue 8): ms-async's writer (sheet XML and zip of its own) against exceljs's
  // streaming WorkbookWriter; `records only` is the exceljs peer's record source alone, so that
  // the library's own cost is the difference. CSV is the reference the target is a ratio of.
  if (only.has('xlsx') && (!xlsxSizes || xlsxSizes.has(sizeMB))) {
    if (ms.convert.ok) {
      if (!only.has('ms-async')) {
        add({
          group: 'ms-async',
          tool: 'ms-async convert',
          input: 'compact',
          format: 'csv',
          bytes: compact.bytes,
          cmd: node,
          argv: (out) => [cliBin, '-q', 'convert', compact.path, '--report', REPORT, '--out', out, '--format', 'csv'],
        });
      }
      add({
        group: 'xlsx',
        tool: 'ms-async convert',
        input: 'compact',
        format: 'xlsx',
        bytes: compact.bytes,
        cmd: node,
        argv: (out) => [cliBin, '-q', 'convert', compact.path, '--report', REPORT, '--out', out, '--format', 'xlsx'],
      });
    }
    add({
      group: 'xlsx',
      tool: 'exceljs WorkbookWriter',
      input: 'compact',
      format: 'xlsx',
      bytes: compact.bytes,
      cmd: node,
      argv: (out) => [peer('xlsx-exceljs.mjs'), compact.path, out, 'exceljs', REPORT],
    });
    add({
      group: 'xlsx',
      tool: 'stream-json records only',
      input: 'compact',
      format: '-',
      bytes: compact.bytes,
      cmd: node,
      argv: () => [peer('xlsx-exceljs.mjs'), compact.path, '/dev/null', 'none', REPORT],
    });
  }
  return jobs;
}

async function runJob(job, round) {
  const out = job.format === '-' ? undefined : join(outDir, `${job.group}-${job.input}-${job.sizeMB}MB.${job.format}`);
  if (out) rmSync(out, { force: true });
  let fd;
  if (out && job.stdoutToOut) fd = openSync(out, 'w');
  const r = await runTimed(job.cmd, job.argv(out), {
    stdout: fd ?? 'ignore',
    timeoutS,
    cwd: ROOT,
    ...(job.env ? { env: job.env } : {}),
  });
  if (fd !== undefined) closeSync(fd);
  if (r.ok && out && job.check === undefined) {
    job.check = existsSync(out) ? await countRecords(out, job.format) : { records: undefined, bytes: 0, missing: true };
  }
  if (out && !opt['keep-outputs']) rmSync(out, { force: true });
  job.runs.push(r);
  const what = `${job.tool} · ${job.input} · ${job.format} · ${job.sizeMB} MB`;
  log(
    `  [${round}] ${what}: ${r.ok ? `${r.wallS.toFixed(2)} s, ${r.rssMB?.toFixed(0) ?? '?'} MB` : `FAILED (${r.reason})`}`,
  );
  return r;
}

function summarize(job) {
  const ok = job.runs.filter((r) => r.ok);
  const failed = job.runs.find((r) => !r.ok);
  return {
    group: job.group,
    tool: job.tool,
    input: job.input,
    format: job.format,
    sizeMB: job.sizeMB,
    rows: job.rows,
    bytes: job.bytes,
    runs: job.runs.length,
    okRuns: ok.length,
    wallS: ok.length ? median(ok.map((r) => r.wallS)) : undefined,
    wallMinS: ok.length ? Math.min(...ok.map((r) => r.wallS)) : undefined,
    wallMaxS: ok.length ? Math.max(...ok.map((r) => r.wallS)) : undefined,
    rssMB: ok.length ? Math.max(...ok.map((r) => r.rssMB ?? 0)) || undefined : failed?.rssMB,
    failed: ok.length === 0 ? (failed?.reason ?? 'failed') : undefined,
    failedRuns: job.runs
      .filter((r) => !r.ok)
      .map((r) => ({ reason: r.reason, code: r.code, stderr: r.stderr.slice(-1500) })),
    check: job.check,
  };
}

/**
 * End to end (issue 13): `ms-async fetch` of a DONE task from a running sandbox, side by side with
 * `curl` downloading the same result and `ms-async convert` converting curl's file, with the
 * storage throttled to the converter's own speed (measured first, untimed), where converting while
 * downloading shows best: fetch should take about max(curl, convert), not their sum.
 */
async function runEndToEnd(inputs) {
  const { sizeMB, rows, compact } = inputs;
  const sb = await startSandbox(ROOT, { rows, seed, dataDir: join(cacheDir, `sandbox-e2e-${sizeMB}MB`) });
  try {
    const base = sb.baseUrl;
    const headers = { authorization: 'Bearer bench', 'accept-encoding': 'gzip' };
    const created = await fetch(`${base}/report/${REPORT.replace('-', '/')}?async=true`, { headers });
    const id = String(created.headers.get('content-location') ?? '')
      .split('/')
      .pop();
    if (!id) throw new Error(`the sandbox created no task (HTTP ${created.status})`);
    for (let i = 0; ; i++) {
      const task = await (await fetch(`${base}/async/${id}`, { headers })).json();
      if (task.state === 'DONE') break;
      if (!['PENDING', 'PROCESSING'].includes(task.state) || i > 3000)
        throw new Error(`task ${id} ended ${task.state}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const link = `curl -sf -o /dev/null -w '%{redirect_url}' -H 'Authorization: Bearer bench' --compressed '${base}/async/${id}/result'`;
    const curlTo = (file) => `curl -sf -o '${file}' "$(${link})"`;
    const file = join(outDir, `e2e-${sizeMB}MB.json`);
    const convertArgv = (out) => [cliBin, '-q', 'convert', file, '--report', REPORT, '--out', out, '--format', 'csv'];
    // Untimed: curl's file for the convert rows, and the converter's speed to throttle the storage to.
    const got = await runTimed('sh', ['-c', curlTo(file)], { timeoutS });
    if (!got.ok || !existsSync(file)) throw new Error(`curl could not download the result: ${got.reason}`);
    // The median of three: one slow run (this VM's speed swings) would throttle the storage far
    // below the converter's speed and flatter fetch.
    const calibrations = [];
    for (let k = 0; k < 3; k++) {
      const calibrate = await runTimed(node, convertArgv(join(outDir, 'e2e-calibrate.csv')), { timeoutS, cwd: ROOT });
      rmSync(join(outDir, 'e2e-calibrate.csv'), { force: true });
      if (!calibrate.ok) throw new Error(`convert failed: ${calibrate.reason}`);
      calibrations.push(calibrate.wallS);
    }
    const bps = Math.round(compact.bytes / median(calibrations));
    await fetch(`${base}/__sandbox/faults`, { method: 'PUT', body: JSON.stringify({ storageBytesPerSecond: bps }) });
    log(`e2e: storage throttled to ${(bps / 1e6).toFixed(0)} MB/s (the converter's speed)`);
    const resultCache = join(cacheDir, 'e2e-result-cache');
    const input = `storage at ${(bps / 1e6).toFixed(0)} MB per s`; // no '/': it goes into file names
    const jobs = [
      {
        tool: 'curl (download only)',
        format: '-',
        cmd: 'sh',
        argv: () => ['-c', curlTo(join(outDir, 'e2e-curl.json'))],
      },
      { tool: "ms-async convert (curl's file)", format: 'csv', cmd: node, argv: convertArgv },
      {
        tool: 'curl, then ms-async convert',
        format: 'csv',
        cmd: 'sh',
        argv: (out) => [
          '-c',
          `${curlTo(join(outDir, 'e2e-curl.json'))} && '${node}' ${convertArgv(out)
            .map((a) => `'${a}'`)
            .join(' ')}`,
        ],
      },
      {
        tool: 'ms-async fetch',
        format: 'csv',
        cmd: node,
        env: { ...process.env, MS_ASYNC_CACHE_DIR: resultCache },
        argv: (out) => [
          cliBin,
          '-q',
          '--base-url',
          base,
          '--token',
          'bench',
          'fetch',
          id,
          '--out',
          out,
          '--format',
          'csv',
        ],
      },
    ].map((j) => ({ group: 'e2e', input, bytes: compact.bytes, sizeMB, rows, runs: [], ...j }));
    for (let round = 1; round <= repeat; round++) {
      for (const job of jobs) await runJob(job, round);
    }
    rmSync(join(outDir, 'e2e-curl.json'), { force: true });
    rmSync(file, { force: true });
    rmSync(resultCache, { recursive: true, force: true });
    return jobs.map(summarize);
  } finally {
    sb.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Run

if (!opt['from-json']) {
  // The CLI under test may be rebuilt while a long run goes on (others work in the same tree):
  // a fingerprint of dist/ before and after says whether the numbers mix builds.
  function distFingerprint() {
    const h = createHash('sha256');
    const walk = (dir) => {
      if (!existsSync(dir)) return;
      for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.js')) h.update(p).update(readFileSync(p));
      }
    };
    walk(join(ROOT, 'dist'));
    return h.digest('hex').slice(0, 12);
  }
  const distBefore = distFingerprint();
  const started = new Date();
  const loadBefore = loadavg()[0].toFixed(2);
  const results = [];
  for (const sizeMB of sizes) {
    log(`— ${sizeMB} MB —`);
    const inputs = await prepareInputs(sizeMB, { gen, cacheDir, seed, log, withGzip: only.has('io') });
    log(
      `inputs: ${inputs.rows} records; compact ${(inputs.compact.bytes / 1e6).toFixed(1)} MB, pretty ${(inputs.pretty.bytes / 1e6).toFixed(1)} MB`,
    );
    // Warm the page cache so that the first tool does not pay for the disk.
    for (const f of [inputs.compact, inputs.pretty, inputs.gzip].filter(Boolean)) {
      await runTimed('cat', [f.path], { timeoutS });
    }
    let sandbox;
    const onSignal = () => {
      killActive();
      sandbox?.stop();
      process.exit(130);
    };
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
    if (only.has('download') && sbx.ok && ms.convert.ok) {
      try {
        sandbox = await startSandbox(ROOT, { rows: inputs.rows, seed, dataDir: join(cacheDir, `sandbox-${sizeMB}MB`) });
        // Untimed: makes the sandbox generate the result, which the measured --reuse runs download.
        const warm = await runTimed(
          node,
          [
            cliBin,
            '-q',
            '--base-url',
            sandbox.baseUrl,
            '--token',
            'bench',
            'export',
            REPORT,
            '--out',
            join(outDir, 'warm-up.ndjson'),
            '--format',
            'ndjson',
          ],
          { timeoutS, cwd: ROOT },
        );
        rmSync(join(outDir, 'warm-up.ndjson'), { force: true });
        if (!warm.ok) throw new Error(`warm-up export failed: ${warm.reason}`);
      } catch (err) {
        notes.push(`download rows at ${sizeMB} MB skipped: ${err.message}.`);
        log(`download rows skipped: ${err.message}`);
        sandbox?.stop();
        sandbox = undefined;
      }
    }
    const jobs = jobsFor(inputs, sandbox?.baseUrl);
    try {
      // Rounds interleave the tools, so that slow drift on a noisy machine hits all of them alike.
      for (let round = 1; round <= repeat; round++) {
        for (const job of jobs) {
          // A tool that failed once (e.g. the naive peer at 1 GB) fails deterministically: run it once.
          if (job.runs.length && job.runs.every((r) => !r.ok)) continue;
          await runJob(job, round);
        }
      }
    } finally {
      sandbox?.stop();
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    }
    for (const job of jobs) results.push(summarize(job));
    if (only.has('e2e') && sbx.ok && ms.convert.ok && which('curl')) {
      try {
        results.push(...(await runEndToEnd(inputs)));
      } catch (err) {
        notes.push(`e2e rows at ${sizeMB} MB skipped: ${err.message}.`);
        log(`e2e rows skipped: ${err.message}`);
      }
    }
  }

  // Start-up: the same spawn-to-exit wall time for `node -e 0` and the CLI's cheapest commands.
  const startup = [];
  if (only.has('startup')) {
    const cmds = [
      { label: 'node -e 0', argv: ['-e', '0'] },
      ...(dropCaCerts
        ? [
            {
              label: 'node -e 0 with NODE_EXTRA_CA_CERTS',
              argv: ['-e', '0'],
              env: { ...process.env, NODE_EXTRA_CA_CERTS: extraCaCerts },
            },
          ]
        : []),
      ...(existsSync(cliBin)
        ? [
            { label: 'ms-async --version', argv: [cliBin, '--version'] },
            { label: 'ms-async --help', argv: [cliBin, '--help'] },
          ]
        : []),
    ];
    const runs = cmds.map(() => []);
    for (let i = 0; i < startupRepeat; i++) {
      for (const [k, c] of cmds.entries())
        runs[k].push(await runTimed(node, c.argv, { timeoutS: 60, cwd: ROOT, ...(c.env ? { env: c.env } : {}) }));
    }
    for (const [k, c] of cmds.entries()) {
      const ok = runs[k].filter((r) => r.ok);
      startup.push({
        label: c.label,
        runs: runs[k].length,
        wallS: median(ok.map((r) => r.wallS)),
        rssMB: median(ok.map((r) => r.rssMB)),
        failed: ok.length === 0 ? runs[k][0]?.reason : undefined,
      });
      log(`startup ${c.label}: ${ok.length ? `${(median(ok.map((r) => r.wallS)) * 1000).toFixed(0)} ms` : 'FAILED'}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Report

  const sh = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return undefined;
    }
  };
  const streamJsonVersion = JSON.parse(
    readFileSync(join(ROOT, 'node_modules/stream-json/package.json'), 'utf8'),
  ).version;
  const machine = {
    date: started.toISOString().replace(/\.\d+Z$/, 'Z'),
    nproc: sh('nproc', []) ?? String(cpus().length),
    cpu: cpus()[0]?.model?.trim() ?? 'unknown',
    memGB: Math.round(Number(sh('sh', ['-c', "awk '/MemTotal/{print $2}' /proc/meminfo"]) ?? 0) / 1024 / 1024),
    node: process.version,
    os: sh('uname', ['-sr']),
    jq: jqPath ? toolVersion(jqPath) : undefined,
    streamJson: `${streamJsonVersion} (${opt['stream-json-variant']})`,
    gitHead: sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    repeat,
    startupRepeat,
    extraCaCerts: extraCaCerts ? (dropCaCerts ? 'removed' : 'kept') : undefined,
    seed,
    loadBefore,
    loadAfter: loadavg()[0].toFixed(2),
  };
  if (distFingerprint() !== distBefore) {
    notes.push(
      'dist/ changed during this run (ms-async was rebuilt): its rows mix builds; run again for clean numbers.',
    );
    log('warning: dist/ changed during the run');
  }
  const rawPath = join(cacheDir, `results-${machine.date.replace(/[:]/g, '')}.json`);
  writeFileSync(rawPath, JSON.stringify({ machine, results, startup, notes }, null, 2));
  log(`raw numbers: ${rawPath}`);
  emit({ machine, results, startup, notes });
}

/** Prints the Markdown, writes RESULTS.md and, with --write-readme, the README block. */
function emit({ machine, results, startup, notes }) {
  const targets = evaluateTargets(results, startup);
  const md = renderMarkdown({ machine, results, startup, targets, notes });
  process.stdout.write(`\n${md}\n`);
  mkdirSync(dirname(resolve(opt.results)), { recursive: true });
  writeFileSync(resolve(opt.results), `# ms-async benchmark results\n\n${md}`);
  log(`wrote ${resolve(opt.results)}`);

  if (opt['write-readme']) {
    const readme = resolve(opt.readme);
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    const a = text.indexOf(start);
    const b = text.indexOf(end);
    if (a < 0 || b < a) {
      log(`${readme} has no ${start} … ${end} block: not touched`);
      process.exitCode = 1;
    } else {
      writeFileSync(readme, `${text.slice(0, a + start.length)}\n${md}\n${text.slice(b)}`);
      log(`updated the benchmark block in ${readme}`);
    }
  }
}

if (opt['from-json']) emit(JSON.parse(readFileSync(resolve(opt['from-json']), 'utf8')));
