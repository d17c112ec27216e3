/** `cancel`: PUT /async/{id}/cancel — 204, or 61007 when the task has already finished (§2.8). */
import type { ApiClient, CallOptions } from '../api/client.js';

export async function cancelTask(client: ApiClient, taskId: string, call: CallOptions = {}): Promise<void> {
  await client.cancelTask(taskId, call);
}
