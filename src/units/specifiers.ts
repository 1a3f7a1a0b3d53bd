// Unit specifier expansion (%n, %i, %t, ...), following systemd 252's src/core/unit-printf.c and
// src/shared/specifier.c. In 252, %u/%U/%g/%G/%h/%s describe the user the *manager* runs as
// (root for the system manager), not the unit's User=.

import { architecture } from '../util/architecture.js';
import { realpathSync } from 'node:fs';
import { readBoundedFile } from '../util/bounded-read.js';
import * as os from 'node:os';
import { dirname } from 'node:path';
import {
  instanceOf,
  prefixAndInstanceOf,
  prefixOf,
  unescapeUnitNamePart,
  unescapeUnitNamePath,
  unitNameToPath,
} from './unit-name.js';

export interface SpecifierUser {
  name: string;
  uid: number;
  group: string;
  gid: number;
  home: string;
  shell: string;
}

export interface SpecifierContext {
  /** the unit's primary name, e.g. "getty@tty1.service" */
  unitId: string;
  /** the unit file, for %y/%Y (an error when absent) */
  fragmentPath?: string;
  scope: 'system' | 'user';
  /** the manager's user: %u %U %g %G %h %s */
  user: SpecifierUser;
  /** %t: /run, or $XDG_RUNTIME_DIR for a user manager */
  runtimeDir: string;
  /** %S, %C, %L, %E */
  stateDir: string;
  cacheDir: string;
  logsDir: string;
  configDir: string;
  /** %T, %V */
  tmpDir: string;
  varTmpDir: string;
  /** %H; %l is this up to the first dot */
  hostname: string;
  /** %q (PRETTY_HOSTNAME from /etc/machine-info); falls back to the short hostname */
  prettyHostname?: string;
  /** %m, %b: 32 lowercase hex digits */
  machineId: string;
  bootId: string;
  /** %v, %a */
  kernelRelease: string;
  architecture: string;
  /** os-release fields for %o (ID) %w (VERSION_ID) %W (VARIANT_ID) %B (BUILD_ID) %A (IMAGE_VERSION) %M (IMAGE_ID) */
  osRelease: Record<string, string>;
  /** deprecated %c %r %R; empty when unknown */
  cgroupPath?: string;
  sliceCgroupPath?: string;
  cgroupRoot?: string;
}

/** Why expansion failed; systemd then ignores the setting (or fails the unit, for Exec*=). */
export class SpecifierError extends Error {
  constructor(
    readonly specifier: string,
    /** strerror-like reason, as systemd prints after "Failed to resolve unit specifiers in '…': " */
    reason: string,
  ) {
    super(reason);
    this.name = 'SpecifierError';
  }
}

/** PATH_MAX-1 for paths (unit_path_printf), LONG_LINE_MAX for other strings (unit_full_printf). */
export const SPECIFIER_MAX_PATH = 4095;
export const SPECIFIER_MAX_FULL = 1024 * 1024;

export interface ExpandOptions {
  /**
   * 'full' (unit_full_printf): all specifiers. 'name' (unit_name_printf, used for unit names in
   * dependencies): only %i %j %n %N %p, system and user specifiers.
   */
  mode?: 'full' | 'name';
  maxLength?: number;
}

type Lookup = (ctx: SpecifierContext) => string;

function lastComponent(ctx: SpecifierContext): string {
  const prefix = prefixOf(ctx.unitId);
  const dash = prefix.lastIndexOf('-');
  return dash >= 0 ? prefix.slice(dash + 1) : prefix;
}

function osField(key: string): Lookup {
  return (ctx) => ctx.osRelease[key] ?? '';
}

function realFragment(ctx: SpecifierContext): string {
  if (!ctx.fragmentPath) throw new SpecifierError('y', 'No such file or directory');
  try {
    return realpathSync(ctx.fragmentPath);
  } catch {
    throw new SpecifierError('y', 'No such file or directory');
  }
}

const NAME_SPECIFIERS: Record<string, Lookup> = {
  i: (ctx) => instanceOf(ctx.unitId) ?? '',
  j: lastComponent,
  n: (ctx) => ctx.unitId,
  N: (ctx) => prefixAndInstanceOf(ctx.unitId),
  p: (ctx) => prefixOf(ctx.unitId),
};

