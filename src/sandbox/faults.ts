/**
 * Fault switches of the sandbox: everything a client must survive, switchable between requests
 * from tests (`sandbox.setFaults`), over HTTP (`PUT …/__sandbox/faults`) or from the CLI
 * (`ms-async sandbox --fault status429=3`).
 */

/**
 * A run of API requests, counted from the moment the fault was set: `{at: 1}` is the next API
 * request, `{at: 3, count: 2}` the third and fourth. Control requests (`/__sandbox/*`) do not count.
 */
export interface RequestSpan {
  at: number;
  count?: number;
}

/**
 * The forms a 429 takes (docs/api-facts.md §10.1): `rate` — code 1049 with X-Lognex-Retry-After
 * (and `X-Lognex-Auth: 429002`); `parallel` — `X-Lognex-Auth: 429005`, an empty `{}` body and no
 * Retry-After; `bare` — no header and no body at all.
 */
export type Status429Form = 'rate' | 'parallel' | 'bare';
export const STATUS429_FORMS: readonly Status429Form[] = ['rate', 'parallel', 'bare'];

/** How a task ends when a fault forces it (instead of DONE). */
export type TaskOutcome = 'ERROR' | 'CANCEL' | 'API_ERROR' | 'API_ERROR_AUTH';

export interface Faults {
  /** These API requests answer 429: by default code 1049, rate headers and X-Lognex-Retry-After. */
  status429: (RequestSpan & { form?: Status429Form }) | null;
  /** These API requests answer a 5xx (`status`, default 503) with an error body. */
  status5xx: (RequestSpan & { status?: number }) | null;
  /** These API requests get their connection destroyed without an answer. */
  dropConnection: RequestSpan | null;
  /** These API answers that have a JSON body are cut in half (200 with malformed JSON). */
  brokenJson: RequestSpan | null;
  /** Every N-th API answer is sent without gzip (0 = never, 1 = always). */
  skipGzipEvery: number;
  /** Extra delay, in ms, before every API answer (makes requests overlap for the 1073 limit). */
  slowApiMs: number;
  /** The next storage download has its socket destroyed after this many body bytes (once). */
  cutDownloadAfterBytes: number | null;
  /** The next storage link issued by /result is already expired (once): storage answers 403. */
  expiredLink: boolean;
  /** The result file is served cut mid-JSON: on the next download only, or on every download. */
  truncateResult: 'off' | 'once' | 'always';
  /**
   * Every storage download serves this text as the result file instead of the task's (an API error
   * body, `{}`, an array …: what a DONE task's file must never be taken for), until set to null.
   */
  resultBody: string | null;
  /** Tasks created from now on end this way instead of DONE (null: normal). */
  taskOutcome: TaskOutcome | null;
  /** Status and body of a plain (non-auth) API_ERROR outcome. Default 400 / 1040. */
  apiError: { status: number; code: number; error?: string } | null;
  /** Override the task delays for tasks created from now on (null: the sandbox options). */
  pendingMs: number | null;
  processingMs: number | null;
  /** Throttle storage downloads to this many bytes per second (null: options.storage). */
  storageBytesPerSecond: number | null;
  /**
   * The async exchange as documented before 2021 (docs/api-facts.md §10.7): creation answers 204
   * with the status URL in Location and the result URL in Content-Location, and `/result` of a
   * DONE task answers 200 with the file itself.
   */
  legacyAsync: boolean;
}

export function defaultFaults(): Faults {
  return {
    status429: null,
    status5xx: null,
    dropConnection: null,
    brokenJson: null,
    skipGzipEvery: 0,
    slowApiMs: 0,
    cutDownloadAfterBytes: null,
    expiredLink: false,
    truncateResult: 'off',
    resultBody: null,
    taskOutcome: null,
    apiError: null,
    pendingMs: null,
    processingMs: null,
    storageBytesPerSecond: null,
    legacyAsync: false,
  };
}

const OUTCOMES: readonly string[] = ['ERROR', 'CANCEL', 'API_ERROR', 'API_ERROR_AUTH'];

