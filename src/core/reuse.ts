/**
 * `export --reuse`: find a task of the last week with the same request, so that a heavy report is
 * not built twice (MoySklad asks integrations not to repeat heavy requests). A running one is
 * followed; a DONE one is downloaded while its result still has time to live.
 */
import { parseMoscowTime } from '../moscow-time.js';
import { pathBelowApiRoot } from '../reports/request.js';

export interface ReusableTaskCandidate {
  id: string;
  state: string;
  request: string;
  deletionDate?: string | undefined;
}

/** A request URL reduced to what identifies it: path below the API root and sorted parameters. */
export function requestKey(requestUrl: string): string {
  let url: URL;
  try {
    url = new URL(requestUrl, 'http://relative.invalid');
  } catch {
    return requestUrl;
  }
  // Compare below the API root, so that a task listed with the absolute URL matches our path.
  const path = pathBelowApiRoot(url.pathname).replace(/\/+$/, '');
  const params = [...url.searchParams.entries()]
    .filter(([key]) => key !== 'async')
    .sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)));
  return `${path}?${new URLSearchParams(params).toString()}`;
}

/**
 * The task to reuse for `request`, if any: a PENDING/PROCESSING one first (it is on its way), else
 * the DONE one whose result lives longest, if it lives at least `minLifeMs` more (time to download).
 */
export function pickReusableTask<T extends ReusableTaskCandidate>(
  tasks: readonly T[],
  request: string,
  now: number,
  minLifeMs = 5 * 60_000,
): T | undefined {
  const key = requestKey(request);
  const same = tasks.filter((task) => requestKey(task.request) === key);
  const running = same.find((task) => task.state === 'PENDING' || task.state === 'PROCESSING');
  if (running) return running;
  let best: { task: T; deletion: number } | undefined;
  for (const task of same) {
    if (task.state !== 'DONE' || task.deletionDate === undefined) continue;
    const deletion = parseMoscowTime(task.deletionDate);
    if (deletion === undefined || deletion - now < minLifeMs) continue;
    if (!best || deletion > best.deletion) best = { task, deletion };
  }
  return best?.task;
}
