// What the settings of one unit build up while its files are read, and the values it starts
// with: systemd 252's *_init() defaults (service_init, kill_context_init, unit_new) and the
// manager defaults (DefaultTimeoutStartSec=/DefaultTimeoutStopSec= 90s, DefaultRestartSec= 100ms).
import { EXEC_KINDS, USEC_INFINITY } from './types.js';
import type {
  ExecCommand,
  ExecKind,
  ExitStatusSet,
  KillContext,
  ServiceSection,
  ServiceType,
  UnitSection,
} from './types.js';

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
  /** Type= as configured; null lets completeService() pick one as service_add_extras() does */
  explicitServiceType: ServiceType | null;
  /** TimeoutStartSec=/TimeoutSec= was set (oneshot services otherwise get no start timeout) */
  startTimeoutDefined: boolean;
  pamName: string;
  usbFunctionDescriptors: string;
  usbFunctionStrings: string;
  /** OOMPolicy= as configured; null: the default, which depends on Delegate= */
  explicitOOMPolicy: 'continue' | 'stop' | 'kill' | null;
  /** JobRunningTimeoutSec= was set: JobTimeoutSec= then no longer sets it too */
  jobRunningTimeoutSet: boolean;
  delegate: boolean;
  fileDescriptorStoreMax: number;
}

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

/** service_init(): the values before any file is read (Type is decided by completeService()). */
export function defaultServiceSection(kill: KillContext): ServiceSection {
  return {
    type: '',
    exitType: 'main',
    restart: 'no',
    pidFile: '',
    remainAfterExit: false,
    guessMainPID: true,
    ignoreSigpipe: true,
    limitNOFILE: null,
    restartUSec: DEFAULT_RESTART_USEC,
    timeoutStartUSec: DEFAULT_TIMEOUT_USEC,
    timeoutStopUSec: DEFAULT_TIMEOUT_USEC,
    timeoutAbortUSec: null,
    timeoutStartFailureMode: 'terminate',
    timeoutStopFailureMode: 'terminate',
    runtimeMaxUSec: USEC_INFINITY,
    runtimeRandomizedExtraUSec: 0n,
    watchdogUSec: 0n,
    notifyAccess: 'none',
    oomPolicy: '',
    delegate: false,
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

/** Types whose units are left alone by isolate unless told otherwise (their *_init() functions). */
const IGNORED_ON_ISOLATE = new Set(['mount', 'automount', 'swap', 'slice', 'scope', 'device']);

export function newUnitConfig(unitType: string): UnitConfig {
  const kill = KILLING_TYPES.has(unitType) ? defaultKillContext() : null;
  return {
    unitType,
    unit: { ...defaultUnitSection(), ignoreOnIsolate: IGNORED_ON_ISOLATE.has(unitType) },
    service: unitType === 'service' && kill ? defaultServiceSection(kill) : null,
    kill,
    sourcePath: '',
    install: { alias: [], wantedBy: [], requiredBy: [], also: [], defaultInstance: '', present: false },
    explicitServiceType: null,
    startTimeoutDefined: false,
    pamName: '',
    usbFunctionDescriptors: '',
    usbFunctionStrings: '',
    explicitOOMPolicy: null,
    jobRunningTimeoutSet: false,
    delegate: false,
    fileDescriptorStoreMax: 0,
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
