/**
 * The accounts of a batch: one API client per account (base URL + credential), so that every job
 * of an account shares its 5 requests in flight and the weight-aware pacing, and one semaphore of
 * our tasks queued or running per account (4, docs/api-facts.md §3.1). Jobs naming different
 * profiles that resolve to the same account share them too; different accounts are independent.
 */
import { createHash } from 'node:crypto';
import { createApiClient, type ApiClient } from '../api/client.js';
import { resolveConnection, type Connection, type StoredProfile } from '../config/resolve.js';
import { createSemaphore, type Semaphore } from './semaphore.js';
import { loadProfiles, needsStoredProfiles, type SessionInput } from './session.js';

export interface Account {
  connection: Connection;
  client: ApiClient;
  taskSlots: Semaphore;
}

export interface AccountPool {
  /** The connection a job's profile resolves to (no request is sent): for --dry-run and checks. */
  connection(profile: string | undefined): Promise<Connection>;
  account(profile: string | undefined): Promise<Account>;
}

export function createAccountPool(input: SessionInput, tasksPerAccount: number): AccountPool {
  let stored: Promise<Record<string, StoredProfile> | undefined> | undefined;
  const accounts = new Map<string, Account>();
  const connection = async (profile: string | undefined): Promise<Connection> => {
    stored ??=
      needsStoredProfiles(input) || profile !== undefined
        ? loadProfiles(input.configDir, input.env)
        : Promise.resolve(undefined);
    return resolveConnection({
      flags: { ...input.globals, ...(profile === undefined ? {} : { profile }) },
      env: input.env,
      stored: await stored,
    });
  };
  return {
    connection,
    async account(profile) {
      const resolved = await connection(profile);
      const key = accountKey(resolved);
      let account = accounts.get(key);
      if (!account) {
        account = {
          connection: resolved,
          client: createApiClient({
            baseUrl: resolved.baseUrl,
            auth: resolved.auth,
            now: input.now,
            sleep: input.sleep,
            ...(input.random ? { random: input.random } : {}),
            ...(input.onLog ? { onLog: input.onLog } : {}),
          }),
          taskSlots: createSemaphore(tasksPerAccount),
        };
        accounts.set(key, account);
      }
      return account;
    },
  };
}

/** Base URL + a digest of the credential: the map never holds a token. */
function accountKey(connection: Connection): string {
  const auth =
    connection.auth.kind === 'bearer'
      ? `bearer:${connection.auth.token}`
      : `basic:${connection.auth.login}:${connection.auth.password}`;
  return `${connection.baseUrl}\n${createHash('sha256').update(auth).digest('hex')}`;
}
