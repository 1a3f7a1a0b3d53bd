// org.freedesktop.systemd1.Unit: the properties every unit has, and its methods.
import type { Unit } from '../units/unit.js';
import type { DualTimestamp } from '../util/clock.js';
import type { InterfaceImpl, MethodHandler } from './object-server.js';
import type { InterfaceSpec } from './interface-spec.js';

export const UNIT_INTERFACE = 'org.freedesktop.systemd1.Unit';

const FORWARD_DEPENDENCIES = [
  'Requires', 'Requisite', 'Wants', 'BindsTo', 'PartOf', 'Upholds', 'Conflicts', 'Before', 'After',
  'OnSuccess', 'OnFailure', 'Triggers', 'PropagatesReloadTo', 'PropagatesStopTo', 'JoinsNamespaceOf',
] as const;

/** The reverse of each forward dependency, as systemd derives it. */
export const REVERSE_DEPENDENCY: Record<string, string> = {
  Requires: 'RequiredBy',
  Requisite: 'RequisiteOf',
  Wants: 'WantedBy',
  BindsTo: 'BoundBy',
  PartOf: 'ConsistsOf',
  Upholds: 'UpheldBy',
  Conflicts: 'ConflictedBy',
  Before: 'After',
  After: 'Before',
  OnSuccess: 'OnSuccessOf',
  OnFailure: 'OnFailureOf',
  Triggers: 'TriggeredBy',
  PropagatesReloadTo: 'ReloadPropagatedFrom',
  PropagatesStopTo: 'StopPropagatedFrom',
};

/** What the Unit interface needs beyond the unit itself. */
export interface UnitContext {
  /** units that name this one in a forward dependency, by the reverse property name */
  reverseDependencies(unit: Unit, property: string): string[];
  unitFilePreset(unit: Unit): string;
  /** handlers for the unit's methods (Start, Stop, Kill, ...) */
  methods: (unit: Unit) => Record<string, MethodHandler>;
}

function timestampGetters(name: string, read: () => DualTimestamp): Record<string, () => unknown> {
  return { [name]: () => read().realtime, [`${name}Monotonic`]: () => read().monotonic };
}

function dependencyList(unit: Unit, ctx: UnitContext, property: string): string[] {
  const own = unit.config.unit.dependencies[property] ?? [];
  const derived = ctx.reverseDependencies(unit, property);
  return [...new Set([...own, ...derived])];
}

export function unitInterface(spec: InterfaceSpec, unit: Unit, ctx: UnitContext): InterfaceImpl {
  const c = () => unit.config;
  const u = () => unit.config.unit;
  const loaded = () => unit.config.loadState === 'loaded';
  const isService = () => unit.config.service !== null;
  const dependencyGetters: Record<string, () => unknown> = {};
  for (const name of [...FORWARD_DEPENDENCIES, ...Object.values(REVERSE_DEPENDENCY), 'ConsistsOf', 'SliceOf']) {
    dependencyGetters[name] = () => dependencyList(unit, ctx, name);
  }
  const conditionList = (list: typeof unit.config.unit.conditions) =>
    list.map((cond) => [cond.type, cond.trigger, cond.negate, cond.parameter, 0]);

  const getters: Record<string, () => unknown> = {
    Id: () => unit.id,
    Names: () => [...new Set([unit.id, ...c().names])].sort(),
    Following: () => '',
    ...dependencyGetters,
    RequiresMountsFor: () => u().requiresMountsFor,
    Documentation: () => u().documentation,
    Description: () => u().description || unit.id,
    LoadState: () => c().loadState,
    ActiveState: () => unit.activeState,
    FreezerState: () => unit.freezerState,
    SubState: () => unit.subState,
    FragmentPath: () => c().fragmentPath,
    SourcePath: () => c().sourcePath,
    DropInPaths: () => c().dropInPaths,
    UnitFileState: () => c().unitFileState,
    UnitFilePreset: () => ctx.unitFilePreset(unit),
    ...timestampGetters('StateChangeTimestamp', () => unit.timestamps.stateChange),
    ...timestampGetters('InactiveExitTimestamp', () => unit.timestamps.inactiveExit),
    ...timestampGetters('ActiveEnterTimestamp', () => unit.timestamps.activeEnter),
    ...timestampGetters('ActiveExitTimestamp', () => unit.timestamps.activeExit),
    ...timestampGetters('InactiveEnterTimestamp', () => unit.timestamps.inactiveEnter),
    CanStart: () => isService() && loaded() && !u().refuseManualStart,
    CanStop: () => isService() && !u().refuseManualStop,
    CanReload: () => (unit.config.service?.exec.ExecReload.length ?? 0) > 0,
    CanIsolate: () => isService() && loaded() && !u().refuseManualStart && u().allowIsolate,
    CanClean: () => [],
    CanFreeze: () => isService(),
    Job: () => (unit.job ? [unit.job.id, unit.job.path] : [0, '/']),
    StopWhenUnneeded: () => u().stopWhenUnneeded,
    RefuseManualStart: () => u().refuseManualStart,
    RefuseManualStop: () => u().refuseManualStop,
    AllowIsolate: () => u().allowIsolate,
    DefaultDependencies: () => u().defaultDependencies,
    OnSuccessJobMode: () => u().onSuccessJobMode,
    OnFailureJobMode: () => u().onFailureJobMode,
    IgnoreOnIsolate: () => u().ignoreOnIsolate,
    NeedDaemonReload: () => unit.needDaemonReload,
    Markers: () => [],
    JobTimeoutUSec: () => u().jobTimeoutUSec,
    JobRunningTimeoutUSec: () => u().jobRunningTimeoutUSec,
    JobTimeoutAction: () => 'none',
    JobTimeoutRebootArgument: () => '',
    ConditionResult: () => unit.conditionResult,
    AssertResult: () => unit.assertResult,
    ...timestampGetters('ConditionTimestamp', () => unit.timestamps.condition),
    ...timestampGetters('AssertTimestamp', () => unit.timestamps.assert),
    Conditions: () => conditionList(u().conditions),
    Asserts: () => conditionList(u().asserts),
    LoadError: () => (c().loadError ? [c().loadError!.name, c().loadError!.message] : ['', '']),
    Transient: () => false,
    Perpetual: () => false,
    StartLimitIntervalUSec: () => u().startLimitIntervalUSec,
    StartLimitBurst: () => u().startLimitBurst,
    StartLimitAction: () => 'none',
    FailureAction: () => 'none',
    FailureActionExitStatus: () => -1,
    SuccessAction: () => 'none',
    SuccessActionExitStatus: () => -1,
    RebootArgument: () => '',
    InvocationID: () => unit.invocationId,
    CollectMode: () => u().collectMode,
    Refs: () => unit.refs,
    ActivationDetails: () => [],
  };
  return { spec, getters, methods: ctx.methods(unit) };
}
