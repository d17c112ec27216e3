/** `webhook add|list|remove`: webhooks on async tasks (entityType `async`, docs/api-facts.md §7). */
import { UsageError } from '../errors.js';
import type { ApiClient, CallOptions } from '../api/client.js';
import type { Webhook, WebhookAction } from '../api/types.js';

export const WEBHOOK_ACTIONS: readonly WebhookAction[] = ['PROCESSED', 'UPDATE'];

export async function addWebhook(
  client: ApiClient,
  input: { url: string; action: string },
  call: CallOptions = {},
): Promise<Webhook> {
  const action = input.action.toUpperCase();
  if (!WEBHOOK_ACTIONS.includes(action as WebhookAction)) {
    throw new UsageError(`--action must be PROCESSED or UPDATE, not "${input.action}"`);
  }
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw new UsageError(`--url "${input.url}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--url must be an http(s) address');
  if (input.url.length > 255) throw new UsageError('--url is longer than 255 characters (API error 30010)');
  return client.createWebhook({ url: input.url, action: action as WebhookAction }, call);
}

/** The account's webhooks on async tasks only. */
export async function listAsyncWebhooks(client: ApiClient, call: CallOptions = {}): Promise<Webhook[]> {
  return (await client.listWebhooks(call)).filter((h) => h.entityType === 'async');
}

export async function removeWebhook(client: ApiClient, id: string, call: CallOptions = {}): Promise<void> {
  await client.deleteWebhook(id, call);
}
