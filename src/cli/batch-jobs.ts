/**
 * The job file of `ms-async batch` (README "Batch"): YAML or JSON, the same schema either way,
 * checked whole before any request, with errors that name the job and the field (exit 2).
 *
 * Job keys are the `export` command's own options in camelCase, read from the command itself:
 * an option added to `export` is a job key at once, with the same parser and choices, and there
 * is no second list to keep in step. Beyond them: `report`, `params` (the `-p` pairs as an
 * object) and `profile` (the account).
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { Command, type Option } from 'commander';
import { parseDocument as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';
import type { CliDeps } from './context.js';
import { registerExport } from './commands/export.js';

/** Export options that make no sense per job: `--sandbox` is for trying, `-p` is `params`. */
const NOT_JOB_KEYS = new Set(['sandbox', 'sandboxRows', 'param', 'help']);
/** Keys of a job besides the export options. */
const EXTRA_KEYS = ['report', 'params', 'profile'] as const;
/** Never in a file: credentials belong in the environment or `ms-async login`. */
const SECRET_KEYS = new Set(['token', 'password', 'login', 'authorization']);

/** One job as the export path takes it: the export command's flags, plus report and profile. */
export interface BatchJob {
  /** 1-based position in the file. */
  index: number;
  report: string;
  profile: string | undefined;
  /** `out` as written in the file (for messages), and resolved against the file's folder. */
  outArgument: string;
  /** Export flags in commander's camelCase (`out` absolute, `param` pairs, `timeout` in ms …). */
  flags: Record<string, unknown> & { out: string; param: Array<[string, string]> };
}

interface KeySpec {
  kind: 'boolean' | 'value';
  option?: Option;
}

let exportOptions: Map<string, KeySpec> | undefined;

/** The job keys, from the export command's options (built once; the command is never run). */
export function jobKeys(): Map<string, KeySpec> {
  if (exportOptions) return exportOptions;
  const program = new Command();
  registerExport(program, undefined as unknown as CliDeps);
  const command = program.commands.find((c) => c.name() === 'export');
  const keys = new Map<string, KeySpec>();
  for (const option of command?.options ?? []) {
    const key = option.attributeName();
    if (NOT_JOB_KEYS.has(key)) continue;
    // `--rubles` and `--no-rubles` are one key; a job writes `rubles: false`.
    const kind = option.required || option.optional ? 'value' : 'boolean';
    if (!keys.has(key) || kind === 'value') keys.set(key, { kind, option });
  }
  keys.set('report', { kind: 'value' });
  keys.set('profile', { kind: 'value' });
  exportOptions = keys;
  return keys;
}

/** Defaults of the export options (e.g. `timeout`), as commander would set them. */
function optionDefaults(): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const [key, spec] of jobKeys()) {
    if (spec.option?.defaultValue !== undefined) defaults[key] = spec.option.defaultValue;
  }
  return defaults;
}

export interface LoadJobsOptions {
  /** Values from the batch command line (`--timeout`, `--reuse`): under the file's own. */
  commandLine: Record<string, unknown>;
}

/**
 * Reads and parses the job file and checks its keys, returning the problems found rather than
 * throwing them: the batch adds the problems of its later checks (report, period, columns, the
 * folder of `out`) and reports them all in one run (README "Batch").
 */
export async function readJobFile(path: string, options: LoadJobsOptions): Promise<CheckedJobs> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the job file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const document = await parseDocument(text, path);
  return collectJobs(document, { ...options, baseDir: dirname(resolve(path)) });
}

export interface CheckedJobs {
  /** The jobs that have an `out`, even those with problems (so that their later checks run too). */
  jobs: BatchJob[];
  problems: string[];
}

/** One UsageError listing every problem of the job file, one line each. */
export function jobFileError(problems: readonly string[]): UsageError {
  return new UsageError(
    problems.length === 1
      ? `job file: ${problems[0]}`
      : `job file: ${problems.length} problems:\n  ${problems.join('\n  ')}`,
    {
      hint: 'job keys are the export options in camelCase (see `ms-async export --help`), plus report, params and profile',
    },
  );
}

async function parseDocument(text: string, path: string): Promise<unknown> {
  if (extname(path).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`the job file ${path} is not valid JSON: ${(error as Error).message}`);
    }
  }
  const document = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new UsageError(`the job file ${path} is not valid YAML: ${document.errors[0]?.message ?? ''}`.trim());
  }
  return document.toJS() as unknown;
}

