import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerSandbox(program: Command, _deps: CliDeps): void {
  program.command('sandbox').description('(not yet implemented)');
}
