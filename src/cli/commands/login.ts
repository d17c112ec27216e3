import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerLogin(program: Command, _deps: CliDeps): void {
  program.command('login').description('(not yet implemented)');
}
