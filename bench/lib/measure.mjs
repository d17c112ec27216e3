// Running one child process, measured from outside: wall time by the harness's monotonic clock
// around spawn → exit, peak RSS by GNU time's %M (the child's ru_maxrss, in KiB). Every child gets
// a timeout and its own process group, so that a timeout kills the whole command (time + child).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TIME_BIN = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

let counter = 0;
/** Process groups of the children running now, so that an interrupted harness can end them. */
const active = new Set();

/** Kills the process groups of the running children (the harness was interrupted). */
export function killActive() {
  for (const pid of active) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  active.clear();
}

/**
 * Runs `cmd args` with stdout going to `stdout` ('ignore' = /dev/null, or an fd) and returns
 * {ok, wallS, rssMB, code, signal, reason}. Never throws for a failing child.
 */
export function runTimed(cmd, args, { stdout = 'ignore', timeoutS = 600, cwd, env } = {}) {
  const timeFile = join(tmpdir(), `ms-async-bench-${process.pid}-${counter++}.time`);
  const argv = TIME_BIN ? ['-f', '%e %M', '-o', timeFile, cmd, ...args] : args;
  const bin = TIME_BIN ?? cmd;
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(bin, argv, { stdio: ['ignore', stdout, 'pipe'], detached: true, cwd, env });
    if (child.pid) active.add(child.pid);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-8192);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutS * 1000);
    const finish = (code, signal, spawnError) => {
      clearTimeout(timer);
      active.delete(child.pid);
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      let rssMB;
      let childCode = code;
      if (TIME_BIN && existsSync(timeFile)) {
        const text = readFileSync(timeFile, 'utf8');
        rmSync(timeFile, { force: true });
        const m = /^([\d.]+) (\d+)\s*$/m.exec(text);
        if (m) rssMB = Number(m[2]) / 1024;
        const exited = /exited with non-zero status (\d+)/.exec(text);
        if (exited) childCode = Number(exited[1]);
        const sig = /terminated by signal (\d+)/.exec(text);
        if (sig) signal = `signal ${sig[1]}`;
      }
      const ok = !spawnError && !timedOut && childCode === 0 && !signal;
      let reason;
      if (!ok) {
        if (spawnError) reason = spawnError.message;
        else if (timedOut) reason = `timed out after ${timeoutS} s`;
        else reason = explain(stderr) ?? (signal ? `killed by ${signal}` : `exit ${childCode}`);
      }
      resolve({ ok, wallS, rssMB, code: childCode, signal, reason, stderr });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal, null));
  });
}

/** The line of a child's stderr that says what went wrong (an `…Error: …` line, else the last one). */
function explain(stderr) {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length === 0) return undefined;
  const err = lines.find(
    (l) => /^(\w*Error|RangeError|Error)\b.*:/.test(l) || /\bERR_[A-Z_]+\b/.test(l) || /^ms-async:/.test(l),
  );
  return (err ?? lines[lines.length - 1]).slice(0, 200);
}

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
