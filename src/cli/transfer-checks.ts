/**
 * The checks of a transfer's flags that need no session: light enough that `convert` and `batch`
 * load them without the rest of run-transfer.ts (start-up time).
 */
import type { ReportSpec } from '../reports/catalog.js';
import { unknownColumns } from '../reports/columns.js';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';

/** `--json` prints its summary on stdout, which `--out -` already fills with data. */
export function assertJsonHasStdout(ctx: CommandContext, path: string | undefined): void {
  if (ctx.globals.json && path === undefined) {
    throw new UsageError('--json and --out - both write to stdout', {
      hint: 'write the data to a file (--out FILE) to get the --json summary',
    });
  }
}

/**
 * A `--columns` name the report's catalogue cannot produce is a typo: exit 2 before any request.
 * Only for a report named by its alias: an API path is the way round the catalogue.
 */
export function checkColumns(
  named: string | undefined,
  spec: ReportSpec | undefined,
  columns: readonly string[] | undefined,
): void {
  if (!spec || !columns || named === undefined || named.startsWith('/')) return;
  const unknown = unknownColumns(spec, columns);
  if (unknown.length === 0) return;
  const lines = unknown.map(
    ({ name, near }) =>
      `"${name}"${near.length > 0 ? ` (did you mean ${near.map((n) => `"${n}"`).join(' or ')}?)` : ''}`,
  );
  throw new UsageError(`--columns: ${spec.alias} has no column ${lines.join(', ')}`, {
    hint: `\`ms-async reports --json\` lists the columns of ${spec.alias}; an API path (${spec.path}) is not checked`,
  });
}
