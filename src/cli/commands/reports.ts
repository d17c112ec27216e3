import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerReports(program: Command, _deps: CliDeps): void {
  program.command('reports').description('(not yet implemented)');
}
