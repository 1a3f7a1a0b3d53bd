// The known settings of [Unit], [Service] and [Install] (plus the kill settings of the other unit
// types that kill processes), how each value is parsed and where it lands, following systemd 252's
// src/core/load-fragment-gperf.gperf.in and the config_parse_* functions it names.
//
// Rules shared by all settings, as in systemd: the last assignment wins for scalars; lists append
// and an empty assignment resets them; a bad value is reported (file:line) and ignored, leaving the
// previous value; a few errors are fatal (systemd returns -ENOEXEC): the file stops being parsed
// and the unit gets LoadState=bad-setting.
import { EXEC_KINDS, USEC_INFINITY } from './types.js';
import type {
  ConditionSpec,
  ExecCommand,
  ExecKind,
  ExitStatusSet,
  KillContext,
  KillMode,
  Origin,
  ServiceSection,
  ServiceType,
  UnitSection,
} from './types.js';
import { parseExecLine } from './exec-line.js';
import { parseBooleanValue, parseExitStatusValue, parseSignalValue, parseTimeValue, splitValueWords } from './setting-values.js';
import { isValidUnitName } from './unit-name.js';

export const DEFAULT_TIMEOUT_USEC = 90_000_000n;
export const DEFAULT_RESTART_USEC = 100_000n;
export const DEFAULT_START_LIMIT_INTERVAL_USEC = 10_000_000n;
export const DEFAULT_START_LIMIT_BURST = 5;

export interface InstallSection {
  alias: string[];
  wantedBy: string[];
  requiredBy: string[];
  also: string[];
  defaultInstance: string;
  /** any [Install] assignment was seen */
  present: boolean;
}

/** Everything the settings of one unit build up while its files are applied. */
export interface UnitConfig {
  unitType: string;
  unit: UnitSection;
  /** non-null for .service units */
  service: ServiceSection | null;
  /** non-null for units with a kill context (service: the same object as service.kill) */
  kill: KillContext | null;
  sourcePath: string;
  install: InstallSection;
  /** Type= as configured; null lets finishService() pick one as service_add_extras() does */
  explicitServiceType: ServiceType | null;
  /** TimeoutStartSec=/TimeoutSec= was set (oneshot services otherwise get no start timeout) */
  startTimeoutDefined: boolean;
  pamName: string;
  runtimeRandomizedExtraUSec: bigint;
  usbFunctionDescriptors: string;
  usbFunctionStrings: string;
}

