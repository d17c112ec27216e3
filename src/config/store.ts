/**
 * The stored settings, one record per profile, in conf's file (projectName `ms-async`), readable
 * by its owner only (0600). conf is imported lazily: only commands that need it pay for it.
 */
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
  const conf = new Conf<Schema>({
    projectName: 'ms-async',
    projectSuffix: '',
    configName: 'config',
    ...(options.cwd ? { cwd: options.cwd } : {}),
    configFileMode: 0o600,
    // Profile names are data, not paths: a dot in one must not create nesting.
    accessPropertiesByDotNotation: false,
    defaults: { profiles: {} },
  });
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

/** `base-url`/`baseUrl` → `baseUrl`; `token` → `token`; `precise-money` → `preciseMoney`; else undefined. */
export function profileField(key: string): keyof StoredProfile | undefined {
  const k = key.toLowerCase().replace(/[-_]/g, '');
  if (k === 'baseurl') return 'baseUrl';
  if (k === 'token') return 'token';
  if (k === 'precisemoney') return 'preciseMoney';
  return undefined;
}
