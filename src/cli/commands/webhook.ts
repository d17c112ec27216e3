import type { Command } from 'commander';
import type { CliDeps } from '../context.js';

// Placeholder: the real command is being written.
export function registerWebhook(program: Command, _deps: CliDeps): void {
  program.command('webhook').description('(not yet implemented)');
}
