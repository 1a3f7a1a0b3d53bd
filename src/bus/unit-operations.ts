// The methods that change units, on the Manager (by name) and on each Unit object: jobs (start,
// stop, restart, reload...), kill and queued signals, reset-failed, Ref/Unref, freeze/thaw, and
// the job methods. Each checks arguments in systemd's order, then the caller's privilege.
import type { Manager } from '../manager.js';
import type { JobType } from '../jobs/job.js';
import { JobRequestError } from '../jobs/job-queue.js';
import { KillRequestError, parseKillRequest } from '../signals/kill-request.js';
import type { Unit } from '../units/unit.js';
import { pathIsNormalized } from '../units/unit-name.js';
import { requirePrivilege } from './authorization.js';
import { BusError, Errors } from './errors.js';
import { jobListEntry } from './job-interface.js';
import type { CallContext, MethodHandler } from './object-server.js';
import { jobPath } from './object-paths.js';
import type { UnitLookup } from './unit-lookup.js';

function asBusError(err: unknown): unknown {
  if (err instanceof JobRequestError || err instanceof KillRequestError) return new BusError(err.errorName, err.message);
  return err;
}

/** Runs fn and turns the core's typed refusals into the D-Bus errors systemd sends. */
async function bus<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw asBusError(err);
  }
}

export interface UnitOperationsContext {
  manager: Manager;
  units: UnitLookup;
}

/** unit types that have processes to kill in systemd 252 (a .kill in their vtable) */
const KILLABLE_TYPES: ReadonlySet<string> = new Set(['service', 'socket', 'mount', 'swap', 'scope', 'slice']);

const VERB_OF_METHOD: Record<string, JobType | 'reload-or-restart' | 'reload-or-try-restart'> = {
  Start: 'start',
  Stop: 'stop',
  Reload: 'reload',
  Restart: 'restart',
  TryRestart: 'try-restart',
  ReloadOrRestart: 'reload-or-restart',
  ReloadOrTryRestart: 'reload-or-try-restart',
};

export class UnitOperations {
  constructor(private readonly c: UnitOperationsContext) {}

  private get m(): Manager {
    return this.c.manager;
  }

  private async queueJob(ctx: CallContext, unitArg: Unit, verb: string, mode: string): Promise<string> {
    let unit = unitArg;
    if (!['fail', 'replace', 'replace-irreversibly', 'isolate', 'flush', 'ignore-dependencies', 'ignore-requirements', 'triggering'].includes(mode)) {
      throw Errors.invalidArgs(`Job mode ${mode} invalid`);
    }
    await requirePrivilege(ctx);
    // the privilege check waited for the bus: take the live unit (an idle one may have been collected)
    unit = this.c.units.load(unit.id);
    let type: JobType;
    const canReload = this.m.driver.canReload(unit);
    if (verb === 'reload-or-restart') type = canReload ? 'reload-or-start' : 'restart';
    else if (verb === 'reload-or-try-restart') type = canReload ? 'try-reload' : 'try-restart';
    else type = verb as JobType;
    const job = await bus(() => this.m.enqueue(unit, type, mode, ctx.sender));
    return jobPath(job.id);
  }

  private async kill(ctx: CallContext, unit: Unit, whom: string, signal: number, value: number | null): Promise<void> {
    const req = await bus(() => parseKillRequest(whom, signal, value));
    await requirePrivilege(ctx);
    const live = this.m.units.get(unit.id);
    if (!live) throw Errors.unitNotLoaded(unit.id);
    // systemd 252 (unit_kill): a type without a kill method (target, timer, path, device...) is -EOPNOTSUPP
    if (!KILLABLE_TYPES.has(live.id.slice(live.id.lastIndexOf('.') + 1))) throw new BusError('org.freedesktop.DBus.Error.NotSupported', 'Operation not supported');
    await bus(() => this.m.kill(live, req));
  }

  managerMethods(): Record<string, MethodHandler> {
    const job = (verb: string): MethodHandler => async (ctx, [name, mode]) => {
      const unit = this.c.units.load(name as string);
      return [await this.queueJob(ctx, unit, verb, mode as string)];
    };
    return {
      StartUnit: job('start'),
      StartUnitWithFlags: async (ctx, [name, mode, flags]) => {
        const unit = this.c.units.load(name as string);
        if (flags !== 0n) throw Errors.invalidArgs(`Invalid 'flags' parameter '${String(flags)}'`);
        return [await this.queueJob(ctx, unit, 'start', mode as string)];
      },
      StopUnit: job('stop'),
      ReloadUnit: job('reload'),
      RestartUnit: job('restart'),
      TryRestartUnit: job('try-restart'),
      ReloadOrRestartUnit: job('reload-or-restart'),
      ReloadOrTryRestartUnit: job('reload-or-try-restart'),
      KillUnit: async (ctx, [name, whom, signal]) => {
        await this.kill(ctx, await this.c.units.loaded(ctx, name as string), whom as string, signal as number, null);
        return [];
      },
      QueueSignalUnit: async (ctx, [name, whom, signal, value]) => {
        await this.kill(ctx, await this.c.units.loaded(ctx, name as string), whom as string, signal as number, value as number);
        return [];
      },
      ResetFailedUnit: async (ctx, [name]) => {
        const unit = await this.c.units.loaded(ctx, name as string);
        await requirePrivilege(ctx);
        this.m.resetFailed(unit);
        return [];
      },
      ResetFailed: async (ctx) => {
        await requirePrivilege(ctx);
        for (const unit of this.m.units.units()) this.m.resetFailed(unit);
        return [];
      },
      GetJob: (_ctx, [id]) => {
        if (!this.m.jobs.get(id as number)) throw Errors.noSuchJob(id as number);
        return [jobPath(id as number)];
      },
      GetJobAfter: (_ctx, [id]) => {
        if (!this.m.jobs.get(id as number)) throw Errors.noSuchJob(id as number);
        return [[]];
      },
      GetJobBefore: (_ctx, [id]) => {
        if (!this.m.jobs.get(id as number)) throw Errors.noSuchJob(id as number);
        return [[]];
      },
      CancelJob: async (ctx, [id]) => {
        await this.cancelJob(ctx, id as number);
        return [];
      },
      ClearJobs: async (ctx) => {
        await requirePrivilege(ctx);
        this.m.jobs.clear();
        return [];
      },
      ListJobs: () => [this.m.jobs.list().map(jobListEntry)],
    };
  }