/** What a setting needs from the loader while it is applied. */
export interface SettingContext {
  origin: Origin;
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

// ---------------------------------------------------------------------------------------------
// Defaults

export function defaultKillContext(): KillContext {
  return {
    killMode: 'control-group',
    killSignal: 15,
    restartKillSignal: 0,
    finalKillSignal: 9,
    sendSIGKILL: true,
    sendSIGHUP: false,
    watchdogSignal: 6,
  };
}

export function defaultUnitSection(): UnitSection {
  return {
    description: '',
    documentation: [],
    dependencies: {},
    refuseManualStart: false,
    refuseManualStop: false,
    allowIsolate: false,
    defaultDependencies: true,
    stopWhenUnneeded: false,
    ignoreOnIsolate: false,
    jobTimeoutUSec: USEC_INFINITY,
    jobRunningTimeoutUSec: USEC_INFINITY,
    startLimitIntervalUSec: DEFAULT_START_LIMIT_INTERVAL_USEC,
    startLimitBurst: DEFAULT_START_LIMIT_BURST,
    collectMode: 'inactive',
    onSuccessJobMode: 'fail',
    onFailureJobMode: 'replace',
    successAction: 'none',
    failureAction: 'none',
    startLimitAction: 'none',
    requiresMountsFor: [],
    conditions: [],
    asserts: [],
  };
}

function emptyExec(): Record<ExecKind, ExecCommand[]> {
  const exec = {} as Record<ExecKind, ExecCommand[]>;
  for (const k of EXEC_KINDS) exec[k] = [];
  return exec;
}

function emptyStatusSet(): ExitStatusSet {
  return { statuses: [], signals: [] };
}

/** service_init(): the values before any file is read (Type is decided later). */
export function defaultServiceSection(kill: KillContext): ServiceSection {
  return {
    type: 'simple',
    exitType: 'main',
    restart: 'no',
    pidFile: '',
    remainAfterExit: false,
    guessMainPID: true,
    restartUSec: DEFAULT_RESTART_USEC,
    timeoutStartUSec: DEFAULT_TIMEOUT_USEC,
    timeoutStopUSec: DEFAULT_TIMEOUT_USEC,
    timeoutAbortUSec: null,
    timeoutStartFailureMode: 'terminate',
    timeoutStopFailureMode: 'terminate',
    runtimeMaxUSec: USEC_INFINITY,
    watchdogUSec: 0n,
    notifyAccess: 'none',
    oomPolicy: 'stop',
    busName: '',
    successExitStatus: emptyStatusSet(),
    restartPreventExitStatus: emptyStatusSet(),
    restartForceExitStatus: emptyStatusSet(),
    exec: emptyExec(),
    environment: [],
    environmentFiles: [],
    workingDirectory: '',
    user: '',
    group: '',
    slice: '',
    kill,
  };
}

const KILLING_TYPES = new Set(['service', 'socket', 'mount', 'swap', 'scope']);

export function newUnitConfig(unitType: string): UnitConfig {
  const kill = KILLING_TYPES.has(unitType) ? defaultKillContext() : null;
  return {
    unitType,
    unit: defaultUnitSection(),
    service: unitType === 'service' && kill ? defaultServiceSection(kill) : null,
    kill,
    sourcePath: '',
    install: { alias: [], wantedBy: [], requiredBy: [], also: [], defaultInstance: '', present: false },
    explicitServiceType: null,
    startTimeoutDefined: false,
    pamName: '',
    runtimeRandomizedExtraUSec: 0n,
    usbFunctionDescriptors: '',
    usbFunctionStrings: '',
  };
}

/** The sections a unit type's files may have (UNIT_VTABLE(u)->sections). */
export function sectionsOf(unitType: string): string[] {
  const own: Record<string, string> = {
    service: 'Service',
    socket: 'Socket',
    target: 'Target',
    device: 'Device',
    mount: 'Mount',
    automount: 'Automount',
    swap: 'Swap',
    timer: 'Timer',
    path: 'Path',
    slice: 'Slice',
    scope: 'Scope',
  };
  const s = own[unitType];
  return s ? ['Unit', s, 'Install'] : ['Unit', 'Install'];
}

/** Sections whose keys this table knows completely; keys of the others are accepted unchecked. */
const CHECKED_SECTIONS = new Set(['Unit', 'Service', 'Install', 'Target']);

// ---------------------------------------------------------------------------------------------
// Building blocks

type Apply = SettingSpec['apply'];
type Setter<T> = (c: UnitConfig, v: T) => void;

function expandOrWarn(value: string, ctx: SettingContext, mode: 'full' | 'name' | 'path' = 'full'): string | undefined {
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

const bool =
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

const signal =
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
const timespan =
  (set: Setter<bigint>, opts: { fix0?: boolean } = {}): Apply =>
  (c, value, ctx) => {
    const usec = parseTimeValue(value);
    if (usec === undefined) {
      ctx.warn(`Failed to parse time value, ignoring: ${value}`);
      return;
    }
    set(c, opts.fix0 && usec === 0n ? USEC_INFINITY : usec);
  };

const unsigned =
  (set: Setter<number>): Apply =>
  (c, value, ctx) => {
    const t = value.trim();
    if (!/^\+?[0-9]+$/.test(t) || Number(t) > 0xffff_ffff) {
      ctx.warn(`Failed to parse unsigned integer value, ignoring: ${value}`);
      return;
    }
    set(c, Number(t));
  };

function enumOf<T extends string>(values: readonly T[], what: string, set: Setter<T>): Apply {
  return (c, value, ctx) => {
    if (!(values as readonly string[]).includes(value)) {
      ctx.warn(`Failed to parse ${what}, ignoring: ${value}`);
      return;
    }
    set(c, value as T);
  };
}

/** config_parse_unit_string_printf: specifiers expanded; empty clears. */
const printfString =
  (set: Setter<string>): Apply =>
  (c, value, ctx) => {
    const v = expandOrWarn(value, ctx);
    if (v !== undefined) set(c, v);
  };

/** config_parse_unit_path_printf: specifiers expanded, must be an absolute path; empty clears. */
const printfPath =
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

const accepted: Apply = () => {};

function simplifyPath(p: string): string {
  const absolute = p.startsWith('/');
  const parts = p.split('/').filter((s) => s !== '' && s !== '.');
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined;
}

function words(value: string, ctx: SettingContext): string[] | undefined {
  try {
    return splitValueWords(value, (m) => ctx.warn(m));
  } catch (err) {
    ctx.warn(`Invalid syntax, ignoring: ${value} (${errorText(err)})`);
    return undefined;
  }
}

/** config_parse_unit_deps: each word is a unit name with specifiers; no reset on empty. */
function dependency(name: string): Apply {
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
      if (!list.includes(n)) list.push(n);
    }
  };
}

