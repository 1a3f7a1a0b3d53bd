// The parsers of setting values, one per kind of setting (systemd 252's config_parse_* functions):
// each takes the raw value and updates a UnitConfig, reports bad values through the context and
// keeps the previous value, or throws FatalSettingError where systemd fails the unit.
import { USEC_INFINITY } from './types.js';
import type { ConditionSpec, ExecKind, ExitStatusSet, KillMode, Origin } from './types.js';
import type { UnitConfig } from './unit-config.js';
import { parseExecLine } from './exec-line.js';
import { parseBooleanValue, parseExitStatusValue, parseSignalValue, parseTimeValue, splitValueWords } from './setting-values.js';
import { isValidUnitName } from './unit-name.js';
import { parseResourceLimit, type ResourceLimit } from './resource-limit.js';
import { addUnique, replaceByKey } from './unique-list.js';

/** What a setting needs from the loader while it is applied. */
export interface SettingContext {
  origin: Origin;
  /** the manager's runtime directory (%t): /run, or $XDG_RUNTIME_DIR for a user manager */
  runtimeDir: string;
  /** which manager loads the unit: a user manager replaces system-only emergency actions */
  managerScope: 'system' | 'user';
  /**
   * expands %-specifiers; throws on an unknown specifier. 'name' is unit_name_printf (unit names in
   * dependencies), 'path' unit_path_printf, 'full' unit_full_printf.
   */
  expand(text: string, mode?: 'full' | 'name' | 'path'): string;
  warn(message: string): void;
}

/** A fatal setting error: systemd stops parsing the file and the unit becomes bad-setting. */
export class FatalSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FatalSettingError';
  }
}

export type SettingKind =
  | 'string'
  | 'path'
  | 'list'
  | 'bool'
  | 'signal'
  | 'timespan'
  | 'enum'
  | 'unsigned'
  | 'resource-limit'
  | 'exec'
  | 'exit-status'
  | 'condition'
  | 'dependency'
  | 'environment'
  /** known to systemd, accepted without being interpreted */
  | 'accepted';

export interface SettingSpec {
  section: string;
  key: string;
  kind: SettingKind;
  /** whether %-specifiers are expanded in the value */
  specifiers: boolean;
  apply(config: UnitConfig, value: string, ctx: SettingContext): void;
}

export type Apply = SettingSpec['apply'];
export type Setter<T> = (c: UnitConfig, v: T) => void;

