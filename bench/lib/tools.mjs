// What is there to measure: ms-async's convert and export --sandbox entry points (read from their
// --help, then tried on a tiny file), jq, gzip. Anything missing becomes a "not available" note
// instead of a failed run, so the harness works while the CLI is still being written.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, ...opts });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, status: r.status, error: r.error };
}

export function which(name) {
  const r = run('sh', ['-c', `command -v ${name}`]);
  return r.ok ? r.out.trim() : undefined;
}

function cliHelp(root, args) {
  const bin = join(root, 'bin/ms-async.js');
  if (!existsSync(bin)) return { ok: false, out: 'bin/ms-async.js is missing' };
  return run(process.execPath, [bin, ...args, '--help'], { cwd: root });
}

/**
 * {convert: {ok, reason}, export: {ok, reason, rowsFlag, seedFlag}}. `sample` is a small result
 * file for a smoke run of convert (exit 0 and an output file, or it is "not available").
 */
export function detectMsAsync(root, { sample, outDir, report }) {
  const bin = join(root, 'bin/ms-async.js');
  const convert = { ok: false };
  const help = cliHelp(root, ['convert']);
  if (!help.ok || /not yet implemented/i.test(help.out) || !/--out\b/.test(help.out)) {
    convert.reason = `\`ms-async convert\` not available (${firstLine(help.out) || `exit ${help.status}`})`;
  } else {
    const out = join(outDir, 'smoke.csv');
    const r = run(
      process.execPath,
      [bin, '-q', 'convert', sample, '--report', report, '--out', out, '--format', 'csv'],
      { cwd: root },
    );
    if (r.ok && existsSync(out)) convert.ok = true;
    else convert.reason = `\`ms-async convert\` fails on a small sample: ${firstLine(r.out) || `exit ${r.status}`}`;
    rmSync(out, { force: true });
  }
  const exp = { ok: false };
  const ehelp = cliHelp(root, ['export']);
  if (!ehelp.ok || /not yet implemented/i.test(ehelp.out) || !/--sandbox\b/.test(ehelp.out)) {
    exp.reason = `\`ms-async export --sandbox\` not available (${firstLine(ehelp.out) || `exit ${ehelp.status}`})`;
  } else {
    // The row-count option may be hidden from --help: find it by trying a 10-row export.
    const out = join(outDir, 'smoke-export.ndjson');
    const tried = [];
    for (const flag of ['--sandbox-rows', '--rows']) {
      rmSync(out, { force: true });
      const r = run(
        process.execPath,
        [bin, '-q', 'export', report, '--sandbox', flag, '10', '--out', out, '--format', 'ndjson'],
        { cwd: root, timeout: 120_000 },
      );
      const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0;
      rmSync(out, { force: true });
      if (r.ok && lines === 10) {
        exp.rowsFlag = flag;
        break;
      }
      tried.push(`${flag}: ${r.ok ? `${lines} records instead of 10` : firstLine(r.out) || `exit ${r.status}`}`);
    }
    exp.seedFlag = ['--sandbox-seed'].find((f) => new RegExp(`${f}\\b`).test(ehelp.out));
    if (exp.rowsFlag) exp.ok = true;
    else exp.reason = `no working row-count option for \`export --sandbox\` (${tried.join('; ')})`;
  }
  return { convert, export: exp };
}

function firstLine(text) {
  return (text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find(Boolean)
    ?.slice(0, 160);
}

export function toolVersion(cmd, args = ['--version']) {
  const r = run(cmd, args);
  return r.ok ? firstLine(r.out) : undefined;
}
