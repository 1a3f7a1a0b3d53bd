// Puts the manager on the bus: maps every object path systemd serves onto an object built on
// demand (manager, intermediate nodes, units by name or invocation ID, jobs), tracks
// subscribers, and sends UnitNew/UnitRemoved/JobNew/JobRemoved/Reloading/PropertiesChanged.
import dbus from 'dbus-next';
import type { Logger } from 'pino';
import type { Job } from '../jobs/job.js';
import type { Manager } from '../manager.js';
import type { Unit } from '../units/unit.js';
import { isValidUnitName } from '../units/unit-name.js';
import { cgroupFigures } from './cgroup-figures.js';
import { Errors } from './errors.js';
import type { InterfaceSpec } from './interface-spec.js';
import { jobInterface, JOB_INTERFACE } from './job-interface.js';
import { managerInterface, MANAGER_INTERFACE } from './manager-interface.js';
import { ObjectServer, PROPERTIES, type BusObject, type CallContext } from './object-server.js';
import { escapeBusLabel, jobIdFromPath, jobPath, JOB_PATH_PREFIX, MANAGER_PATH, UNIT_PATH_PREFIX, unitPath, unescapeBusLabel } from './object-paths.js';
import { PropertyChangeTracker } from './property-changes.js';
import { serviceInterface, SERVICE_INTERFACE } from './service-interface.js';
import { UnitLookup } from './unit-lookup.js';
import { UnitOperations } from './unit-operations.js';
import { REVERSE_DEPENDENCY, unitInterface, UNIT_INTERFACE } from './unit-interface.js';
import { toWire, typeNode } from './wire-values.js';
import { managerNofileDefault } from '../processes/nofile-limit.js';

type MessageBus = ReturnType<typeof dbus.sessionBus>;
const { Message, Variant } = dbus;

/** unit bus objects kept for reuse (see unitObject) */
const UNIT_OBJECTS_KEPT = 32;

/** Intermediate nodes down to the manager object, as sd-bus makes them. */
const INTERMEDIATE: Record<string, string[]> = {
  '/': ['org'],
  '/org': ['freedesktop'],
  '/org/freedesktop': ['systemd1'],
};

export interface SystemdBusOptions {
  bus: MessageBus;
  manager: Manager;
  specs: Map<string, InterfaceSpec>;
  log: Logger;
  /** this manager's own cgroup relative to the cgroup2 root */
  controlGroup: string;
}

function cescape(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) => {
      if (b === 0x5c) return '\\\\';
      if (b === 0x22) return '\\"';
      if (b === 0x27) return "\\'";
      if (b === 0x0a) return '\\n';
      if (b === 0x09) return '\\t';
      if (b < 0x20 || b >= 0x7f) return '\\x' + b.toString(16).padStart(2, '0');
      return String.fromCharCode(b);
    })
    .join('');
}

/** sd_id128_from_string: 32 hex digits, or the 36-character UUID form. */
function parseId128(s: string): Buffer | null {
  const hex = /^[0-9a-fA-F]{32}$/.test(s) ? s : /^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/.test(s) ? s.replace(/-/g, '') : null;
  return hex ? Buffer.from(hex, 'hex') : null;
}

export class SystemdBus {
  readonly server: ObjectServer;
  private readonly manager: Manager;
  private readonly subscribers = new Set<string>();
  private readonly changes: PropertyChangeTracker;
  private readonly managerObject: BusObject;
  private readonly ops: UnitOperations;
  /** jobs whose JobNew went out (JobRemoved must follow it, never precede it) */
  private readonly announced = new WeakSet<Job>();
  /** recently built unit objects, least recently used first */
  private readonly unitObjects = new Map<Unit, { config: Unit['config']; object: BusObject }>();

  constructor(private readonly opts: SystemdBusOptions) {
    this.manager = opts.manager;
    this.server = new ObjectServer(opts.bus, opts.specs, (path, ctx) => this.resolve(path, ctx), opts.log);
    const units = new UnitLookup(this.manager, (ctx) => this.callerUnit(ctx));
    this.ops = new UnitOperations({ manager: this.manager, units });
    this.managerObject = {
      interfaces: [
        managerInterface(this.spec(MANAGER_INTERFACE), {
          manager: this.manager,
          units,
          callerUnit: (ctx) => this.callerUnit(ctx),
          subscribe: (sender) => this.subscribe(sender),
          unsubscribe: (sender) => this.unsubscribe(sender),
          reload: () => this.manager.reload(),
          controlGroup: opts.controlGroup,
          operations: this.ops.managerMethods(),
        }),
      ],
      children: () => ['unit', 'job'],
    };
    this.changes = new PropertyChangeTracker(
      this.server,
      (unit) => (this.manager.units.get(unit.id) === unit ? this.unitObject(unit) : null),
      (unit) => unitPath(unit.id),
      (unit) => this.subscribers.size > 0 || unit.refs.length > 0,
    );
  }

