/** `ms-async cache list|clean`: the partial result downloads kept for resume across runs. */
import { cleanCache, listCache, type CacheListing } from '../download/cache.js';

export type { CacheListing } from '../download/cache.js';

export function listCachedResults(cacheDir: string): Promise<CacheListing[]> {
  return listCache(cacheDir);
}

/** Removes the entries no running fetch/export uses (or only the expired ones). */
export function cleanCachedResults(
  cacheDir: string,
  now: number,
  expiredOnly: boolean,
): Promise<{ entries: number; bytes: number }> {
  return cleanCache(cacheDir, now, expiredOnly);
}
