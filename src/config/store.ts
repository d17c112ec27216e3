/**
 * The stored settings, one record per profile, in conf's file (projectName `ms-async`), readable
 * by its owner only (0600). conf writes it (login, config set). Every other command only reads
 * it, with JSON.parse (readStoredProfiles): importing conf (with ajv) took 180 ms of a fetch's
 * start-up, about as long as got itself.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LocalFileError } from '../errors.js';
import type { StoredProfile } from './resolve.js';

export interface ConfigStore {
  /** The file's path. */
  readonly path: string;
  profiles(): Record<string, StoredProfile>;
  getProfile(name: string): StoredProfile | undefined;
  /** Stores the profile; one with no settings left is removed. */
  setProfile(name: string, profile: StoredProfile): void;
}

interface Schema {
  profiles: Record<string, StoredProfile>;
}

/** Opens (creating lazily) the config file; `cwd` overrides the directory (tests, MS_ASYNC_CONFIG_DIR). */
export async function openConfigStore(options: { cwd?: string | undefined } = {}): Promise<ConfigStore> {
  const { default: Conf } = await import('conf');
  let conf: InstanceType<typeof Conf<Schema>>;
  try {
    conf = new Conf<Schema>({
      projectName: 'ms-async',
      projectSuffix: '',
      configName: 'config',
      ...(options.cwd ? { cwd: options.cwd } : {}),
      configFileMode: 0o600,
      // Profile names are data, not paths: a dot in one must not create nesting.
      accessPropertiesByDotNotation: false,
      defaults: { profiles: {} },
    });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw notJson(configFilePath(options.cwd, process.env), error);
  }
  const read = (): Record<string, StoredProfile> => ({ ...(conf.get('profiles') ?? {}) });
  return {
    path: conf.path,
    profiles: read,
    getProfile: (name) => read()[name],
    setProfile(name, profile) {
      const clean: StoredProfile = {};
      if (profile.baseUrl) clean.baseUrl = profile.baseUrl;
      if (profile.token) clean.token = profile.token;
      if (profile.preciseMoney) clean.preciseMoney = profile.preciseMoney;
      const all = read();
      if (Object.keys(clean).length === 0) delete all[name];
      else all[name] = clean;
      conf.set('profiles', all);
    },
  };
}

/**
 * Where conf keeps the file: `configDir` (tests, MS_ASYNC_CONFIG_DIR), else conf's env-paths rule
 * for projectName `ms-async` with no suffix.
 */
export function configFilePath(configDir: string | undefined, env: Record<string, string | undefined>): string {
  let folder = configDir;
  if (!folder) {
    const home = env.HOME || homedir();
    if (process.platform === 'darwin') folder = join(home, 'Library', 'Preferences', 'ms-async');
    else if (process.platform === 'win32')
      folder = join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'ms-async', 'Config');
    else folder = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'ms-async');
  }
  return join(folder, 'config.json');
}

/**
 * The stored profiles, read without conf and without creating the file: none when there is no
 * file. A file that is not JSON, or whose `profiles` is not an object, is exit 9 naming the file.
 */
export async function readStoredProfiles(
  configDir: string | undefined,
  env: Record<string, string | undefined>,
): Promise<Record<string, StoredProfile>> {
  const path = configFilePath(configDir, env);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LocalFileError(`cannot read the config file ${path}: ${(error as Error).message}`, { cause: error });
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw notJson(path, error as Error);
  }
  const profiles = isObject(root) ? root.profiles : null;
  if (profiles === undefined) return {};
  if (!isObject(profiles)) {
    throw new LocalFileError(`the config file ${path} is not a JSON object with a "profiles" object`, {
      hint: REPAIR_HINT,
    });
  }
  return { ...(profiles as Record<string, StoredProfile>) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const REPAIR_HINT = 'fix it by hand, or remove it and run `ms-async login` again';

function notJson(path: string, error: Error): LocalFileError {
  return new LocalFileError(`the config file ${path} is not valid JSON (${error.message})`, {
    hint: REPAIR_HINT,
    cause: error,
  });
}

/** `base-url`/`baseUrl` → `baseUrl`; `token` → `token`; `precise-money` → `preciseMoney`; else undefined. */
export function profileField(key: string): keyof StoredProfile | undefined {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  if (k === 'baseurl') return 'baseUrl';
  if (k === 'token') return 'token';
  if (k === 'precisemoney') return 'preciseMoney';
  return undefined;
}