function collectJobs(document: unknown, options: LoadJobsOptions & { baseDir: string }): CheckedJobs {
  const problems: string[] = [];
  if (!isObject(document)) throw new UsageError('the job file must hold an object with a "jobs" list');
  for (const key of Object.keys(document)) {
    if (key !== 'jobs' && key !== 'defaults')
      problems.push(`unknown top-level key "${key}" (expected "defaults" and "jobs")`);
  }
  const defaults = document.defaults ?? {};
  if (!isObject(defaults)) problems.push('"defaults" must be an object of job keys');
  if (!Array.isArray(document.jobs) || document.jobs.length === 0) {
    problems.push('"jobs" must be a non-empty list');
  }
  const defaultFlags = isObject(defaults) ? readKeys(defaults, 'defaults', problems) : {};
  const jobs: BatchJob[] = [];
  const outs = new Map<string, number>();
  for (const [i, raw] of (Array.isArray(document.jobs) ? document.jobs : []).entries()) {
    const name = isObject(raw) && typeof raw.report === 'string' ? `job ${i + 1} (${raw.report})` : `job ${i + 1}`;
    if (!isObject(raw)) {
      problems.push(`${name}: must be an object with at least "report" and "out"`);
      continue;
    }
    const own = readKeys(raw, name, problems);
    const merged: Record<string, unknown> = { ...optionDefaults(), ...options.commandLine, ...defaultFlags, ...own };
    merged.param = [
      ...((defaultFlags.param as Array<[string, string]>) ?? []),
      ...((own.param as Array<[string, string]>) ?? []),
    ];
    if (typeof merged.report !== 'string' || merged.report === '')
      problems.push(`${name}: field "report": is required`);
    if (typeof merged.out !== 'string' || merged.out === '') {
      problems.push(`${name}: field "out": is required (a path, relative to the job file's folder)`);
      continue;
    }
    if (merged.out === '-') {
      problems.push(`${name}: field "out": "-" (stdout) cannot be used in a batch; name a file`);
      continue;
    }
    const out = resolve(options.baseDir, merged.out);
    const previous = outs.get(out);
    if (previous !== undefined) problems.push(`${name}: field "out": job ${previous} writes ${merged.out} too`);
    outs.set(out, i + 1);
    jobs.push({
      index: i + 1,
      report: String(merged.report ?? ''),
      profile: typeof merged.profile === 'string' ? merged.profile : undefined,
      outArgument: merged.out,
      flags: { ...merged, out, param: merged.param as Array<[string, string]> },
    });
  }
  return { jobs, problems };
}

/** The keys of a job (or of defaults) checked and parsed as the export command would. */
function readKeys(raw: Record<string, unknown>, name: string, problems: string[]): Record<string, unknown> {
  const keys = jobKeys();
  const flags: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const field = `${name}: field "${key}"`;
    if (SECRET_KEYS.has(key.toLowerCase())) {
      problems.push(`${field}: credentials do not belong in a job file; use a profile (ms-async login) or MS_TOKEN`);
      continue;
    }
    if (key === 'params') {
      if (!isObject(value)) {
        problems.push(`${field}: must be an object of query parameters, e.g. { momentFrom: "2026-11-01 00:00:00" }`);
        continue;
      }
      const pairs: Array<[string, string]> = [];
      for (const [param, v] of Object.entries(value)) {
        if (!['string', 'number', 'boolean'].includes(typeof v))
          problems.push(`${field}: "${param}" must be a string, number or boolean`);
        else pairs.push([param, String(v)]);
      }
      flags.param = pairs;
      continue;
    }
    const spec = keys.get(key);
    if (!spec) {
      const near = closestKey(key, [...keys.keys(), ...EXTRA_KEYS]);
      problems.push(`${field}: unknown key${near ? `; did you mean "${near}"?` : ''}`);
      continue;
    }
    if (spec.kind === 'boolean') {
      if (typeof value !== 'boolean') problems.push(`${field}: must be true or false`);
      else flags[key] = value;
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      problems.push(
        `${field}: must be a string, not ${Array.isArray(value) ? 'a list' : value === null ? 'empty' : typeof value}`,
      );
      continue;
    }
    const text = String(value);
    const choices = spec.option?.argChoices;
    if (choices && !choices.includes(text)) {
      problems.push(`${field}: "${text}" is not one of ${choices.join(', ')}`);
      continue;
    }
    try {
      flags[key] = spec.option?.parseArg ? spec.option.parseArg(text, undefined) : text;
    } catch (error) {
      problems.push(`${field}: ${(error as Error).message}`);
    }
  }
  return flags;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function closestKey(text: string, candidates: readonly string[]): string | undefined {
  const lower = text.toLowerCase();
  const scored = candidates.map((c) => ({ c, d: distance(lower, c.toLowerCase()) })).sort((a, b) => a.d - b.d);
  const best = scored[0];
  return best && best.d <= Math.max(2, Math.floor(text.length / 3)) ? best.c : undefined;
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