export function expandOrWarn(value: string, ctx: SettingContext, mode: 'full' | 'name' | 'path' = 'full'): string | undefined {
  try {
    return ctx.expand(value, mode);
  } catch (err) {
    ctx.warn(`Failed to resolve unit specifiers in '${value}', ignoring: ${errorText(err)}`);
    return undefined;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export const bool =
  (set: Setter<boolean>, fatal = false): Apply =>
  (c, value, ctx) => {
    const b = parseBooleanValue(value);
    if (b === undefined) {
      if (fatal) throw new FatalSettingError(`Failed to parse boolean value: ${value}`);
      ctx.warn(`Failed to parse boolean value, ignoring: ${value}`);
      return;
    }
    set(c, b);
  };

export const signal =
  (set: Setter<number>): Apply =>
  (c, value, ctx) => {
    const sig = parseSignalValue(value);
    if (sig === undefined) {
      ctx.warn(`Failed to parse signal name, ignoring: ${value}`);
      return;
    }
    set(c, sig);
  };

/** config_parse_sec; with fix0, 0 means infinity (config_parse_sec_fix_0). */
export const timespan =
  (set: Setter<bigint>, opts: { fix0?: boolean } = {}): Apply =>
  (c, value, ctx) => {
    const usec = parseTimeValue(value);
    if (usec === undefined) {
      ctx.warn(`Failed to parse time value, ignoring: ${value}`);
      return;
    }
    set(c, opts.fix0 && usec === 0n ? USEC_INFINITY : usec);
  };

export const unsigned =
  (set: Setter<number>): Apply =>
  (c, value, ctx) => {
    const t = value.trim();
    if (!/^\+?[0-9]+$/.test(t) || Number(t) > 0xffff_ffff) {
      ctx.warn(`Failed to parse unsigned integer value, ignoring: ${value}`);
      return;
    }
    set(c, Number(t));
  };

export const resourceLimit =
  (set: Setter<ResourceLimit>): Apply =>
  (c, value, ctx) => {
    const limit = parseResourceLimit(value);
    if (limit === 'soft-above-hard') ctx.warn(`Soft resource limit chosen higher than hard limit, ignoring: ${value}`);
    else if (limit === undefined) ctx.warn(`Failed to parse resource value, ignoring: ${value}`);
    else set(c, limit);
  };

export function enumOf<T extends string>(values: readonly T[], what: string, set: Setter<T>): Apply {
  return (c, value, ctx) => {
    if (!(values as readonly string[]).includes(value)) {
      ctx.warn(`Failed to parse ${what}, ignoring: ${value}`);
      return;
    }
    set(c, value as T);
  };
}

/** config_parse_unit_string_printf: specifiers expanded; empty clears. */
export const printfString =
  (set: Setter<string>): Apply =>
  (c, value, ctx) => {
    const v = expandOrWarn(value, ctx);
    if (v !== undefined) set(c, v);
  };

/** config_parse_unit_path_printf: specifiers expanded, must be an absolute path; empty clears. */
export const printfPath =
  (set: Setter<string>): Apply =>
  (c, value, ctx) => {
    if (value === '') {
      set(c, '');
      return;
    }
    const v = expandOrWarn(value, ctx);
    if (v === undefined) return;
    if (!v.startsWith('/')) {
      ctx.warn(`Path '${v}' is not absolute, ignoring.`);
      return;
    }
    set(c, simplifyPath(v));
  };

export const accepted: Apply = () => {};

export function simplifyPath(p: string): string {
  const absolute = p.startsWith('/');
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined;
}

export function words(value: string, ctx: SettingContext): string[] | undefined {
  try {
    return splitValueWords(value, (m) => ctx.warn(m));
  } catch (err) {
    ctx.warn(`Invalid syntax, ignoring: ${value} (${errorText(err)})`);
    return undefined;
  }
}

/** config_parse_unit_deps: each word is a unit name with specifiers; no reset on empty. */
export function dependency(name: string): Apply {
  return (c, value, ctx) => {
    const ws = words(value, ctx);
    if (!ws) return;
    const list = (c.unit.dependencies[name] ??= []);
    for (const w of ws) {
      const n = expandOrWarn(w, ctx, 'name');
      if (n === undefined) continue;
      if (!isValidUnitName(n) || n.includes('@.')) {
        ctx.warn(`Failed to add dependency on ${n}, ignoring: Invalid argument`);
        continue;
      }
      addUnique(list, n);
    }
  };
}

export const DOC_URL = /^(https?:\/\/|file:\/|info:|man:)\S+$/;

export function condition(type: string, assert: boolean, isPath: boolean): Apply {
  return (c, value, ctx) => {
    const list = assert ? c.unit.asserts : c.unit.conditions;
    if (value === '') {
      list.length = 0;
      return;
    }
    let p = value;
    const trigger = p.startsWith('|');
    if (trigger) p = p.slice(1).trimStart();
    const negate = p.startsWith('!');
    if (negate) p = p.slice(1).trimStart();
    let parameter = expandOrWarn(p, ctx);
    if (parameter === undefined) return;
    if (isPath) {
      if (!parameter.startsWith('/')) {
        ctx.warn(`Path in condition not absolute, ignoring: ${parameter}`);
        return;
      }
      parameter = simplifyPath(parameter);
    }
    const spec: ConditionSpec = { type, trigger, negate, parameter };
    list.push(spec);
  };
}

export function statusSet(get: (c: UnitConfig) => ExitStatusSet): Apply {
  return (c, value, ctx) => {
    const set = get(c);
    if (value === '') {
      set.statuses = [];
      set.signals = [];
      return;
    }
    const parsed = parseExitStatusValue(value, (m) => ctx.warn(m));
    for (const s of parsed.statuses) if (!set.statuses.includes(s)) set.statuses.push(s);
    for (const s of parsed.signals) if (!set.signals.includes(s)) set.signals.push(s);
  };
}

/** config_parse_exec: specifiers are expanded per word, after unquoting. */
export function exec(kind: ExecKind): Apply {
  return (c, value, ctx) => {
    const svc = c.service!;
    const r = parseExecLine(value, ctx.origin, (word, wordKind) => ctx.expand(word, wordKind === 'path' ? 'path' : 'full'));
    if (r.reset) {
      svc.exec[kind] = [];
      return;
    }
    for (const w of r.warnings) ctx.warn(w);
    // one by one: a line of 1 MiB can hold 200k commands, too many arguments for a spread
    for (const command of r.commands) svc.exec[kind].push(command);
    if (r.problem?.fatal) throw new FatalSettingError(r.problem.message);
    if (r.problem) ctx.warn(r.problem.message);
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** "NAME=" of an Environment= entry: what strv_env_replace_consume() compares */
const envEntryName = (entry: string): string => entry.slice(0, entry.indexOf('=') + 1);

export const environment: Apply = (c, value, ctx) => {
  const svc = c.service!;
  if (value === '') {
    svc.environment = [];
    return;
  }
  const ws = words(value, ctx);
  if (!ws) return;
  for (const w of ws) {
    const v = expandOrWarn(w, ctx);
    if (v === undefined) continue;
    const eq = v.indexOf('=');
    if (eq <= 0 || !ENV_NAME.test(v.slice(0, eq))) {
      ctx.warn(`Invalid environment assignment, ignoring: ${v}`);
      continue;
    }
    // strv_env_replace_consume(): a variable set again keeps its place
    replaceByKey(svc.environment, v, envEntryName);
  }
};

export const environmentFile: Apply = (c, value, ctx) => {
  const svc = c.service!;
  if (value === '') {
    svc.environmentFiles = [];
    return;
  }
  const v = expandOrWarn(value, ctx);
  if (v === undefined) return;
  const path = v.startsWith('-') ? v.slice(1) : v;
  if (!path.startsWith('/')) {
    ctx.warn(`Path '${path}' is not absolute, ignoring.`);
    return;
  }
  svc.environmentFiles.push(v);
};

/** config_parse_working_directory: "-" prefix makes errors non-fatal; "~" is the home dir. */
export const workingDirectory: Apply = (c, value, ctx) => {
  const svc = c.service!;
  if (value === '') {
    svc.workingDirectory = '';
    return;
  }
  const missingOk = value.startsWith('-');
  const rest = missingOk ? value.slice(1) : value;
  const fail = (message: string): void => {
    if (!missingOk) throw new FatalSettingError(message);
    ctx.warn(`${message}, ignoring`);
  };
  if (rest === '~') {
    // the home directory; systemd treats it as "missing is ok"
    svc.workingDirectory = '!~';
    return;
  }
  let v: string;
  try {
    v = ctx.expand(rest);
  } catch (err) {
    fail(`Failed to resolve unit specifiers in working directory path '${rest}': ${errorText(err)}`);
    return;
  }
  if (!v.startsWith('/')) {
    fail(`Working directory path '${v}' is not absolute`);
    return;
  }
  svc.workingDirectory = (missingOk ? '!' : '') + simplifyPath(v);
};

// valid_user_group_name(VALID_USER_RELAX) or a numeric id
const USER_NAME = /^[^\s:/,][^\s:/,]*$/;

/** config_parse_user_group_compat: unlike most settings, errors here are fatal. */
export function userOrGroup(set: Setter<string>): Apply {
  return (c, value, ctx) => {
    if (value === '') {
      set(c, '');
      return;
    }
    let v: string;
    try {
      v = ctx.expand(value);
    } catch (err) {
      throw new FatalSettingError(`Failed to resolve unit specifiers in ${value}: ${errorText(err)}`);
    }
    if (!USER_NAME.test(v) || v.length > 256 || v.startsWith('-') || v === '.' || v === '..') {
      throw new FatalSettingError(`Invalid user/group name or numeric ID: ${v}`);
    }
    set(c, v);
  };
}

// sd_bus_service_name_is_valid (well-known names only make sense here)
const BUS_NAME = /^(:?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+)$/;

export const busName: Apply = (c, value, ctx) => {
  const v = expandOrWarn(value, ctx);
  if (v === undefined) return;
  if (!BUS_NAME.test(v) || v.length > 255) {
    ctx.warn(`Invalid bus name, ignoring: ${v}`);
    return;
  }
  c.service!.busName = v;
};

/** config_parse_pid_file: relative paths are taken relative to the runtime directory. */
export const pidFile: Apply = (c, value, ctx) => {
  const svc = c.service!;
  if (value === '') {
    svc.pidFile = '';
    return;
  }
  const v = expandOrWarn(value, ctx);
  if (v === undefined) return;
  svc.pidFile = simplifyPath(v.startsWith('/') ? v : `${ctx.runtimeDir}/${v}`);
};

export const slice: Apply = (c, value, ctx) => {
  const v = expandOrWarn(value, ctx, 'name');
  if (v === undefined) return;
  if (!isValidUnitName(v) || !v.endsWith('.slice') || v.includes('@.')) {
    ctx.warn(`Failed to load slice unit ${v}, ignoring: Invalid argument`);
    return;
  }
  if (c.service) c.service.slice = v;
};

/** config_parse_service_timeout: TimeoutSec= sets start and stop, TimeoutStartSec= only start. */
export function serviceTimeout(alsoStop: boolean): Apply {
  return (c, value, ctx) => {
    const usec = parseTimeValue(value);
    if (usec === undefined) {
      ctx.warn(`Failed to parse ${alsoStop ? 'TimeoutSec' : 'TimeoutStartSec'}= parameter, ignoring: ${value}`);
      return;
    }
    const v = usec === 0n ? USEC_INFINITY : usec;
    const svc = c.service!;
    c.startTimeoutDefined = true;
    svc.timeoutStartUSec = v;
    if (alsoStop) svc.timeoutStopUSec = v;
  };
}

export const timeoutAbort: Apply = (c, value, ctx) => {
  if (value === '') {
    c.service!.timeoutAbortUSec = null;
    return;
  }
  const usec = parseTimeValue(value);
  if (usec === undefined) {
    ctx.warn(`Failed to parse TimeoutAbortSec= setting, ignoring: ${value}`);
    return;
  }
  c.service!.timeoutAbortUSec = usec;
};

/** config_parse_kill_mode: unlike most enums, an empty value restores the default. */
export const killMode: Apply = (c, value, ctx) => {
  const kill = c.kill!;
  if (value === '') {
    kill.killMode = 'control-group';
    return;
  }
  const modes: readonly KillMode[] = ['control-group', 'process', 'mixed', 'none'];
  if (!(modes as readonly string[]).includes(value)) {
    ctx.warn(`Failed to parse kill mode specification, ignoring: ${value}`);
    return;
  }
  if (value === 'none') {
    ctx.warn(
      'Unit uses KillMode=none. This is unsafe, as it disables systemd\'s process lifecycle management for the service. ' +
        "Please update the service to use a safer KillMode=, such as 'mixed' or 'control-group'. " +
        'Support for KillMode=none is deprecated and will eventually be removed.',
    );
  }
  kill.killMode = value as KillMode;
};

const EMERGENCY_ACTIONS = [
  'none',
  'reboot',
  'reboot-force',
  'reboot-immediate',
  'poweroff',
  'poweroff-force',
  'poweroff-immediate',
  'exit',
  'exit-force',
] as const;

const USER_MANAGER_ACTIONS = ['none', 'exit', 'exit-force'];

/** config_parse_emergency_action: a user manager turns system-only actions into exit-force. */
export function emergencyAction(key: string, set: Setter<string>): Apply {
  return (c, value, ctx) => {
    if (!(EMERGENCY_ACTIONS as readonly string[]).includes(value)) {
      ctx.warn(`Failed to parse ${key}=, ignoring: ${value}`);
      return;
    }
    if (ctx.managerScope === 'user' && !USER_MANAGER_ACTIONS.includes(value)) {
      ctx.warn(`${key}= in user mode specified as "${value}", using "exit-force" instead.`);
      set(c, 'exit-force');
      return;
    }
    set(c, value);
  };
}

export const JOB_MODES = ['fail', 'replace', 'replace-irreversibly', 'isolate', 'flush', 'ignore-dependencies', 'ignore-requirements'] as const;

/** config_parse_service_sockets: each socket unit becomes Wants=, After= and TriggeredBy=. */
export const sockets: Apply = (c, value, ctx) => {
  for (const w of words(value, ctx) ?? []) {
    const k = expandOrWarn(w, ctx, 'name');
    if (k === undefined) continue;
    if (!k.endsWith('.socket')) {
      ctx.warn(`Unit must be of type socket, ignoring: ${k}`);
      continue;
    }
    for (const dep of ['Wants', 'After', 'TriggeredBy']) {
      addUnique((c.unit.dependencies[dep] ??= []), k);
    }
  }
};

/** Names of [Install] lists with their specifiers expanded; empty resets. */
export function installList(get: (c: UnitConfig) => string[]): Apply {
  return (c, value, ctx) => {
    c.install.present = true;
    const list = get(c);
    if (value === '') {
      list.length = 0;
      return;
    }
    for (const w of words(value, ctx) ?? []) {
      const v = expandOrWarn(w, ctx);
      if (v !== undefined) list.push(v);
    }
  };
}
