// The unit search path of systemd 252 (src/basic/path-lookup.c:lookup_paths_init), as Debian builds it:
// the vendor directory is /lib/systemd/system, followed by /usr/lib/systemd/system.
import { homedir } from 'node:os';
import { resolve } from 'node:path';

export type UnitScope = 'system' | 'user';

export type Environment = Readonly<Record<string, string | undefined>>;

export interface SearchPathOptions {
  scope: UnitScope;
  /** `--unit-path` directories: when non-empty they replace the defaults and $SYSTEMD_UNIT_PATH */
  explicitDirs?: readonly string[];
  /** defaults to process.env; consulted for SYSTEMD_UNIT_PATH, XDG_* and HOME */
  env?: Environment;
  /** relative directories are made absolute against this; defaults to process.cwd() */
  cwd?: string;
}

/** Directories to search for unit files, highest priority first, without duplicates. */
export function unitSearchPath(options: SearchPathOptions): string[] {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();

  if (options.explicitDirs && options.explicitDirs.length > 0) {
    return unique(options.explicitDirs.map((d) => resolve(cwd, d)));
  }

  const fromEnv = env['SYSTEMD_UNIT_PATH'];
  if (fromEnv !== undefined) {
    // A trailing colon means "and then the defaults"; empty components elsewhere are dropped.
    const append = fromEnv.endsWith(':');
    const given = splitColonList(append ? fromEnv.slice(0, -1) : fromEnv).map((d) => resolve(cwd, d));
    if (!append) return unique(given);
    return unique([...given, ...defaultUnitSearchPath(options.scope, env)]);
  }

  return defaultUnitSearchPath(options.scope, env);
}

/** The built-in search path of a scope (what `systemd-analyze [--user] unit-paths` prints). */
export function defaultUnitSearchPath(scope: UnitScope, env: Environment = process.env): string[] {
  return unique(scope === 'system' ? systemDirs() : userDirs(env));
}

function systemDirs(): string[] {
  return [
    '/etc/systemd/system.control',
    '/run/systemd/system.control',
    '/run/systemd/transient',
    '/run/systemd/generator.early',
    '/etc/systemd/system',
    '/etc/systemd/system.attached',
    '/run/systemd/system',
    '/run/systemd/system.attached',
    '/run/systemd/generator',
    '/usr/local/lib/systemd/system',
    '/lib/systemd/system',
    '/usr/lib/systemd/system',
    '/run/systemd/generator.late',
  ];
}

// path-lookup.c:user_dirs(). Directories under $XDG_RUNTIME_DIR are left out when it is unset.
function userDirs(env: Environment): string[] {
  const home = nonEmpty(env['HOME']) ?? homedir();
  const configHome = nonEmpty(env['XDG_CONFIG_HOME']) ?? `${home}/.config`;
  const dataHome = nonEmpty(env['XDG_DATA_HOME']) ?? `${home}/.local/share`;
  const runtime = nonEmpty(env['XDG_RUNTIME_DIR']);
  const configDirs = env['XDG_CONFIG_DIRS'] !== undefined ? splitColonList(env['XDG_CONFIG_DIRS']) : ['/etc/xdg'];
  const dataDirs =
    env['XDG_DATA_DIRS'] !== undefined ? splitColonList(env['XDG_DATA_DIRS']) : ['/usr/local/share', '/usr/share'];
  const inRuntime = (suffix: string): string[] => (runtime ? [`${runtime}/systemd/${suffix}`] : []);

  return [
    `${configHome}/systemd/user.control`,
    ...inRuntime('user.control'),
    ...inRuntime('transient'),
    ...inRuntime('generator.early'),
    `${configHome}/systemd/user`,
    ...configDirs.map((d) => `${d}/systemd/user`),
    '/etc/systemd/user',
    ...inRuntime('user'),
    '/run/systemd/user',
    ...inRuntime('generator'),
    `${dataHome}/systemd/user`,
    ...dataDirs.map((d) => `${d}/systemd/user`),
    '/usr/local/lib/systemd/user',
    '/usr/local/share/systemd/user',
    '/usr/lib/systemd/user',
    '/usr/share/systemd/user',
    ...inRuntime('generator.late'),
  ].map((d) => resolve(d));
}

function splitColonList(value: string): string[] {
  return value.split(':').filter((s) => s !== '');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function unique(dirs: readonly string[]): string[] {
  return [...new Set(dirs)];
}
