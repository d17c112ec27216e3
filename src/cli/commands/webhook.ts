import { Option, type Command } from 'commander';
import { commandContext, type CliDeps } from '../context.js';
import { openSession, printJson, printLines } from '../session.js';

export function registerWebhook(program: Command, deps: CliDeps): void {
  const webhook = program
    .command('webhook')
    .description('manage webhooks on async tasks (entityType async): be told when a task finishes instead of polling')
    .usage('add|list|remove [options]')
    .addHelpText(
      'after',
      `
Examples:
  $ ms-async webhook add --url https://example.com/moysklad-hook
  $ ms-async webhook list --json
  $ ms-async webhook remove 2f0e7c1a-1c9b-11f0-0a80-0b4c00000031`,
    );

  webhook
    .command('add')
    .description(
      'create a webhook; MoySklad POSTs to the URL when an async task finishes (PROCESSED) or changes (UPDATE)',
    )
    .usage('--url <url> [--action PROCESSED|UPDATE]')
    .requiredOption('--url <url>', 'receiver URL (http/https, at most 255 characters)')
    .addOption(new Option('--action <action>', 'when to notify').choices(['PROCESSED', 'UPDATE']).default('PROCESSED'))
    .addHelpText('after', '\nExample:\n  $ ms-async webhook add --url https://example.com/hook --action PROCESSED')
    .action(async (opts: { url: string; action: string }, command: Command) => {
      const ctx = commandContext(command, deps);
      const { addWebhook } = await import('../../core/webhook.js');
      const { renderWebhookTable } = await import('../../ui/format.js');
      const { client } = await openSession(ctx);
      const hook = await addWebhook(client, opts, { signal: deps.signal });
      if (ctx.globals.json) printJson(ctx, hook);
      else printLines(ctx, renderWebhookTable([hook]));
    });

  webhook
    .command('list')
    .description("list the account's webhooks on async tasks")
    .usage('[--json]')
    .addHelpText('after', '\nExample:\n  $ ms-async webhook list')
    .action(async (_opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { listAsyncWebhooks } = await import('../../core/webhook.js');
      const { renderWebhookTable } = await import('../../ui/format.js');
      const { client } = await openSession(ctx);
      const hooks = await listAsyncWebhooks(client, { signal: deps.signal });
      if (ctx.globals.json) printJson(ctx, hooks);
      else if (hooks.length === 0 && !ctx.mode.quiet) deps.io.stderr.write('no webhooks on async tasks\n');
      else printLines(ctx, renderWebhookTable(hooks));
    });

  webhook
    .command('remove')
    .description('delete a webhook')
    .usage('<id>')
    .argument('<id>', 'webhook id (see `ms-async webhook list`)')
    .addHelpText('after', '\nExample:\n  $ ms-async webhook remove 2f0e7c1a-1c9b-11f0-0a80-0b4c00000031')
    .action(async (id: string, _opts: object, command: Command) => {
      const ctx = commandContext(command, deps);
      const { removeWebhook } = await import('../../core/webhook.js');
      const { client } = await openSession(ctx);
      await removeWebhook(client, id, { signal: deps.signal });
      if (!ctx.mode.quiet) deps.io.stderr.write(`webhook ${id} removed\n`);
    });
}