  private spec(name: string): InterfaceSpec {
    return this.server.spec(name);
  }

  /** Starts serving and wires the manager's events to signals. Call before the name is requested. */
  async start(): Promise<void> {
    this.server.start();
    const registry = this.manager.units;
    const watch = (unit: Unit): void => {
      unit.on('changed', () => this.changes.markDirty(unit));
    };
    for (const unit of registry.units()) {
      watch(unit);
      this.changes.track(unit);
    }
    registry.on('unit-new', (unit) => {
      this.reverseIndex = null;
      watch(unit);
      this.changes.track(unit);
      if (this.subscribers.size > 0) this.server.emitSignal(MANAGER_PATH, MANAGER_INTERFACE, 'UnitNew', [unit.id, unitPath(unit.id)]);
    });
    registry.on('unit-removed', (unit) => {
      this.reverseIndex = null;
      unit.removeAllListeners('changed');
      if (this.subscribers.size > 0) this.server.emitSignal(MANAGER_PATH, MANAGER_INTERFACE, 'UnitRemoved', [unit.id, unitPath(unit.id)]);
    });
    this.manager.on('reloading', (active) => {
      this.reverseIndex = null;
      this.server.emitSignal(MANAGER_PATH, MANAGER_INTERFACE, 'Reloading', [active]);
    });
    this.wireJobSignals();

    // subscriptions and references end with the client's connection
    await this.opts.bus.call(
      new Message({
        destination: 'org.freedesktop.DBus',
        path: '/org/freedesktop/DBus',
        interface: 'org.freedesktop.DBus',
        member: 'AddMatch',
        signature: 's',
        body: ["type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged'"],
      }),
    );
    this.opts.bus.on('message', (msg: InstanceType<typeof Message>) => {
      if (msg.type !== 4 || msg.member !== 'NameOwnerChanged' || msg.body[2] !== '') return;
      const gone = String(msg.body[0]);
      this.subscribers.delete(gone);
      for (const unit of registry.units()) {
        if (!unit.refs.includes(gone)) continue;
        unit.refs = unit.refs.filter((r) => r !== gone);
        unit.changed();
        registry.scheduleGc();
      }
    });
  }

  /**
   * JobNew goes out after the reply that returns the job's path (the job is installed during the
   * call, the reply is sent when the call returns, JobNew on the next turn); JobRemoved after
   * the unit's pending PropertiesChanged, and never before the job's JobNew.
   */
  private wireJobSignals(): void {
    const announce = (job: Job): void => {
      if (this.announced.has(job)) return;
      this.announced.add(job);
      this.server.emitSignal(MANAGER_PATH, MANAGER_INTERFACE, 'JobNew', [job.id, jobPath(job.id), job.unit.id]);
    };
    this.manager.jobs.on('new', (job) => {
      setImmediate(() => announce(job));
      job.on('running', () => {
        setImmediate(() => {
          announce(job);
          this.emitJobState(job);
        });
      });
    });
    this.manager.jobs.on('removed', (job) => {
      setImmediate(() => {
        announce(job);
        this.changes.flush(job.unit);
        this.server.emitSignal(MANAGER_PATH, MANAGER_INTERFACE, 'JobRemoved', [job.id, jobPath(job.id), job.unit.id, job.result ?? 'done']);
      });
    });
  }

  private emitJobState(job: Job): void {
    if (job.finished) return;
    const prop = this.spec(JOB_INTERFACE).properties.get('State')!;
    this.server.sendSignal(
      Message.newSignal(jobPath(job.id), PROPERTIES, 'PropertiesChanged', 'sa{sv}as', [
        JOB_INTERFACE,
        { State: new Variant(prop.type, toWire(typeNode(prop.type), job.state)) },
        [],
      ]),
    );
  }

  private subscribe(sender: string): void {
    if (this.subscribers.has(sender)) throw Errors.alreadySubscribed();
    this.subscribers.add(sender);
  }

  private unsubscribe(sender: string): void {
    if (!this.subscribers.delete(sender)) throw Errors.notSubscribed();
  }

  private async callerUnit(ctx: CallContext): Promise<Unit | undefined> {
    return this.manager.unitOfPid(await ctx.callerPid());
  }

  /**
   * The bus object of a unit. The last UNIT_OBJECTS_KEPT built are kept (for the configuration
   * they were built from): a unit being started or stopped is asked for its object at every
   * PropertiesChanged flush, and building one takes ~45 µs. Keeping one per loaded unit would cost
   * ~10 KiB each.
   */
  unitObject(unit: Unit): BusObject {
    const kept = this.unitObjects.get(unit);
    if (kept && kept.config === unit.config) {
      this.unitObjects.delete(unit);
      this.unitObjects.set(unit, kept);
      return kept.object;
    }
    const object = this.buildUnitObject(unit);
    this.unitObjects.delete(unit);
    this.unitObjects.set(unit, { config: unit.config, object });
    if (this.unitObjects.size > UNIT_OBJECTS_KEPT) this.unitObjects.delete(this.unitObjects.keys().next().value!);
    return object;
  }