const DOC_URL = /^(https?:\/\/|file:\/|info:|man:)\S+$/;

function condition(type: string, assert: boolean, isPath: boolean): Apply {
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

function statusSet(get: (c: UnitConfig) => ExitStatusSet): Apply {
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
function exec(kind: ExecKind): Apply {
  return (c, value, ctx) => {
    const svc = c.service!;
    const r = parseExecLine(value, ctx.origin, (word, wordKind) => ctx.expand(word, wordKind === 'path' ? 'path' : 'full'));
    if (r.reset) {
      svc.exec[kind] = [];
      return;
    }
    for (const w of r.warnings) ctx.warn(w);
    svc.exec[kind].push(...r.commands);
    if (r.problem?.fatal) throw new FatalSettingError(r.problem.message);
    if (r.problem) ctx.warn(r.problem.message);
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** config_parse_environ: a later assignment of the same variable replaces the earlier one. */
const environment: Apply = (c, value, ctx) => {
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
    const name = v.slice(0, eq + 1);
    svc.environment = svc.environment.filter((e) => !e.startsWith(name));
    svc.environment.push(v);
  }
};

const environmentFile: Apply = (c, value, ctx) => {
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
const workingDirectory: Apply = (c, value, ctx) => {
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
    svc.workingDirectory = value;
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
  svc.workingDirectory = (missingOk ? '-' : '') + simplifyPath(v);
};

// valid_user_group_name(VALID_USER_RELAX) or a numeric id
const USER_NAME = /^[^\s:/,][^\s:/,]*$/;

/** config_parse_user_group_compat: unlike most settings, errors here are fatal. */
function userOrGroup(set: Setter<string>): Apply {
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

const busName: Apply = (c, value, ctx) => {
  const v = expandOrWarn(value, ctx);
  if (v === undefined) return;
  if (!BUS_NAME.test(v) || v.length > 255) {
    ctx.warn(`Invalid bus name, ignoring: ${v}`);
    return;
  }
  c.service!.busName = v;
};

/** config_parse_pid_file: relative paths are taken relative to /run. */
const pidFile: Apply = (c, value, ctx) => {
  const svc = c.service!;
  if (value === '') {
    svc.pidFile = '';
    return;
  }
  const v = expandOrWarn(value, ctx);
  if (v === undefined) return;
  svc.pidFile = simplifyPath(v.startsWith('/') ? v : `/run/${v}`);
};

const slice: Apply = (c, value, ctx) => {
  const v = expandOrWarn(value, ctx, 'name');
  if (v === undefined) return;
  if (!isValidUnitName(v) || !v.endsWith('.slice') || v.includes('@.')) {
    ctx.warn(`Failed to load slice unit ${v}, ignoring: Invalid argument`);
    return;
  }
  if (c.service) c.service.slice = v;
};

/** config_parse_service_timeout: TimeoutSec= sets start and stop, TimeoutStartSec= only start. */
function serviceTimeout(alsoStop: boolean): Apply {
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

const timeoutAbort: Apply = (c, value, ctx) => {
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
const killMode: Apply = (c, value, ctx) => {
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

function emergencyAction(set: Setter<string>): Apply {
  return (c, value, ctx) => {
    if (value === '') {
      set(c, 'none');
      return;
    }
    if (!(EMERGENCY_ACTIONS as readonly string[]).includes(value)) {
      ctx.warn(`Failed to parse failure action specifier, ignoring: ${value}`);
      return;
    }
    set(c, value);
  };
}

const JOB_MODES = ['fail', 'replace', 'replace-irreversibly', 'isolate', 'flush', 'ignore-dependencies', 'ignore-requirements'] as const;

/** Names of [Install] lists with their specifiers expanded; empty resets. */
function installList(get: (c: UnitConfig) => string[]): Apply {
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

// ---------------------------------------------------------------------------------------------
// The table

const specs: SettingSpec[] = [];

function add(section: string, key: string, kind: SettingKind, specifiers: boolean, apply: Apply): void {
  specs.push({ section, key, kind, specifiers, apply });
}

// [Unit]
add('Unit', 'Description', 'string', true, printfString((c, v) => (c.unit.description = v)));
add('Unit', 'Documentation', 'list', true, (c, value, ctx) => {
  if (value === '') {
    c.unit.documentation = [];
    return;
  }
  for (const w of words(value, ctx) ?? []) {
    const v = expandOrWarn(w, ctx);
    if (v === undefined) continue;
    if (!DOC_URL.test(v)) {
      ctx.warn(`Invalid URL, ignoring: ${v}`);
      continue;
    }
    if (!c.unit.documentation.includes(v)) c.unit.documentation.push(v);
  }
});
add('Unit', 'SourcePath', 'path', true, printfPath((c, v) => (c.sourcePath = v)));
const DEPENDENCY_KEYS: Record<string, string> = {
  Requires: 'Requires',
  Requisite: 'Requisite',
  Wants: 'Wants',
  BindsTo: 'BindsTo',
  BindTo: 'BindsTo',
  Upholds: 'Upholds',
  Conflicts: 'Conflicts',
  Before: 'Before',
  After: 'After',
  OnSuccess: 'OnSuccess',
  OnFailure: 'OnFailure',
  PropagatesReloadTo: 'PropagatesReloadTo',
  PropagateReloadTo: 'PropagatesReloadTo',
  ReloadPropagatedFrom: 'ReloadPropagatedFrom',
  PropagateReloadFrom: 'ReloadPropagatedFrom',
  PropagatesStopTo: 'PropagatesStopTo',
  StopPropagatedFrom: 'StopPropagatedFrom',
  PartOf: 'PartOf',
  JoinsNamespaceOf: 'JoinsNamespaceOf',
};
for (const [key, name] of Object.entries(DEPENDENCY_KEYS)) add('Unit', key, 'dependency', true, dependency(name));
// obsolete in 252: accepted with a warning, treated as the plain dependency
for (const [key, name] of [
  ['RequiresOverridable', 'Requires'],
  ['RequisiteOverridable', 'Requisite'],
] as const) {
  add('Unit', key, 'dependency', true, (c, value, ctx) => {
    ctx.warn(`Unit dependency type ${key}= is obsolete, replacing by ${name}=, please update your unit file.`);
    dependency(name)(c, value, ctx);
  });
}
add('Unit', 'RequiresMountsFor', 'list', true, (c, value, ctx) => {
  for (const w of words(value, ctx) ?? []) {
    const v = expandOrWarn(w, ctx);
    if (v === undefined) continue;
    if (!v.startsWith('/')) {
      ctx.warn(`Mount path '${v}' is not absolute, ignoring.`);
      continue;
    }
    const p = simplifyPath(v);
    if (!c.unit.requiresMountsFor.includes(p)) c.unit.requiresMountsFor.push(p);
  }
});
add('Unit', 'StopWhenUnneeded', 'bool', false, bool((c, v) => (c.unit.stopWhenUnneeded = v)));
add('Unit', 'RefuseManualStart', 'bool', false, bool((c, v) => (c.unit.refuseManualStart = v)));
add('Unit', 'RefuseManualStop', 'bool', false, bool((c, v) => (c.unit.refuseManualStop = v)));
add('Unit', 'AllowIsolate', 'bool', false, bool((c, v) => (c.unit.allowIsolate = v)));
add('Unit', 'DefaultDependencies', 'bool', false, bool((c, v) => (c.unit.defaultDependencies = v)));
add('Unit', 'OnSuccessJobMode', 'enum', false, enumOf(JOB_MODES, 'job mode', (c, v) => (c.unit.onSuccessJobMode = v)));
add('Unit', 'OnFailureJobMode', 'enum', false, enumOf(JOB_MODES, 'job mode', (c, v) => (c.unit.onFailureJobMode = v)));
add('Unit', 'OnFailureIsolate', 'bool', false, (c, value, ctx) => {
  const b = parseBooleanValue(value);
  if (b === undefined) {
    ctx.warn(`Failed to parse boolean, ignoring: ${value}`);
    return;
  }
  ctx.warn('OnFailureIsolate= is deprecated, please use OnFailureJobMode= instead.');
  c.unit.onFailureJobMode = b ? 'isolate' : 'replace';
});
add('Unit', 'IgnoreOnIsolate', 'bool', false, bool((c, v) => (c.unit.ignoreOnIsolate = v)));
add('Unit', 'IgnoreOnSnapshot', 'accepted', false, (_c, _v, ctx) =>
  ctx.warn('Support for option IgnoreOnSnapshot= has been removed and it is ignored'),
);
add('Unit', 'JobTimeoutSec', 'timespan', false, timespan((c, v) => (c.unit.jobTimeoutUSec = v), { fix0: true }));
add('Unit', 'JobRunningTimeoutSec', 'timespan', false, timespan((c, v) => (c.unit.jobRunningTimeoutUSec = v), { fix0: true }));
add('Unit', 'JobTimeoutAction', 'enum', false, emergencyAction(() => {}));
add('Unit', 'JobTimeoutRebootArgument', 'string', false, accepted);
for (const section of ['Unit', 'Service']) {
  // the [Service] forms are compatibility spellings of the [Unit] settings
  if (section === 'Unit') add(section, 'StartLimitIntervalSec', 'timespan', false, timespan((c, v) => (c.unit.startLimitIntervalUSec = v)));
  add(section, 'StartLimitInterval', 'timespan', false, timespan((c, v) => (c.unit.startLimitIntervalUSec = v)));
  add(section, 'StartLimitBurst', 'unsigned', false, unsigned((c, v) => (c.unit.startLimitBurst = v)));
  add(section, 'StartLimitAction', 'enum', false, emergencyAction((c, v) => (c.unit.startLimitAction = v)));
  add(section, 'FailureAction', 'enum', false, emergencyAction((c, v) => (c.unit.failureAction = v)));
  add(section, 'RebootArgument', 'string', section === 'Service', accepted);
}
add('Unit', 'SuccessAction', 'enum', false, emergencyAction((c, v) => (c.unit.successAction = v)));
add('Unit', 'FailureActionExitStatus', 'unsigned', false, accepted);
add('Unit', 'SuccessActionExitStatus', 'unsigned', false, accepted);
add('Unit', 'CollectMode', 'enum', false, enumOf(['inactive', 'inactive-or-failed'] as const, 'garbage collection mode', (c, v) => (c.unit.collectMode = v)));

const PATH_CONDITIONS = [
  'PathExists',
  'PathExistsGlob',
  'PathIsDirectory',
  'PathIsSymbolicLink',
  'PathIsMountPoint',
  'PathIsReadWrite',
  'PathIsEncrypted',
  'DirectoryNotEmpty',
  'FileNotEmpty',
  'FileIsExecutable',
  'NeedsUpdate',
];
const STRING_CONDITIONS = [
  'FirstBoot',
  'Architecture',
  'Firmware',
  'Virtualization',
  'Host',
  'KernelCommandLine',
  'KernelVersion',
  'Credential',
  'Security',
  'Capability',
  'ACPower',
  'Memory',
  'CPUFeature',
  'CPUs',
  'Environment',
  'User',
  'Group',
  'ControlGroupController',
  'OSRelease',
  'MemoryPressure',
  'CPUPressure',
  'IOPressure',
];
for (const [prefix, isAssert] of [
  ['Condition', false],
  ['Assert', true],
] as const) {
  for (const name of PATH_CONDITIONS) add('Unit', prefix + name, 'condition', true, condition(prefix + name, isAssert, true));
  for (const name of STRING_CONDITIONS) {
    // 252 has no AssertFirmware=
    if (isAssert && name === 'Firmware') continue;
    add('Unit', prefix + name, 'condition', true, condition(prefix + name, isAssert, false));
  }
}

// [Service]
add('Service', 'PIDFile', 'path', true, pidFile);
for (const kind of EXEC_KINDS) add('Service', kind, 'exec', true, exec(kind));
add('Service', 'RestartSec', 'timespan', false, timespan((c, v) => (c.service!.restartUSec = v)));
add('Service', 'TimeoutSec', 'timespan', false, serviceTimeout(true));
add('Service', 'TimeoutStartSec', 'timespan', false, serviceTimeout(false));
add('Service', 'TimeoutStopSec', 'timespan', false, timespan((c, v) => (c.service!.timeoutStopUSec = v), { fix0: true }));
add('Service', 'TimeoutAbortSec', 'timespan', false, timeoutAbort);
const FAILURE_MODES = ['terminate', 'abort', 'kill'] as const;
add('Service', 'TimeoutStartFailureMode', 'enum', false, enumOf(FAILURE_MODES, 'TimeoutStartFailureMode= setting', (c, v) => (c.service!.timeoutStartFailureMode = v)));
add('Service', 'TimeoutStopFailureMode', 'enum', false, enumOf(FAILURE_MODES, 'TimeoutStopFailureMode= setting', (c, v) => (c.service!.timeoutStopFailureMode = v)));
add('Service', 'RuntimeMaxSec', 'timespan', false, timespan((c, v) => (c.service!.runtimeMaxUSec = v)));
add('Service', 'RuntimeRandomizedExtraSec', 'timespan', false, timespan((c, v) => (c.runtimeRandomizedExtraUSec = v)));
add('Service', 'WatchdogSec', 'timespan', false, timespan((c, v) => (c.service!.watchdogUSec = v)));
const SERVICE_TYPES: readonly ServiceType[] = ['simple', 'exec', 'forking', 'oneshot', 'dbus', 'notify', 'idle'];
add('Service', 'Type', 'enum', false, enumOf(SERVICE_TYPES, 'service type', (c, v) => (c.explicitServiceType = v)));
add('Service', 'ExitType', 'enum', false, enumOf(['main', 'cgroup'] as const, 'service exit type', (c, v) => (c.service!.exitType = v)));
add(
  'Service',
  'Restart',
  'enum',
  false,
  enumOf(
    ['no', 'on-success', 'on-failure', 'on-abnormal', 'on-watchdog', 'on-abort', 'always'] as const,
    'service restart specifier',
    (c, v) => (c.service!.restart = v),
  ),
);
add('Service', 'PermissionsStartOnly', 'bool', false, bool(() => {}));
add('Service', 'RootDirectoryStartOnly', 'bool', false, bool(() => {}));
add('Service', 'RemainAfterExit', 'bool', false, bool((c, v) => (c.service!.remainAfterExit = v)));
add('Service', 'GuessMainPID', 'bool', false, bool((c, v) => (c.service!.guessMainPID = v)));
add('Service', 'RestartPreventExitStatus', 'exit-status', false, statusSet((c) => c.service!.restartPreventExitStatus));
add('Service', 'RestartForceExitStatus', 'exit-status', false, statusSet((c) => c.service!.restartForceExitStatus));
add('Service', 'SuccessExitStatus', 'exit-status', false, statusSet((c) => c.service!.successExitStatus));
add('Service', 'SysVStartPriority', 'accepted', false, (_c, _v, ctx) =>
  ctx.warn('Support for option SysVStartPriority= has been removed and it is ignored'),
);
add('Service', 'NonBlocking', 'bool', false, bool(() => {}));
add('Service', 'BusName', 'string', true, busName);
add('Service', 'FileDescriptorStoreMax', 'unsigned', false, unsigned(() => {}));
add('Service', 'NotifyAccess', 'enum', false, enumOf(['none', 'main', 'exec', 'all'] as const, 'notify access specifier', (c, v) => (c.service!.notifyAccess = v)));
add('Service', 'Sockets', 'list', true, accepted);
add('Service', 'BusPolicy', 'accepted', false, (_c, _v, ctx) =>
  ctx.warn('Support for option BusPolicy= has been removed and it is ignored'),
);
add('Service', 'USBFunctionDescriptors', 'path', true, printfPath((c, v) => (c.usbFunctionDescriptors = v)));
add('Service', 'USBFunctionStrings', 'path', true, printfPath((c, v) => (c.usbFunctionStrings = v)));
add('Service', 'OOMPolicy', 'enum', false, enumOf(['continue', 'stop', 'kill'] as const, 'OOM policy', (c, v) => (c.service!.oomPolicy = v)));

// exec context: the settings the store interprets, then the ones it only accepts
add('Service', 'WorkingDirectory', 'path', true, workingDirectory);
add('Service', 'User', 'string', true, userOrGroup((c, v) => (c.service!.user = v)));
add('Service', 'Group', 'string', true, userOrGroup((c, v) => (c.service!.group = v)));
add('Service', 'Environment', 'environment', true, environment);
add('Service', 'EnvironmentFile', 'list', true, environmentFile);
add('Service', 'PAMName', 'string', true, printfString((c, v) => (c.pamName = v)));
add('Service', 'DynamicUser', 'bool', false, bool(() => {}, true));
add('Service', 'Slice', 'string', true, slice);

const ACCEPTED_EXEC_KEYS = `AmbientCapabilities AppArmorProfile BindPaths BindReadOnlyPaths CPUAffinity CPUSchedulingPolicy
CPUSchedulingPriority CPUSchedulingResetOnFork CacheDirectory CacheDirectoryMode Capabilities
CapabilityBoundingSet ConfigurationDirectory ConfigurationDirectoryMode CoredumpFilter ExecPaths
ExecSearchPath ExtensionDirectories ExtensionImages IOSchedulingClass IOSchedulingPriority IPCNamespacePath
IgnoreSIGPIPE InaccessibleDirectories InaccessiblePaths KeyringMode LimitAS LimitCORE LimitCPU LimitDATA
LimitFSIZE LimitLOCKS LimitMEMLOCK LimitMSGQUEUE LimitNICE LimitNOFILE LimitNPROC LimitRSS LimitRTPRIO
LimitRTTIME LimitSIGPENDING LimitSTACK LoadCredential LoadCredentialEncrypted LockPersonality LogExtraFields
LogLevelMax LogNamespace LogRateLimitBurst LogRateLimitIntervalSec LogsDirectory LogsDirectoryMode
MemoryDenyWriteExecute MountAPIVFS MountFlags MountImages NUMAMask NUMAPolicy NetworkNamespacePath Nice
NoExecPaths NoNewPrivileges OOMScoreAdjust PassEnvironment Personality PrivateDevices PrivateIPC
PrivateMounts PrivateNetwork PrivateTmp PrivateUsers ProcSubset ProtectClock ProtectControlGroups ProtectHome
ProtectKernelLogs ProtectKernelModules ProtectKernelTunables ProtectProc ProtectSystem ReadOnlyDirectories
ReadOnlyPaths ReadWriteDirectories ReadWritePaths RemoveIPC RestrictAddressFamilies RestrictFileSystems
RestrictNamespaces RestrictRealtime RestrictSUIDSGID RootDirectory RootHash RootHashSignature RootImage
RootImageOptions RootVerity RuntimeDirectory RuntimeDirectoryMode RuntimeDirectoryPreserve SELinuxContext
SecureBits SetCredential SetCredentialEncrypted SmackProcessLabel StandardError StandardInput
StandardInputData StandardInputText StandardOutput StateDirectory StateDirectoryMode SupplementaryGroups
SyslogFacility SyslogIdentifier SyslogLevel SyslogLevelPrefix SystemCallArchitectures SystemCallErrorNumber
SystemCallFilter SystemCallLog TTYColumns TTYPath TTYReset TTYRows TTYVHangup TTYVTDisallocate
TemporaryFileSystem TimeoutCleanSec TimerSlackNSec UMask UnsetEnvironment UtmpIdentifier UtmpMode ProtectHostname`;

const ACCEPTED_CGROUP_KEYS = `AllowedCPUs StartupAllowedCPUs AllowedMemoryNodes StartupAllowedMemoryNodes CPUAccounting CPUWeight
StartupCPUWeight CPUShares StartupCPUShares CPUQuota CPUQuotaPeriodSec MemoryAccounting MemoryMin
DefaultMemoryMin DefaultMemoryLow MemoryLow MemoryHigh MemoryMax MemorySwapMax MemoryLimit DeviceAllow
DevicePolicy IOAccounting IOWeight StartupIOWeight IODeviceWeight IOReadBandwidthMax IOWriteBandwidthMax
IOReadIOPSMax IOWriteIOPSMax IODeviceLatencyTargetSec BlockIOAccounting BlockIOWeight StartupBlockIOWeight
BlockIODeviceWeight BlockIOReadBandwidth BlockIOWriteBandwidth TasksAccounting TasksMax Delegate
DisableControllers IPAccounting IPAddressAllow IPAddressDeny IPIngressFilterPath IPEgressFilterPath
ManagedOOMSwap ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMPreference NetClass
BPFProgram SocketBindAllow SocketBindDeny RestrictNetworkInterfaces`;

for (const key of `${ACCEPTED_EXEC_KEYS} ${ACCEPTED_CGROUP_KEYS}`.split(/\s+/)) add('Service', key, 'accepted', false, accepted);

// kill context: [Service] here; [Socket], [Mount], [Swap] and [Scope] use the same settings
for (const section of ['Service', 'Socket', 'Mount', 'Swap', 'Scope']) {
  add(section, 'SendSIGKILL', 'bool', false, bool((c, v) => (c.kill!.sendSIGKILL = v)));
  add(section, 'SendSIGHUP', 'bool', false, bool((c, v) => (c.kill!.sendSIGHUP = v)));
  add(section, 'KillMode', 'enum', false, killMode);
  add(section, 'KillSignal', 'signal', false, signal((c, v) => (c.kill!.killSignal = v)));
  add(section, 'RestartKillSignal', 'signal', false, signal((c, v) => (c.kill!.restartKillSignal = v)));
  add(section, 'FinalKillSignal', 'signal', false, signal((c, v) => (c.kill!.finalKillSignal = v)));
  add(section, 'WatchdogSignal', 'signal', false, signal((c, v) => (c.kill!.watchdogSignal = v)));
}

// [Install]: read by the installer (systemctl enable), not by the manager; kept for UnitFileState
add('Install', 'Alias', 'list', true, installList((c) => c.install.alias));
add('Install', 'WantedBy', 'list', true, installList((c) => c.install.wantedBy));
add('Install', 'RequiredBy', 'list', true, installList((c) => c.install.requiredBy));
add('Install', 'Also', 'list', true, installList((c) => c.install.also));
add('Install', 'DefaultInstance', 'string', true, (c, value, ctx) => {
  c.install.present = true;
  const v = expandOrWarn(value, ctx);
  if (v !== undefined) c.install.defaultInstance = v;
});

const TABLE = new Map<string, SettingSpec>(specs.map((s) => [`${s.section}.${s.key}`, s]));

/** Every setting the table knows, in declaration order. */
export const SETTINGS: readonly SettingSpec[] = specs;

export function findSetting(section: string, key: string): SettingSpec | undefined {
  return TABLE.get(`${section}.${key}`);
}

export type AssignmentOutcome = 'applied' | 'ignored' | 'fatal';

/**
 * Applies one assignment (whose section is valid for the unit's type). Unknown keys are reported
 * and ignored; keys starting with "X-" are ignored silently. Throws FatalSettingError for the
 * errors that make systemd reject the unit.
 */
export function applySetting(config: UnitConfig, section: string, key: string, value: string, ctx: SettingContext): AssignmentOutcome {
  const spec = findSetting(section, key);
  if (!spec) {
    if (key.startsWith('X-') || !CHECKED_SECTIONS.has(section)) return 'ignored';
    ctx.warn(`Unknown key name '${key}' in section '${section}', ignoring.`);
    return 'ignored';
  }
  spec.apply(config, value, ctx);
  return 'applied';
}
