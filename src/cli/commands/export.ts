import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerExport(program: Command, _deps: CliDeps): void {
  program.command('export').description('(not yet implemented)');
}