const SYSTEM_SPECIFIERS: Record<string, Lookup> = {
  a: (ctx) => ctx.architecture,
  A: osField('IMAGE_VERSION'),
  b: (ctx) => ctx.bootId,
  B: osField('BUILD_ID'),
  H: (ctx) => ctx.hostname,
  l: (ctx) => ctx.hostname.split('.')[0] ?? '',
  q: (ctx) => ctx.prettyHostname ?? ctx.hostname.split('.')[0] ?? '',
  m: (ctx) => ctx.machineId,
  M: osField('IMAGE_ID'),
  o: osField('ID'),
  v: (ctx) => ctx.kernelRelease,
  w: osField('VERSION_ID'),
  W: osField('VARIANT_ID'),
};

const CREDS_SPECIFIERS: Record<string, Lookup> = {
  g: (ctx) => ctx.user.group,
  G: (ctx) => String(ctx.user.gid),
  u: (ctx) => ctx.user.name,
  U: (ctx) => String(ctx.user.uid),
};

const FULL_ONLY_SPECIFIERS: Record<string, Lookup> = {
  I: (ctx) => unescapeUnitNamePart(instanceOf(ctx.unitId) ?? ''),
  J: (ctx) => unescapeUnitNamePart(lastComponent(ctx)),
  P: (ctx) => unescapeUnitNamePart(prefixOf(ctx.unitId)),
  f: (ctx) => {
    const instance = instanceOf(ctx.unitId);
    return instance !== null ? unescapeUnitNamePath(instance) : unitNameToPath(ctx.unitId);
  },
  y: realFragment,
  Y: (ctx) => dirname(realFragment(ctx)),
  c: (ctx) => ctx.cgroupPath ?? '',
  r: (ctx) => ctx.sliceCgroupPath ?? ctx.cgroupRoot ?? '',
  R: (ctx) => ctx.cgroupRoot ?? '',
  C: (ctx) => ctx.cacheDir,
  d: (ctx) => `${ctx.runtimeDir}/credentials/${ctx.unitId}`,
  E: (ctx) => ctx.configDir,
  L: (ctx) => ctx.logsDir,
  S: (ctx) => ctx.stateDir,
  t: (ctx) => ctx.runtimeDir,
  h: (ctx) => ctx.user.home,
  s: (ctx) => ctx.user.shell,
  T: (ctx) => ctx.tmpDir,
  V: (ctx) => ctx.varTmpDir,
};

const NAME_TABLE = { ...NAME_SPECIFIERS, ...SYSTEM_SPECIFIERS, ...CREDS_SPECIFIERS };
const FULL_TABLE = { ...NAME_TABLE, ...FULL_ONLY_SPECIFIERS };

/**
 * specifier_printf(): "%%" is "%", a known specifier is replaced, an unknown letter or digit is an
 * error ("Invalid slot"), "%" before any other character (or at the end) stays as is.
 */
export function expandSpecifiers(s: string, ctx: SpecifierContext, options: ExpandOptions = {}): string {
  const table = options.mode === 'name' ? NAME_TABLE : FULL_TABLE;
  const max = options.maxLength ?? SPECIFIER_MAX_FULL;
  // specifier_printf() fails as soon as the result grows past max_length; the size is counted as
  // pieces are added (measuring the whole result after each specifier made 100k %n take 30 s)
  const out: string[] = [];
  let bytes = 0;
  const add = (piece: string): void => {
    bytes += Buffer.byteLength(piece, 'utf8');
    if (bytes > max) throw new SpecifierError('', 'File name too long');
    out.push(piece);
  };
  // a value is looked up once per expansion (%y resolves the fragment's path each time otherwise)
  const values = new Map<string, string>();
  let literal = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '%') continue;
    if (i > literal) add(s.slice(literal, i));
    if (i + 1 >= s.length) {
      // a stray % at the end stays
      literal = i;
      break;
    }
    const spec = s[++i]!;
    literal = i + 1;
    if (spec === '%') add('%');
    else if (Object.prototype.hasOwnProperty.call(table, spec)) {
      let value = values.get(spec);
      if (value === undefined) {
        try {
          value = table[spec]!(ctx);
        } catch (err) {
          if (err instanceof SpecifierError) throw err;
          throw new SpecifierError(spec, 'Invalid argument');
        }
        values.set(spec, value);
      }
      add(value);
    } else if (/^[0-9A-Za-z]$/.test(spec)) {
      throw new SpecifierError(spec, 'Invalid slot');
    } else add(`%${spec}`);
  }
  if (literal < s.length) add(s.slice(literal));
  return out.join('');
}

