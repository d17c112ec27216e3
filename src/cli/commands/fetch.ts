import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerFetch(program: Command, _deps: CliDeps): void {
  program.command('fetch').description('(not yet implemented)');
}
