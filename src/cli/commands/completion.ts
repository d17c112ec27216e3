import { Argument, type Command } from 'commander';
import type { CliDeps } from '../context.js';

export function registerCompletion(program: Command, deps: CliDeps): void {
  program
    .command('completion')
    .description('print a shell completion script (commands, flags, report aliases)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Install:
  bash  $ ms-async completion bash > ~/.local/share/bash-completion/completions/ms-async
  zsh   $ ms-async completion zsh > "\${fpath[1]}/_ms-async"
  fish  $ ms-async completion fish > ~/.config/fish/completions/ms-async.fish`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { completionScript } = await import('../completion.js');
      const { REPORTS } = await import('../../reports/catalog.js');
      // Commands whose first argument is a <report> are offered the catalogue's aliases.
      const values = (command: Command): string[] =>
        command.registeredArguments[0]?.name() === 'report' ? REPORTS.map((r) => r.alias) : [];
      deps.io.stdout.write(completionScript(shell, program, values));
    });
}