/** A small system file (/etc/machine-id, os-release, ...), read bounded: a regular file only. */
function readTrimmed(path: string): string | undefined {
  try {
    const read = readBoundedFile(path);
    return read.kind === 'regular' ? read.data.toString('utf8').trim() : undefined;
  } catch {
    return undefined;
  }
}

function parseEnvFile(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) fields[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return fields;
}

function parseOsRelease(): Record<string, string> {
  return parseEnvFile(readTrimmed('/etc/os-release') ?? readTrimmed('/usr/lib/os-release') ?? '');
}

function prettyHostname(): string | undefined {
  const v = parseEnvFile(readTrimmed('/etc/machine-info') ?? '')['PRETTY_HOSTNAME'];
  return v === '' ? undefined : v;
}


function absoluteEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v.startsWith('/') ? v : undefined;
}

/**
 * A context for the running machine and the given manager scope, filled from the environment and
 * /etc (as systemd does for its own process). `overrides` replaces any field.
 */
export function defaultSpecifierContext(
  unitId: string,
  scope: 'system' | 'user',
  overrides: Partial<SpecifierContext> = {},
  env: NodeJS.ProcessEnv = process.env,
): SpecifierContext {
  const info = os.userInfo();
  const uid = scope === 'system' ? 0 : info.uid;
  const gid = scope === 'system' ? 0 : info.gid;
  const isRoot = uid === 0;
  const home = absoluteEnv(env, 'HOME') ?? (isRoot ? '/root' : info.homedir);
  const shell = absoluteEnv(env, 'SHELL') ?? (isRoot ? '/bin/sh' : info.shell ?? '/bin/sh');
  const groupName = (() => {
    const groups = readTrimmed('/etc/group') ?? '';
    for (const line of groups.split('\n')) {
      const f = line.split(':');
      if (f[2] === String(gid) && f[0]) return f[0];
    }
    return String(gid);
  })();
  const user: SpecifierUser = {
    name: isRoot ? 'root' : info.username,
    uid,
    group: gid === 0 ? 'root' : groupName,
    gid,
    home,
    shell,
  };
  const xdgConfig = absoluteEnv(env, 'XDG_CONFIG_HOME') ?? `${home}/.config`;
  const tmpDir = absoluteEnv(env, 'TMPDIR') ?? absoluteEnv(env, 'TMP') ?? absoluteEnv(env, 'TEMP');
  const dirs =
    scope === 'system'
      ? { runtimeDir: '/run', stateDir: '/var/lib', cacheDir: '/var/cache', logsDir: '/var/log', configDir: '/etc' }
      : {
          runtimeDir: absoluteEnv(env, 'XDG_RUNTIME_DIR') ?? `/run/user/${uid}`,
          stateDir: xdgConfig,
          cacheDir: absoluteEnv(env, 'XDG_CACHE_HOME') ?? `${home}/.cache`,
          logsDir: `${xdgConfig}/log`,
          configDir: xdgConfig,
        };
  return {
    unitId,
    scope,
    user,
    ...dirs,
    tmpDir: tmpDir ?? '/tmp',
    varTmpDir: tmpDir ?? '/var/tmp',
    hostname: os.hostname(),
    prettyHostname: prettyHostname(),
    machineId: readTrimmed('/etc/machine-id') ?? '',
    bootId: (readTrimmed('/proc/sys/kernel/random/boot_id') ?? '').replace(/-/g, ''),
    kernelRelease: os.release(),
    architecture: architecture(),
    osRelease: parseOsRelease(),
    ...overrides,
  };
}