  private buildUnitObject(unit: Unit): BusObject {
    const unitImpl = unitInterface(this.spec(UNIT_INTERFACE), unit, {
      reverseDependencies: (u, property) => this.reverseDependencies(u, property),
      unitFilePreset: (u) => (u.config.unitFileState === 'static' || u.config.unitFileState === '' ? '' : 'enabled'),
      methods: (u) => this.ops.unitMethods(u),
    });
    // systemd's order: the type interface, then Unit (GetAll(""), Introspect and PropertiesChanged)
    const interfaces = unit.config.service
      ? [
          serviceInterface(this.spec(SERVICE_INTERFACE), unit, {
            cgroupFigures: (u) => cgroupFigures(this.manager.tracker, u),
            defaultSlice: this.manager.scope === 'system' ? 'system.slice' : 'app.slice',
            defaultLimitNOFILE: managerNofileDefault(this.manager.scope),
            methods: (u) => this.ops.serviceMethods(u),
          }),
          unitImpl,
        ]
      : [unitImpl];
    return { interfaces, children: () => [] };
  }

  private jobObject(job: Job): BusObject {
    return {
      interfaces: [
        jobInterface(this.spec(JOB_INTERFACE), job, {
          Cancel: async (ctx) => {
            await this.ops.cancelJob(ctx, job.id);
            return [];
          },
          GetAfter: () => [[]],
          GetBefore: () => [[]],
        }),
      ],
      children: () => [],
    };
  }

  /** name -> reverse property (WantedBy, RequiredBy, ...) -> units naming it; rebuilt after changes */
  private reverseIndex: Map<string, Map<string, string[]>> | null = null;

  private reverseDependencies(unit: Unit, property: string): string[] {
    if (!this.reverseIndex) {
      const index = new Map<string, Map<string, string[]>>();
      for (const other of this.manager.units.units()) {
        for (const [forward, names] of Object.entries(other.config.unit.dependencies)) {
          const reverse = REVERSE_DEPENDENCY[forward];
          if (!reverse) continue;
          for (const name of names) {
            let byProp = index.get(name);
            if (!byProp) index.set(name, (byProp = new Map()));
            const list = byProp.get(reverse) ?? [];
            if (!list.includes(other.id)) list.push(other.id);
            byProp.set(reverse, list);
          }
        }
      }
      this.reverseIndex = index;
    }
    const out = new Set<string>();
    for (const name of new Set([unit.id, ...unit.config.names])) {
      for (const other of this.reverseIndex.get(name)?.get(property) ?? []) if (other !== unit.id) out.add(other);
    }
    return [...out];
  }

  private async resolve(path: string, ctx: CallContext): Promise<BusObject | null> {
    const children = INTERMEDIATE[path];
    if (children) return { interfaces: [], children: () => children };
    if (path === MANAGER_PATH) return this.managerObject;
    if (path === UNIT_PATH_PREFIX) {
      return { interfaces: [], children: () => this.manager.units.units().map((u) => escapeBusLabel(u.id)) };
    }
    if (path === JOB_PATH_PREFIX) return { interfaces: [], children: () => this.manager.jobs.list().map((j) => String(j.id)) };
    if (path.startsWith(JOB_PATH_PREFIX + '/')) {
      const id = jobIdFromPath(path);
      const job = id === null ? undefined : this.manager.jobs.get(id);
      return job ? this.jobObject(job) : null;
    }
    if (path.startsWith(UNIT_PATH_PREFIX + '/')) {
      const unit = await this.unitAtPath(path.slice(UNIT_PATH_PREFIX.length + 1), ctx);
      return unit ? this.unitObject(unit) : null;
    }
    return null;
  }

  private async unitAtPath(label: string, ctx: CallContext): Promise<Unit | null> {
    if (label.includes('/')) return null;
    if (label === 'self') return (await this.callerUnit(ctx)) ?? null;
    const name = unescapeBusLabel(label);
    const id = parseId128(name);
    if (id) {
      const unit = this.manager.unitByInvocationId(id);
      if (!unit) throw Errors.noUnitForInvocationID(id.toString('hex'));
      return unit;
    }
    if (!isValidUnitName(name, { plain: true, instance: true })) {
      throw Errors.invalidArgs(`Unit name ${cescape(name)} is neither a valid invocation ID nor unit name.`);
    }
    return this.manager.units.load(name);
  }
}
