import type { Command } from 'commander';
import { commandContext, type CliDeps, type CommandContext } from '../context.js';
import { printJson, printLines } from '../session.js';

const KEYS_HELP = 'base-url, token and precise-money, per profile; --profile or MS_PROFILE picks the profile';

export function registerConfig(program: Command, deps: CliDeps): void {
  const config = program
    .command('config')
    .description(`show or change stored settings: ${KEYS_HELP}`)
    .usage('path | get <key> | set <key> <value> | list')
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async config path
  $ ms-async config set base-url https://api.moysklad.ru/api/remap/1.2 --profile shop2
  $ ms-async config get token          # shown masked
  $ ms-async config list --json`,
    );

  config
    .command('path')
    .description("print the config file's path")
    .usage('')
    .addHelpText('after', '\nExample:\n  $ ms-async config path')
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const store = await openStore(ctx);
      deps.io.stdout.write(`${store.path}\n`);
    });

  config
    .command('get')
    .description('print one stored setting (a token is masked)')
    .usage('<key>')
    .argument('<key>', 'base-url or token')
    .addHelpText('after', '\nExample:\n  $ ms-async config get base-url')
    .action(async (key: string, _opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { configKey } = await import('../../core/login.js');
      const { maskSecret } = await import('../../config/resolve.js');
      const field = configKey(key);
      const value = (await openStore(ctx)).getProfile(await profileOf(ctx))?.[field];
      if (value === undefined) return;
      const shown = field === 'token' ? maskSecret(value) : value;
      if (ctx.globals.json) printJson(ctx, { [key]: shown });
      else deps.io.stdout.write(`${shown}\n`);
    });

  config
    .command('set')
    .description('store a setting (an empty value removes it)')
    .usage('<key> <value>')
    .argument('<key>', 'base-url or token')
    .argument('<value>', 'the value')
    .addHelpText('after', '\nExample:\n  $ ms-async config set base-url http://127.0.0.1:8080/api/remap/1.2')
    .action(async (key: string, value: string, _opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { setConfigValue } = await import('../../core/login.js');
      const profile = await profileOf(ctx);
      setConfigValue(await openStore(ctx), profile, key, value);
      if (!ctx.mode.quiet) deps.io.stderr.write(`${key} stored for profile "${profile}"\n`);
    });

  config
    .command('list')
    .description("print every profile's settings (tokens masked)")
    .usage('')
    .addHelpText('after', '\nExample:\n  $ ms-async config list')
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { displayProfile } = await import('../../core/login.js');
      const profiles = (await openStore(ctx)).profiles();
      const shown = Object.fromEntries(Object.entries(profiles).map(([name, p]) => [name, displayProfile(p)]));
      if (ctx.globals.json) return printJson(ctx, shown);
      printLines(
        ctx,
        Object.entries(shown).flatMap(([name, p]) => Object.entries(p).map(([k, v]) => `${name}.${k}=${v}`)),
      );
    });
}

async function openStore(ctx: CommandContext) {
  const { configStore } = await import('../../core/login.js');
  return configStore(ctx.deps.configDir);
}

async function profileOf(ctx: CommandContext): Promise<string> {
  const { resolveProfileName } = await import('../../config/resolve.js');
  return resolveProfileName({ flags: ctx.globals, env: ctx.deps.io.env });
}
