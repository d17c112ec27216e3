import type { Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { printJson } from '../session.js';

export function registerLogin(program: Command, deps: CliDeps): void {
  program
    .command('login')
    .description('store a token for the profile, after checking it with GET /context/employee')
    .usage('[--profile <name>] [--base-url <url>]')
    .addHelpText(
      'after',
      `
The token is read from a hidden prompt on a terminal, or from the first line of stdin otherwise.

Examples:
  $ ms-async login
  $ echo "$MS_TOKEN" | ms-async login --profile shop2`,
    )
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { login } = await import('../../core/login.js');
      const { readSecret } = await import('../../ui/prompt.js');
      const { createLog } = await import('../../ui/log.js');
      const log = createLog(deps.io, ctx.mode);
      const token = ctx.globals.token ?? (await readSecret(deps.io, 'MoySklad token (input hidden): '));
      const result = await login({
        token,
        flags: ctx.globals,
        env: deps.io.env,
        configDir: deps.configDir,
        now: deps.now,
        sleep: deps.sleep,
        signal: deps.signal,
        onLog: ctx.mode.verbose ? (line) => log.verbose(line) : undefined,
        trace: deps.trace,
      });
      if (ctx.globals.json)
        printJson(ctx, { profile: result.profile, baseUrl: result.baseUrl, who: result.who ?? null });
      log.info(
        `logged in${result.who ? ` as ${result.who}` : ''}; token stored for profile "${result.profile}" (${result.path})`,
      );
    });

  program
    .command('logout')
    .description('remove the stored token of the profile')
    .usage('[--profile <name>]')
    .addHelpText('after', '\nExample:\n  $ ms-async logout --profile shop2')
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { logout } = await import('../../core/login.js');
      const { resolveProfileName } = await import('../../config/resolve.js');
      const profile = resolveProfileName({ flags: ctx.globals, env: deps.io.env });
      const { removed } = await logout({ profile, configDir: deps.configDir });
      if (!ctx.mode.quiet) {
        deps.io.stderr.write(
          removed ? `token of profile "${profile}" removed\n` : `profile "${profile}" had no stored token\n`,
        );
      }
    });
}
