// org.freedesktop.systemd1.Service: the service's settings (exec, kill and cgroup contexts) and
// its run-time state, with systemd's defaults and exact wire types.
import type { Unit, ExecStatus } from '../units/unit.js';
import { EXEC_KINDS, USEC_INFINITY, type ExecCommand, type ExitStatusSet, type ServiceSection } from '../units/types.js';
import type { InterfaceImpl, MethodHandler } from './object-server.js';
import type { InterfaceSpec } from './interface-spec.js';
import type { ResourceLimit } from '../units/resource-limit.js';

export const SERVICE_INTERFACE = 'org.freedesktop.systemd1.Service';

const UINT32_MAX = 0xffffffff;

/** Accounting figures of a unit's cgroup; USEC_INFINITY (UINT64_MAX) where unknown. */
export interface CgroupFigures {
  memoryCurrent: bigint;
  memoryAvailable: bigint;
  cpuUsageNSec: bigint;
  tasksCurrent: bigint;
  controlGroupId: bigint;
}

export interface ServiceContext {
  cgroupFigures(unit: Unit): CgroupFigures;
  defaultSlice: string;
  /** what a service without LimitNOFILE= gets */
  defaultLimitNOFILE: ResourceLimit;
  methods: (unit: Unit) => Record<string, MethodHandler>;
}

function execFlags(cmd: ExecCommand): string[] {
  const flags: string[] = [];
  if (cmd.ignoreFailure) flags.push('ignore-failure');
  if (cmd.privileged) flags.push('privileged');
  if (cmd.noSetuid) flags.push('no-setuid');
  if (cmd.ambient) flags.push('ambient');
  if (cmd.noEnvExpand) flags.push('no-env-expand');
  return flags;
}

function execRuntime(s: ExecStatus): unknown[] {
  return [s.start.realtime, s.start.monotonic, s.exit.realtime, s.exit.monotonic, s.pid, s.code, s.status];
}

function exitStatusSet(set: ExitStatusSet): unknown[] {
  return [set.statuses, set.signals];
}

export function serviceInterface(spec: InterfaceSpec, unit: Unit, ctx: ServiceContext): InterfaceImpl {
  const s = (): ServiceSection => {
    if (!unit.config.service) throw new Error(`${unit.id} has no service section`);
    return unit.config.service;
  };
  const k = () => s().kill;

  const execGetters: Record<string, () => unknown> = {};
  for (const kind of EXEC_KINDS) {
    const commands = () => s().exec[kind];
    execGetters[kind] = () => commands().map((cmd, i) => [cmd.path, cmd.argv, cmd.ignoreFailure, ...execRuntime(unit.execStatusOf(kind, i))]);
    execGetters[`${kind}Ex`] = () => commands().map((cmd, i) => [cmd.path, cmd.argv, execFlags(cmd), ...execRuntime(unit.execStatusOf(kind, i))]);
  }

  const getters: Record<string, () => unknown> = {
    Type: () => s().type,
    ExitType: () => s().exitType,
    Restart: () => s().restart,
    PIDFile: () => s().pidFile,
    NotifyAccess: () => s().notifyAccess,
    RestartUSec: () => s().restartUSec,
    TimeoutStartUSec: () => s().timeoutStartUSec,
    TimeoutStopUSec: () => s().timeoutStopUSec,
    TimeoutAbortUSec: () => s().timeoutAbortUSec ?? s().timeoutStopUSec,
    TimeoutStartFailureMode: () => s().timeoutStartFailureMode,
    TimeoutStopFailureMode: () => s().timeoutStopFailureMode,
    RuntimeMaxUSec: () => s().runtimeMaxUSec,
    RuntimeRandomizedExtraUSec: () => s().runtimeRandomizedExtraUSec,
    WatchdogUSec: () => s().watchdogUSec,
    WatchdogTimestamp: () => 0n,
    WatchdogTimestampMonotonic: () => 0n,
    RemainAfterExit: () => s().remainAfterExit,
    GuessMainPID: () => s().guessMainPID,
    RestartPreventExitStatus: () => exitStatusSet(s().restartPreventExitStatus),
    RestartForceExitStatus: () => exitStatusSet(s().restartForceExitStatus),
    SuccessExitStatus: () => exitStatusSet(s().successExitStatus),
    MainPID: () => unit.mainPID,
    ControlPID: () => unit.controlPID,
    BusName: () => s().busName,
    FileDescriptorStoreMax: () => 0,
    NFileDescriptorStore: () => 0,
    StatusText: () => unit.statusText,
    StatusErrno: () => unit.statusErrno,
    Result: () => unit.result,
    ReloadResult: () => unit.reloadResult,
    CleanResult: () => 'success',
    UID: () => UINT32_MAX,
    GID: () => UINT32_MAX,
    NRestarts: () => unit.nRestarts,
    OOMPolicy: () => s().oomPolicy,
    ExecMainStartTimestamp: () => unit.execMain.start.realtime,
    ExecMainStartTimestampMonotonic: () => unit.execMain.start.monotonic,
    ExecMainExitTimestamp: () => unit.execMain.exit.realtime,
    ExecMainExitTimestampMonotonic: () => unit.execMain.exit.monotonic,
    ExecMainPID: () => unit.execMain.pid,
    ExecMainCode: () => unit.execMain.code,
    ExecMainStatus: () => unit.execMain.status,
    ...execGetters,
    Slice: () => s().slice || ctx.defaultSlice,
    ControlGroup: () => unit.controlGroup,
    ControlGroupId: () => ctx.cgroupFigures(unit).controlGroupId,
    MemoryCurrent: () => ctx.cgroupFigures(unit).memoryCurrent,
    MemoryAvailable: () => ctx.cgroupFigures(unit).memoryAvailable,
    CPUUsageNSec: () => ctx.cgroupFigures(unit).cpuUsageNSec,
    TasksCurrent: () => ctx.cgroupFigures(unit).tasksCurrent,
    TasksMax: () => USEC_INFINITY,
    IPIngressBytes: () => USEC_INFINITY,
    IPEgressBytes: () => USEC_INFINITY,
    IOReadBytes: () => USEC_INFINITY,
    IOWriteBytes: () => USEC_INFINITY,
    MemoryMin: () => 0n,
    MemoryLow: () => 0n,
    MemoryHigh: () => USEC_INFINITY,
    MemoryMax: () => USEC_INFINITY,
    MemorySwapMax: () => USEC_INFINITY,
    MemoryLimit: () => USEC_INFINITY,
    DefaultMemoryMin: () => 0n,
    DefaultMemoryLow: () => 0n,
    LogNamespace: () => '',
    Environment: () => s().environment,
    EnvironmentFiles: () => s().environmentFiles.map((f) => (f.startsWith('-') ? [f.slice(1), true] : [f, false])),
    LimitNOFILE: () => (s().limitNOFILE ?? ctx.defaultLimitNOFILE).hard,
    LimitNOFILESoft: () => (s().limitNOFILE ?? ctx.defaultLimitNOFILE).soft,
    WorkingDirectory: () => s().workingDirectory,
    User: () => s().user,
    Group: () => s().group,
    IgnoreSIGPIPE: () => s().ignoreSigpipe,
    KillMode: () => k().killMode,
    KillSignal: () => k().killSignal,
    RestartKillSignal: () => k().restartKillSignal || k().killSignal,
    FinalKillSignal: () => k().finalKillSignal,
    SendSIGKILL: () => k().sendSIGKILL,
    SendSIGHUP: () => k().sendSIGHUP,
    WatchdogSignal: () => k().watchdogSignal,
  };
  return { spec, getters, methods: ctx.methods(unit) };
}
