/**
 * Tests that spawn bin/ms-async.js run dist/bundle/, tsc's dist/ bundled (scripts/bundle.mjs), so
 * both must be built from the current src/. This
 * vitest globalSetup builds it when a file of src/ is newer than its output (or has none), once
 * before the run and again before each rerun of `npm run test:watch`; `expectFreshBuild()` makes
 * a test of the bin fail loudly, never skip, if that did not happen.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');
const BUNDLE = join(DIST, 'bundle/main.js');

/** Why dist/ does not match src/ (the first source found out of date), or undefined when it does. */
export function staleBuildReason(): string | undefined {
  const bundle = statSync(BUNDLE, { throwIfNoEntry: false });
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const source = join(entry.parentPath, entry.name);
    const output = join(DIST, relative(SRC, source)).replace(/\.ts$/, '.js');
    const built = statSync(output, { throwIfNoEntry: false });
    if (!built) return `${relative(ROOT, output)} is missing`;
    const changed = statSync(source).mtimeMs;
    if (built.mtimeMs < changed) return `${relative(ROOT, source)} is newer than its build`;
    if (!bundle) return `${relative(ROOT, BUNDLE)} is missing`;
    if (bundle.mtimeMs < changed) return `${relative(ROOT, source)} is newer than the bundle`;
  }
  return undefined;
}

function buildIfStale(): void {
  const reason = staleBuildReason();
  if (reason === undefined) return;
  process.stderr.write(`building dist/ for the tests of the bin (${reason})\n`);
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  } catch {
    // Type errors still emit: the run goes on, and `npm test` reports them in its typecheck step.
    process.stderr.write('the build reported errors (above); dist/ was emitted regardless\n');
  }
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

/** For a test that runs the built bin: fails, naming the stale file, when dist/ is not current. */
export function expectFreshBuild(): void {
  const reason = staleBuildReason();
  if (reason !== undefined) throw new Error(`dist/ is stale (${reason}): run \`npm run build\``);
}

export default function setup(project: TestProject): void {
  buildIfStale();
  project.onTestsRerun(() => buildIfStale());
}