  async cancelJob(ctx: CallContext, id: number): Promise<void> {
    const job = this.m.jobs.get(id);
    if (!job) throw Errors.noSuchJob(id);
    // the client that asked for a job may cancel it without further privilege
    if (job.requester !== ctx.sender) await requirePrivilege(ctx);
    this.m.jobs.cancel(id);
  }

  unitMethods(unit: Unit): Record<string, MethodHandler> {
    const methods: Record<string, MethodHandler> = {};
    for (const [member, verb] of Object.entries(VERB_OF_METHOD)) {
      methods[member] = async (ctx, [mode]) => [await this.queueJob(ctx, unit, verb, mode as string)];
    }
    methods.Kill = async (ctx, [whom, signal]) => {
      await this.kill(ctx, unit, whom as string, signal as number, null);
      return [];
    };
    methods.QueueSignal = async (ctx, [whom, signal, value]) => {
      await this.kill(ctx, unit, whom as string, signal as number, value as number);
      return [];
    };
    methods.ResetFailed = async (ctx) => {
      await requirePrivilege(ctx);
      this.m.resetFailed(unit);
      return [];
    };
    methods.Ref = async (ctx) => {
      await requirePrivilege(ctx);
      // the privilege check waited for the bus: an idle unit may have been collected meanwhile
      const live = this.m.units.load(unit.id);
      live.refs.push(ctx.sender);
      live.changed();
      return [];
    };
    methods.Unref = (ctx) => {
      const i = unit.refs.indexOf(ctx.sender);
      if (i < 0) throw Errors.notReferenced();
      unit.refs.splice(i, 1);
      unit.changed();
      this.m.units.scheduleGc();
      return [];
    };
    methods.Freeze = async (ctx) => {
      await this.freezer(ctx, unit, true);
      return [];
    };
    methods.Thaw = async (ctx) => {
      await this.freezer(ctx, unit, false);
      return [];
    };
    return methods;
  }

  serviceMethods(unit: Unit): Record<string, MethodHandler> {
    return {
      GetProcesses: () => [this.m.processesOf(unit).map((p) => [p.cgroup, p.pid, p.command])],
      // bus_unit_method_attach_processes() asks no privilege of its own (it checks each process's
      // owner against the caller's uid later): the path, then delegation, come first
      AttachProcesses: (_ctx, [path]) => {
        const p = path as string;
        if (p !== '') {
          if (!p.startsWith('/')) throw Errors.invalidArgs(`Control group path is not absolute: ${p}`);
          if (!pathIsNormalized(p)) throw Errors.invalidArgs(`Control group path is not normalized: ${p}`);
        }
        if (!unit.config.service?.delegate) throw Errors.invalidArgs('Process migration not available on non-delegated units.');
        throw Errors.notSupported('Attaching processes is not supported by unitd.');
      },
    };
  }

  /** Unit.Freeze/Thaw with systemd 252's preconditions; the reply waits for the kernel. */
  private async freezer(ctx: CallContext, unit: Unit, freeze: boolean): Promise<void> {
    const t = this.m.tracker;
    if (!unit.config.service || !t.canFreeze) throw new BusError('org.freedesktop.DBus.Error.NotSupported', `Unit '${unit.id}' does not support freezing.`);
    await requirePrivilege(ctx);
    if (unit.job) throw new BusError('org.freedesktop.systemd1.UnitBusy', 'Unit has a pending job.');
    if (unit.activeState !== 'active' && unit.activeState !== 'reloading') throw new BusError('org.freedesktop.systemd1.UnitInactive', 'Unit is inactive.');
    if (!unit.controlGroup) throw new BusError('org.freedesktop.systemd1.UnitInactive', 'Unit is inactive.');
    const group = t.group(unit.id);
    if (freeze === t.isFrozen(group)) return;
    unit.freezerState = freeze ? 'freezing' : 'thawing';
    unit.changed();
    await (freeze ? t.freeze(group) : t.thaw(group));
    unit.freezerState = freeze ? 'frozen' : 'running';
    unit.changed();
  }

}
