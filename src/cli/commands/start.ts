import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerStart(program: Command, _deps: CliDeps): void {
  program.command('start').description('(not yet implemented)');
}
