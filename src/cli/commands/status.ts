import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerStatus(program: Command, _deps: CliDeps): void {
  program.command('status').description('(not yet implemented)');
}
