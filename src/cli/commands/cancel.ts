import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerCancel(program: Command, _deps: CliDeps): void {
  program.command('cancel').description('(not yet implemented)');
}
