import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerConfig(program: Command, _deps: CliDeps): void {
  program.command('config').description('(not yet implemented)');
}
