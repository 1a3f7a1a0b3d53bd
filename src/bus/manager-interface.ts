// org.freedesktop.systemd1.Manager: unit lookup and listing, subscriptions, daemon-reload, and
// the manager's own properties. Job and kill methods are handed to the operations of later parts.
import type { Manager } from '../manager.js';
import type { Unit } from '../units/unit.js';
import { InvalidUnitNameError } from '../units/unit-registry.js';
import { fnmatch } from '../util/fnmatch.js';
import { requirePrivilege } from './authorization.js';
import { Errors } from './errors.js';
import type { CallContext, InterfaceImpl, MethodHandler } from './object-server.js';
import type { InterfaceSpec } from './interface-spec.js';
import { unitPath, UNIT_PATH_PREFIX } from './object-paths.js';
import type { UnitLookup } from './unit-lookup.js';
import { architecture, FEATURES, virtualization } from './system-facts.js';

export const MANAGER_INTERFACE = 'org.freedesktop.systemd1.Manager';
export const UNITD_VERSION = '0.1.0';

export interface ManagerBusContext {
  manager: Manager;
  units: UnitLookup;
  /** the caller's unit, for GetUnitByInvocationID of the null ID */
  callerUnit(ctx: CallContext): Promise<Unit | undefined>;
  subscribe(sender: string): void;
  unsubscribe(sender: string): void;
  /** emits Reloading(true), reloads, emits Reloading(false) */
  reload(): void;
  /** this manager's own cgroup, relative to the cgroup2 root */
  controlGroup: string;
  /** the methods that change units and jobs (StartUnit, KillUnit, ...: unit-operations.ts), by member name */
  operations: Record<string, MethodHandler>;
}

/** (ssssssouso): what ListUnits* return for each unit. */
export function unitListEntry(unit: Unit): unknown[] {
  const job = unit.job;
  return [
    unit.id,
    unit.config.unit.description || unit.id,
    unit.config.loadState,
    unit.activeState,
    unit.subState,
    '',
    unitPath(unit.id),
    job?.id ?? 0,
    job?.type ?? '',
    job?.path ?? '/',
  ];
}

function matchesStates(unit: Unit, states: string[]): boolean {
  return states.length === 0 || states.includes(unit.config.loadState) || states.includes(unit.activeState) || states.includes(unit.subState);
}


export function managerInterface(spec: InterfaceSpec, b: ManagerBusContext): InterfaceImpl {
  const m = b.manager;

  const methods: Record<string, MethodHandler> = {
    GetUnit: async (ctx, [name]) => [unitPath((await b.units.loaded(ctx, name as string)).id)],
    LoadUnit: (_ctx, [name]) => [unitPath(b.units.load(name as string).id)],
    GetUnitByPID: async (ctx, [pidArg]) => {
      const pid = pidArg === 0 ? await ctx.callerPid() : (pidArg as number);
      const unit = m.unitOfPid(pid);
      if (!unit) throw Errors.noUnitForPID(pid);
      return [unitPath(unit.id)];
    },
    GetUnitByInvocationID: async (ctx, [raw]) => {
      const id = Buffer.from(raw as Uint8Array | number[]);
      if (id.length !== 0 && id.length !== 16) throw Errors.invalidArgs('Invalid invocation ID');
      let unit: Unit | undefined;
      if (id.length === 0 || id.every((x) => x === 0)) {
        unit = await b.callerUnit(ctx);
        if (!unit) throw Errors.noSuchUnit(`Client ${await ctx.callerPid()} not member of any unit.`);
      } else {
        unit = m.unitByInvocationId(id);
        if (!unit) throw Errors.noUnitForInvocationID(id.toString('hex'));
      }
      return [`${UNIT_PATH_PREFIX}/${unit.invocationId.toString('hex')}`];
    },
    GetUnitByControlGroup: (_ctx, [cgroup]) => {
      const unit = m.unitByControlGroup(cgroup as string);
      if (!unit) throw Errors.noSuchUnit(`Control group '${cgroup as string}' is not valid or not managed by this instance`);
      return [unitPath(unit.id)];
    },
    GetUnitProcesses: async (ctx, [name]) => {
      const unit = await b.units.loaded(ctx, name as string);
      return [m.processesOf(unit).map((p) => [p.cgroup, p.pid, p.command])];
    },
    ListUnits: () => [m.units.units().map(unitListEntry)],
    ListUnitsFiltered: (_ctx, [states]) => [m.units.units().filter((u) => matchesStates(u, states as string[])).map(unitListEntry)],
    ListUnitsByPatterns: (_ctx, [states, patterns]) => {
      const pats = patterns as string[];
      return [
        m.units
          .units()
          .filter((u) => matchesStates(u, states as string[]) && (pats.length === 0 || pats.some((p) => fnmatch(p, u.id))))
          .map(unitListEntry),
      ];
    },
    ListUnitsByNames: (_ctx, [names]) => {
      const out: unknown[] = [];
      for (const name of names as string[]) {
        try {
          out.push(unitListEntry(m.units.load(name)));
        } catch (e) {
          if (!(e instanceof InvalidUnitNameError)) throw e;
        }
      }
      return [out];
    },
    Subscribe: (ctx) => {
      b.subscribe(ctx.sender);
      return [];
    },
    Unsubscribe: (ctx) => {
      b.unsubscribe(ctx.sender);
      return [];
    },
    // method_reload: bus_verify_reload_daemon_async() (polkit, CAP_SYS_ADMIN) before anything
    Reload: async (ctx) => {
      await requirePrivilege(ctx);
      b.reload();
      return [];
    },
  };
  Object.assign(methods, b.operations);

  const ts = (name: string, t: () => { realtime: bigint; monotonic: bigint }) => ({
    [`${name}Timestamp`]: () => t().realtime,
    [`${name}TimestampMonotonic`]: () => t().monotonic,
  });
  const zero = { realtime: 0n, monotonic: 0n };
  const virt = virtualization();

  const getters: Record<string, () => unknown> = {
    Version: () => `252 (unitd ${UNITD_VERSION})`,
    Features: () => FEATURES,
    Virtualization: () => virt,
    Architecture: () => architecture(),
    Tainted: () => '',
    ...ts('Firmware', () => zero),
    ...ts('Loader', () => zero),
    ...ts('Kernel', () => zero),
    ...ts('InitRD', () => zero),
    ...ts('Userspace', () => m.userspaceTimestamp),
    ...ts('Finish', () => m.finishTimestamp),
    NNames: () => m.units.nameCount(),
    NFailedUnits: () => m.failedUnits().length,
    NJobs: () => m.jobs.list().length,
    NInstalledJobs: () => 0,
    NFailedJobs: () => 0,
    Progress: () => (m.finishTimestamp.monotonic > 0n ? 1 : 0),
    Environment: () => [],
    ControlGroup: () => b.controlGroup,
    SystemState: () => m.systemState,
    UnitPath: () => m.unitPath,
    DefaultStandardOutput: () => 'journal',
    DefaultStandardError: () => 'inherit',
    DefaultTimeoutStartUSec: () => 90_000_000n,
    DefaultTimeoutStopUSec: () => 90_000_000n,
    DefaultTimeoutAbortUSec: () => 90_000_000n,
    DefaultRestartUSec: () => 100_000n,
    DefaultStartLimitIntervalUSec: () => 10_000_000n,
    DefaultStartLimitBurst: () => 5,
    ExitCode: () => 0,
    ShowStatus: () => false,
    ServiceWatchdogs: () => true,
    LogLevel: () => 'info',
    LogTarget: () => 'console',
  };
  return { spec, getters, methods };
}