function span(value: string, name: string): RequestSpan {
  // "3" or "3+2" (requests 3 and 4) or "3-5" (requests 3, 4 and 5)
  const m = /^(\d+)(?:([+-])(\d+))?$/.exec(value);
  if (!m) throw new Error(`--fault ${name}: expected N, N+K or N-M, got "${value}"`);
  const at = Number(m[1]);
  if (at < 1) throw new Error(`--fault ${name}: requests are counted from 1`);
  if (!m[2]) return { at, count: 1 };
  const k = Number(m[3]);
  return m[2] === '+' ? { at, count: k + 1 } : { at, count: Math.max(1, k - at + 1) };
}

function int(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`--fault ${name}: expected a whole number, got "${value}"`);
  return Number(value);
}

/**
 * Parses one CLI fault spec (`name=value`, or a bare name for switches) into a partial Faults.
 * See FAULT_HELP for the syntax.
 */
export function parseFaultSpec(spec: string): Partial<Faults> {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? '' : spec.slice(eq + 1).trim();
  switch (name) {
    case 'status429': {
      // 2, 2+1, 2:parallel, 2+1:bare
      const [where = '', form] = value.split(':');
      if (form !== undefined && !(STATUS429_FORMS as readonly string[]).includes(form)) {
        throw new Error(`--fault status429: the form is one of ${STATUS429_FORMS.join(', ')}, got "${form}"`);
      }
      return { status429: { ...span(where, name), ...(form ? { form: form as Status429Form } : {}) } };
    }
    case 'status5xx': {
      // 2, 2+1, 2:502, 2+1:500
      const [where = '', status] = value.split(':');
      const s = span(where, name);
      return { status5xx: { ...s, status: status ? int(status, name) : 503 } };
    }
    case 'drop':
      return { dropConnection: span(value, name) };
    case 'broken-json':
      return { brokenJson: span(value, name) };
    case 'no-gzip':
      return { skipGzipEvery: value ? int(value, name) : 1 };
    case 'slow-api':
      return { slowApiMs: int(value, name) };
    case 'cut-download':
      return { cutDownloadAfterBytes: int(value, name) };
    case 'expired-link':
      return { expiredLink: true };
    case 'truncate':
      if (value === '' || value === 'once') return { truncateResult: 'once' };
      if (value === 'always') return { truncateResult: 'always' };
      throw new Error(`--fault truncate: expected once or always, got "${value}"`);
    case 'result-body':
      if (value === '') throw new Error('--fault result-body: expected the JSON text to serve');
      return { resultBody: value };
    case 'task': {
      const outcome = value.toUpperCase().replace(/-/g, '_');
      if (!OUTCOMES.includes(outcome))
        throw new Error(`--fault task: expected one of ${OUTCOMES.join(', ')}, got "${value}"`);
      return { taskOutcome: outcome as TaskOutcome };
    }
    case 'pending-ms':
      return { pendingMs: int(value, name) };
    case 'processing-ms':
      return { processingMs: int(value, name) };
    case 'slow-storage':
      return { storageBytesPerSecond: int(value, name) };
    case 'legacy-async':
      return { legacyAsync: true };
    default:
      throw new Error(`unknown fault "${name}" (see ms-async sandbox --help)`);
  }
}

export const FAULT_HELP = `Fault switches (--fault, repeatable; API requests are counted from 1 after start-up):
  status429=N[+K][:F]     requests N..N+K answer 429: F=rate (code 1049, X-Lognex-Retry-After; default),
                          parallel (X-Lognex-Auth: 429005, body {}), bare (no header, no body)
  status5xx=N[+K][:S]     requests N..N+K answer status S (default 503)
  drop=N[+K]              requests N..N+K have their connection destroyed
  broken-json=N[+K]       answers N..N+K with a JSON body are cut in half
  no-gzip[=N]             every N-th answer (default every one) is sent uncompressed
  slow-api=MS             every API answer waits MS ms first
  cut-download=BYTES      the first storage download is cut after BYTES bytes
  expired-link            the first storage link is already expired (storage answers 403)
  truncate[=once|always]  the result file is served cut mid-JSON
  result-body=TEXT        every download serves TEXT as the result (e.g. '{"errors":[{"error":"x","code":1016}]}')
  task=ERROR|CANCEL|API_ERROR|API_ERROR_AUTH   tasks end that way instead of DONE
  pending-ms=MS, processing-ms=MS              task delays
  slow-storage=BYTES_PER_S                     throttle storage downloads
  legacy-async            the pre-2021 exchange: creation 204 (URLs swapped), /result 200 with the file`;
