import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerList(program: Command, _deps: CliDeps): void {
  program.command('list').description('(not yet implemented)');
}
