/**
 * The network deadlines of ms-async, in one place: the API client uses them, and the storage
 * download (src/download) imports them too (issue 14 item 3). Each one bounds a request whatever
 * the server does; `--timeout` bounds a whole wait on top of them.
 */

/** DNS lookup, TCP connect and TLS handshake, each. */
export const CONNECT_TIMEOUT_MS = 15_000;

/**
 * From the request sent to the status line and headers. The async exchange's own calls answer in
 * well under a second; the 300 s of docs/api-facts.md §3.6 are for synchronous reports, which we
 * never run.
 */
export const HEADER_TIMEOUT_MS = 60_000;

/** Silence on the socket (no byte either way) before the request is given up: a stalled body. */
export const IDLE_TIMEOUT_MS = 60_000;

/** A whole API answer (small JSON) must have arrived by then: a body trickling in byte by byte. */
export const API_ANSWER_TIMEOUT_MS = 120_000;

/**
 * Longest single pause asked by rate-limit headers. X-Lognex-Reset has been seen saying a day
 * (86400000) or 1e12; the API's window is 3 s (docs/api-facts.md §3.3), so a minute is generous.
 */
export const MAX_PACING_MS = 60_000;

/**
 * Largest API answer, decoded, that the client takes in. Its answers are small JSON (a page of
 * 1000 tasks is under 1 MiB); a few MB of gzip can inflate to gigabytes (issue 14 item 4).
 * Result files are not API answers: they go through the download, which streams to disk.
 */
export const MAX_API_ANSWER_BYTES = 8 * 1024 * 1024;

/** setTimeout's largest delay; anything above fires at once with a TimeoutOverflowWarning. */
export const MAX_TIMER_MS = 2_147_483_647;

/** A delay made safe for a timer: finite, at least 0 and at most `cap`. */
export function clampDelay(ms: number, cap: number = MAX_PACING_MS): number {
  if (Number.isNaN(ms) || ms <= 0) return 0;
  return Math.min(Math.ceil(ms), cap, MAX_TIMER_MS);
}
