/** `cancel`: PUT /async/{id}/cancel — 204, or 61007 when the task has already finished (§2.8). */
import type { ApiClient, CallOptions } from '../api/client.js';
import { InterruptedError } from '../errors.js';

export async function cancelTask(client: ApiClient, taskId: string, call: CallOptions = {}): Promise<void> {
  await client.cancelTask(taskId, call);
}

/**
 * Ctrl-C with `--cancel-on-interrupt` (status, fetch, export): cancels the task and gives back the
 * error to end the run with. It is exit 130 either way, since the user interrupted; but a cancel that
 * failed is said as such, with the commands to check and retry, and never reported as a cancel.
 */
export async function cancelAfterInterrupt(
  cancel: () => Promise<void>,
  taskId: string,
  onCancelled?: (taskId: string) => void,
): Promise<InterruptedError> {
  try {
    await cancel();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new InterruptedError(`interrupted; cancelling task ${taskId} failed (${reason}): it may still be running`, {
      cause: error,
      hint: `check it with: ms-async status ${taskId}; cancel it with: ms-async cancel ${taskId}`,
    });
  }
  onCancelled?.(taskId);
  return new InterruptedError(`interrupted; task ${taskId} was cancelled`);
}
