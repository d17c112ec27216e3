import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { printJson, printLines } from '../session.js';

export function registerCache(program: Command, deps: CliDeps): void {
  const cache = program
    .command('cache')
    .description('the partial result downloads kept so that a later fetch/export resumes them')
    .usage('list | clean')
    .addHelpText(
      'after',
      `
Kept in $MS_ASYNC_CACHE_DIR, else $XDG_CACHE_HOME/ms-async, else ~/.cache/ms-async.

Examples:
  $ ms-async cache list
  $ ms-async cache clean`,
    );
  cache
    .command('list')
    .description('show the kept downloads: task, bytes held of the whole, when the result expires')
    .addHelpText(
      'after',
      `
Example:
  $ ms-async cache list --json`,
    )
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const [{ resolveCacheDir }, { listCachedResults }, { createLog }] = await Promise.all([
        import('../../download/cache.js'),
        import('../../core/cache.js'),
        import('../../ui/log.js'),
      ]);
      const dir = resolveCacheDir(deps.io.env);
      const entries = await listCachedResults(dir);
      if (ctx.globals.json) {
        printJson(
          ctx,
          entries.map((e) => ({
            taskId: e.taskId,
            bytes: e.bytes,
            size: e.size ?? null,
            encoding: e.encoding,
            expires: new Date(e.expiresAt).toISOString(),
            inUse: e.inUse,
            path: e.path,
          })),
        );
      } else if (entries.length === 0) {
        createLog(deps.io, ctx.mode).info(`no kept downloads in ${dir}`);
      } else {
        printLines(ctx, await renderCacheTable(entries, deps.now()));
      }
    });
  cache
    .command('clean')
    .description('remove the kept downloads that no running fetch/export uses')
    .option('--expired', 'only those whose result is past its deletionDate')
    .addHelpText(
      'after',
      `
Example:
  $ ms-async cache clean`,
    )
    .action(async (opts: { expired?: boolean }, command: Command) => {
      const ctx = commandContext(command, deps);
      const [{ resolveCacheDir }, { cleanCachedResults }, { createLog }, { formatBytes }] = await Promise.all([
        import('../../download/cache.js'),
        import('../../core/cache.js'),
        import('../../ui/log.js'),
        import('../../ui/progress.js'),
      ]);
      const freed = await cleanCachedResults(resolveCacheDir(deps.io.env), deps.now(), opts.expired === true);
      if (ctx.globals.json) printJson(ctx, freed);
      else createLog(deps.io, ctx.mode).info(`removed ${freed.entries} kept download(s), ${formatBytes(freed.bytes)}`);
    });
}

async function renderCacheTable(
  entries: ReadonlyArray<{
    taskId: string;
    bytes: number;
    size: number | undefined;
    expiresAt: number;
    inUse: boolean;
  }>,
  now: number,
): Promise<string[]> {
  const { formatBytes } = await import('../../ui/progress.js');
  const rows = entries.map((e) => [
    e.taskId,
    e.size === undefined ? formatBytes(e.bytes) : `${formatBytes(e.bytes)} of ${formatBytes(e.size)}`,
    e.expiresAt <= now ? 'expired' : `in ${Math.ceil((e.expiresAt - now) / 60_000)}m`,
    e.inUse ? 'in use' : '',
  ]);
  const head = ['TASK', 'KEPT', 'EXPIRES', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}
