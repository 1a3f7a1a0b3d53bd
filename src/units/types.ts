// Shared shapes of the unit store: what a unit file becomes after parsing and loading.
// Times are microseconds as bigint; USEC_INFINITY means "infinity"/"unset" as in systemd.

import type { ResourceLimit } from './resource-limit.js';

export const USEC_INFINITY = 0xffff_ffff_ffff_ffffn;

/** Where a setting came from, for logs and errors ("file:line"). */
export interface Origin {
  file: string;
  line: number;
}

/** One `Key=value` line, after continuation joining, in file order. */
export interface Assignment extends Origin {
  section: string;
  key: string;
  value: string;
}

export interface ParseWarning extends Origin {
  message: string;
}

export interface ParsedFile {
  path: string;
  assignments: Assignment[];
  warnings: ParseWarning[];
}

/** One command line of an Exec*= setting, with its prefixes decoded. */
export interface ExecCommand {
  path: string;
  argv: string[];
  /** `-` prefix */
  ignoreFailure: boolean;
  /** `:` prefix: no $VAR expansion */
  noEnvExpand: boolean;
  /** `+` prefix */
  privileged: boolean;
  /** `!` prefix */
  noSetuid: boolean;
  /** `!!` prefix */
  ambient: boolean;
  origin: Origin;
}

export type ExecKind =
  | 'ExecCondition'
  | 'ExecStartPre'
  | 'ExecStart'
  | 'ExecStartPost'
  | 'ExecReload'
  | 'ExecStop'
  | 'ExecStopPost';

export const EXEC_KINDS: readonly ExecKind[] = [
  'ExecCondition',
  'ExecStartPre',
  'ExecStart',
  'ExecStartPost',
  'ExecReload',
  'ExecStop',
  'ExecStopPost',
];

export type KillMode = 'control-group' | 'process' | 'mixed' | 'none';

export interface KillContext {
  killMode: KillMode;
  killSignal: number;
  /** 0 = not configured: the effective value is killSignal */
  restartKillSignal: number;
  finalKillSignal: number;
  sendSIGKILL: boolean;
  sendSIGHUP: boolean;
  watchdogSignal: number;
}

export type ServiceType = 'simple' | 'exec' | 'forking' | 'oneshot' | 'dbus' | 'notify' | 'idle';
export type ServiceRestart =
  | 'no'
  | 'on-success'
  | 'on-failure'
  | 'on-abnormal'
  | 'on-watchdog'
  | 'on-abort'
  | 'always';

/** Exit statuses and signals, as in SuccessExitStatus= and friends. */
export interface ExitStatusSet {
  statuses: number[];
  signals: number[];
}

export interface UnitSection {
  description: string;
  documentation: string[];
  /** dependency lists by systemd's key name: Requires, Wants, After, Before, Conflicts, ... */
  dependencies: Record<string, string[]>;
  refuseManualStart: boolean;
  refuseManualStop: boolean;
  allowIsolate: boolean;
  defaultDependencies: boolean;
  stopWhenUnneeded: boolean;
  ignoreOnIsolate: boolean;
  jobTimeoutUSec: bigint;
  jobRunningTimeoutUSec: bigint;
  startLimitIntervalUSec: bigint;
  startLimitBurst: number;
  collectMode: 'inactive' | 'inactive-or-failed';
  onSuccessJobMode: string;
  onFailureJobMode: string;
  /** emergency actions: none, exit, exit-force, reboot, ... */
  successAction: string;
  failureAction: string;
  startLimitAction: string;
  requiresMountsFor: string[];
  /** Condition*= and Assert*= lines, in order: type is the key name, e.g. ConditionPathExists */
  conditions: ConditionSpec[];
  asserts: ConditionSpec[];
}

export interface ConditionSpec {
  type: string;
  trigger: boolean; // `|` prefix
  negate: boolean; // `!` prefix
  parameter: string;
}

export interface ServiceSection {
  /** '' until the service is loaded: systemd reports Type= "" for masked, not-found and
   *  unparsable (bad-setting while reading the file) services */
  type: ServiceType | '';
  exitType: 'main' | 'cgroup';
  restart: ServiceRestart;
  pidFile: string;
  remainAfterExit: boolean;
  guessMainPID: boolean;
  /** IgnoreSIGPIPE= (default yes): the service's processes start with SIGPIPE ignored */
  ignoreSigpipe: boolean;
  /** LimitNOFILE=; null: the manager's default (see processes/nofile-limit.ts) */
  limitNOFILE: ResourceLimit | null;
  restartUSec: bigint;
  timeoutStartUSec: bigint;
  timeoutStopUSec: bigint;
  /** null = not set: falls back to timeoutStopUSec */
  timeoutAbortUSec: bigint | null;
  timeoutStartFailureMode: 'terminate' | 'abort' | 'kill';
  timeoutStopFailureMode: 'terminate' | 'abort' | 'kill';
  runtimeMaxUSec: bigint;
  runtimeRandomizedExtraUSec: bigint;
  watchdogUSec: bigint;
  notifyAccess: 'none' | 'main' | 'exec' | 'all';
  /** '' until the service is loaded (as Type) */
  oomPolicy: 'continue' | 'stop' | 'kill' | '';
  /** Delegate= (on, with any controller list): the unit manages its own cgroup subtree */
  delegate: boolean;
  busName: string;
  successExitStatus: ExitStatusSet;
  restartPreventExitStatus: ExitStatusSet;
  restartForceExitStatus: ExitStatusSet;
  exec: Record<ExecKind, ExecCommand[]>;
  /** Environment= entries in order, "NAME=value" */
  environment: string[];
  /** EnvironmentFile= entries; a leading "-" means optional */
  environmentFiles: string[];
  /** as the D-Bus property: "" (not set), "/path", "!/path" (missing is ok), "!~" (home) */
  workingDirectory: string;
  user: string;
  group: string;
  slice: string;
  kill: KillContext;
}

export type LoadState = 'stub' | 'loaded' | 'not-found' | 'bad-setting' | 'error' | 'merged' | 'masked';

/** The D-Bus error a broken load answers with (also the LoadError property). */
export interface LoadError {
  name: string;
  message: string;
}

/** A unit as the store knows it after loading: static configuration only, no runtime state. */
export interface LoadedUnit {
  /** primary name, e.g. "foo.service" or "getty@tty1.service" */
  id: string;
  /** all names incl. aliases that resolved to the same fragment */
  names: string[];
  loadState: LoadState;
  loadError: LoadError | null;
  fragmentPath: string;
  sourcePath: string;
  dropInPaths: string[];
  unitFileState: string;
  unit: UnitSection;
  /** present for .service units (also when not-found, filled with defaults) */
  service: ServiceSection | null;
  /** KillMode= and friends of units that kill processes (service, socket, mount, swap, scope);
   *  for a service the same object as service.kill */
  kill: KillContext | null;
  /** bad values that were ignored, with file:line: for the log */
  warnings: ParseWarning[];
}
