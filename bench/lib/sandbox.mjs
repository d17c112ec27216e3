// An external `ms-async sandbox` for the download measurement: a separate, unmeasured process
// serving a result of the same records, with no task delays. One untimed export makes it
// generate the result; the measured `export --reuse` runs then download that DONE result and
// convert it, so their wall time is list + link + download + convert, and their RSS is the
// client's alone (the in-process `export --sandbox` also carries the server, its data
// generation and the task's fixed PENDING/PROCESSING delays).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export function sandboxAvailable(root) {
  const r = spawnSync(process.execPath, [join(root, 'bin/ms-async.js'), 'sandbox', '--help'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const help = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0) return { ok: false, reason: `\`ms-async sandbox\` not available (exit ${r.status})` };
  const missing = ['--rows', '--seed', '--pending-ms', '--processing-ms', '--data-dir'].filter(
    (f) => !help.includes(f),
  );
  return missing.length ? { ok: false, reason: `\`ms-async sandbox\` lacks ${missing.join(', ')}` } : { ok: true };
}

/** Starts the sandbox; resolves {baseUrl, stop()} once it printed its base URL. */
export function startSandbox(root, { rows, seed, dataDir, timeoutS = 60 }) {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin/ms-async.js'),
      'sandbox',
      '--port',
      '0',
      '--rows',
      String(rows),
      '--seed',
      String(seed),
      '--pending-ms',
      '0',
      '--processing-ms',
      '0',
      '--data-dir',
      dataDir,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr = (stderr + d).slice(-2000);
  });
  const stop = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`sandbox did not start within ${timeoutS} s: ${stderr.trim()}`));
    }, timeoutS * 1000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ baseUrl: line.trim(), stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sandbox exited ${code}: ${stderr.trim()}`));
    });
  });
}
