// The benchmark's inputs: stock-by-store result files made by the sandbox's own generator
// (dist/sandbox/generate.js), cached in .bench-cache/ under a name that carries everything the
// bytes depend on — report, target size, seed, variant and a hash of the generator's code — so a
// rerun skips generation and a changed generator never reuses stale files.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const REPORT = 'stock-bystore';

export async function loadGenerator(root, cacheDir) {
  const genPath = join(root, 'dist/sandbox/generate.js');
  if (!existsSync(genPath)) {
    throw new Error(`${genPath} is missing: run \`npm run build\` first (src/sandbox/generate.ts builds to it)`);
  }
  const mod = await import(pathToFileURL(genPath).href);
  if (typeof mod.writeResultFile !== 'function') throw new Error(`${genPath} does not export writeResultFile`);
  // The generator's version is what it writes: a hash of a compact and a pretty sample (every
  // hostile string and record type occurs within the first rows). Rebuilding, or editing code
  // that does not change the bytes, keeps the cache; any change to the bytes invalidates it.
  mkdirSync(cacheDir, { recursive: true });
  const probe = join(cacheDir, `.probe-${process.pid}.json`);
  const hash = createHash('sha256');
  try {
    for (const pretty of [false, true]) {
      await mod.writeResultFile(probe, { report: REPORT, rows: pretty ? 50 : 2000, seed: 1, pretty });
      hash.update(readFileSync(probe));
    }
  } finally {
    rmSync(probe, { force: true });
  }
  return { writeResultFile: mod.writeResultFile, version: hash.digest('hex').slice(0, 10) };
}

/** Removes cached inputs made by another generator version (they can never be used again). */
export function pruneStale(cacheDir, version, log) {
  const mine = new RegExp(`^(calibration-|sample-)?${REPORT}-.*g([0-9a-f]{10})(\\.|-)`);
  for (const name of readdirSync(cacheDir)) {
    const m = mine.exec(name);
    if (m && m[2] !== version) {
      rmSync(join(cacheDir, name), { force: true });
      log(`removed stale cache file ${name} (generator changed)`);
    }
  }
}

/**
 * Rows that make a compact result of about `targetBytes`: two small samples give the envelope
 * and the bytes per record (records vary in size, so the slope is taken over a few thousand).
 */
async function rowsFor(targetBytes, gen, cacheDir, seed, log) {
  const calFile = join(cacheDir, `calibration-${REPORT}-s${seed}-g${gen.version}.json`);
  let cal;
  if (existsSync(calFile)) cal = JSON.parse(readFileSync(calFile, 'utf8'));
  else {
    const tmp = join(cacheDir, `.calibration-${process.pid}.json`);
    const a = await gen.writeResultFile(tmp, { report: REPORT, rows: 5000, seed });
    const b = await gen.writeResultFile(tmp, { report: REPORT, rows: 20000, seed });
    rmSync(tmp, { force: true });
    const perRow = (b.bytes - a.bytes) / 15000;
    cal = { perRow, envelope: a.bytes - perRow * 5000 };
    writeFileSync(calFile, JSON.stringify(cal));
    log(`calibrated: ${cal.perRow.toFixed(1)} bytes per record (compact)`);
  }
  return Math.max(1, Math.round((targetBytes - cal.envelope) / cal.perRow));
}

/** Writes through a temporary name and renames, so an interrupted run leaves no half file in the cache. */
async function cached(path, make) {
  if (existsSync(path) && existsSync(`${path}.info.json`)) {
    return { path, ...JSON.parse(readFileSync(`${path}.info.json`, 'utf8')), cached: true };
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const info = await make(tmp);
    renameSync(tmp, path);
    writeFileSync(`${path}.info.json`, JSON.stringify(info));
    return { path, ...info, cached: false };
  } finally {
    rmSync(tmp, { force: true });
  }
}

function gzipFile(src, dest) {
  return new Promise((resolve, reject) => {
    const fd = openSync(dest, 'w');
    const child = spawn('gzip', ['-c', '-6', src], { stdio: ['ignore', fd, 'inherit'] });
    child.on('error', (e) => {
      closeSync(fd);
      reject(e);
    });
    child.on('close', (code) => {
      closeSync(fd);
      if (code === 0) resolve();
      else reject(new Error(`gzip exited ${code}`));
    });
  });
}

/**
 * The inputs for one target size (MB = 10^6 bytes): compact, pretty (same records) and a gzip of
 * the compact file. Returns {rows, compact: {path, bytes, records}, pretty: {…}, gzip: {…}}.
 */
export async function prepareInputs(sizeMB, { gen, cacheDir, seed, log, withGzip = true }) {
  mkdirSync(cacheDir, { recursive: true });
  const rows = await rowsFor(sizeMB * 1e6, gen, cacheDir, seed, log);
  const base = join(cacheDir, `${REPORT}-${sizeMB}MB-s${seed}-g${gen.version}`);
  const timed = async (label, fn) => {
    const t = process.hrtime.bigint();
    const r = await fn();
    if (!r.cached)
      log(
        `generated ${label} (${(r.bytes / 1e6).toFixed(1)} MB) in ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s`,
      );
    return r;
  };
  const compact = await timed(`${sizeMB} MB compact`, () =>
    cached(`${base}-compact.json`, (tmp) => gen.writeResultFile(tmp, { report: REPORT, rows, seed })),
  );
  const pretty = await timed(`${sizeMB} MB pretty`, () =>
    cached(`${base}-pretty.json`, (tmp) => gen.writeResultFile(tmp, { report: REPORT, rows, seed, pretty: true })),
  );
  let gzip;
  if (withGzip) {
    gzip = await timed(`${sizeMB} MB gzip`, () =>
      cached(`${base}-compact.json.gz`, async (tmp) => {
        await gzipFile(compact.path, tmp);
        return { bytes: statSync(tmp).size, records: compact.records, rawBytes: compact.bytes };
      }),
    );
  }
  return { sizeMB, rows, compact, pretty, gzip };
}
