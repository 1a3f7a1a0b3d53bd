// Assembles unitd: the bus (given, system/session, or embedded), the unit store and manager,
// the object server; claims org.freedesktop.systemd1 and runs until SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import dbus from 'dbus-next';
import type { Logger } from 'pino';
import { connectBus, ownerPid, type MessageBus } from './bus/connect.js';
import { useFastEncoder } from './bus/wire-encoder.js';
import { startEmbeddedDaemon, type EmbeddedDaemon } from './bus/embedded-daemon.js';
import { loadInterfaceSpecs } from './bus/interface-spec.js';
import { SystemdBus } from './bus/systemd-bus.js';
import type { Options } from './cli/options.js';
import { Manager } from './manager.js';
import { unitSearchPath } from './units/search-path.js';
import { UnitStore } from './units/unit-loader.js';
import { isValidUnitName } from './units/unit-name.js';
import { createProcessTracker, stopFdInheritance } from './processes/index.js';
import { becomeSystemManager, requireSystemManagerGround } from './system-manager.js';
import { StartRefusal } from './start-refusal.js';

export const BUS_NAME = 'org.freedesktop.systemd1';

export interface RunningDaemon {
  busAddress: string;
  manager: Manager;
  stop(): Promise<void>;
}

function defaultBusAddress(scope: 'system' | 'user'): string | null {
  if (scope === 'system') return process.env.DBUS_SYSTEM_BUS_ADDRESS || 'unix:path=/run/dbus/system_bus_socket';
  return process.env.DBUS_SESSION_BUS_ADDRESS || null;
}

function defaultRuntimeDir(scope: 'system' | 'user'): string {
  if (scope === 'system') return '/run/unitd';
  const xdg = process.env.XDG_RUNTIME_DIR;
  return xdg ? join(xdg, 'unitd') : `/tmp/unitd-${process.getuid?.() ?? 0}`;
}

/** Our own cgroup (cgroup v2 "0::" line), relative to the hierarchy's root. */
function ownControlGroup(): string {
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line ? line.slice(3) : '';
  } catch {
    return '';
  }
}

/** The refusal for a bus where someone else already has the name, naming that process. */
function nameTaken(address: string, pid: number | null, scope: 'system' | 'user'): StartRefusal {
  const variable = scope === 'system' ? 'DBUS_SYSTEM_BUS_ADDRESS' : 'DBUS_SESSION_BUS_ADDRESS';
  return new StartRefusal(
    `${BUS_NAME} is already owned on ${address} by PID ${pid ?? 'unknown'}: stop that service manager, or give this one a bus of its own (--bus-address, or --runtime-dir with no bus answering at $${variable})`,
  );
}

/** The bus, once it is known that nobody owns the name there; refused, touching nothing, when someone does. */
async function nameFree(bus: MessageBus, address: string, scope: 'system' | 'user'): Promise<MessageBus> {
  try {
    const pid = await ownerPid(bus, BUS_NAME);
    if (pid !== null) throw nameTaken(address, pid, scope);
  } catch (err) {
    bus.disconnect();
    throw err;
  }
  return bus;
}

interface AcquiredBus {
  bus: MessageBus;
  address: string;
  embedded: EmbeddedDaemon | null;
}

async function acquireBus(opts: Options, log: Logger): Promise<AcquiredBus> {
  if (opts.busAddress) return { bus: await nameFree(await connectBus(opts.busAddress), opts.busAddress, opts.scope), address: opts.busAddress, embedded: null };
  const address = defaultBusAddress(opts.scope);
  if (address) {
    let bus: MessageBus | null = null;
    try {
      bus = await connectBus(address, 2000);
    } catch (err) {
      log.info({ address, reason: (err as Error).message }, 'no bus answers there: starting an embedded dbus-daemon');
    }
    // a bus that answers is the one to serve on, or to be refused on; never a reason to start another
    if (bus) return { bus: await nameFree(bus, address, opts.scope), address, embedded: null };
  }
  const embedded = await startEmbeddedDaemon(opts.runtimeDir ?? defaultRuntimeDir(opts.scope), opts.scope === 'system' ? 'system' : 'session', log);
  try {
    return { bus: await connectBus(embedded.address), address: embedded.address, embedded };
  } catch (err) {
    await embedded.stop();
    throw err;
  }
}

export async function runDaemon(opts: Options, log: Logger): Promise<RunningDaemon> {
  // --system-manager: refused (throws) unless PID 1 or in a container; checked before anything starts
  if (opts.systemManager) requireSystemManagerGround();
  // before any process is started: the services, the embedded dbus-daemon
  const fds = stopFdInheritance();
  if (fds.marked.length > 0) log.info({ fds: fds.marked }, 'inherited descriptors marked close-on-exec: no service gets them');
  if (fds.left.length > 0) log.warn({ fds: fds.left }, 'inherited descriptors could not be marked close-on-exec: every service gets them');
  // The bus and the name come first: a unitd that is to be refused (another instance has the name,
  // or the runtime directory) must leave before it has created anything (its cgroups, its units).
  const acquired = await acquireBus(opts, log);
  try {
    return await serve(opts, log, acquired);
  } catch (err) {
    acquired.bus.disconnect();
    await acquired.embedded?.stop();
    throw err;
  }
}

/** Everything that comes once the bus is there: the units, the tracker, the object server, the name. */
async function serve(opts: Options, log: Logger, { bus, address, embedded }: AcquiredBus): Promise<RunningDaemon> {
  const searchPath = unitSearchPath({ scope: opts.scope, explicitDirs: opts.unitPath });
  const store = new UnitStore({ scope: opts.scope, searchPath });
  const tracker = createProcessTracker({ force: opts.tracker === 'auto' ? undefined : opts.tracker });
  log.info({ tracker: tracker.kind, controlGroup: tracker.rootPath }, 'process tracker');
  const manager = new Manager({
    scope: opts.scope,
    unitPath: searchPath,
    source: store,
    isValidUnitName: (n) => isValidUnitName(n, { plain: true, instance: true }),
    tracker,
    log,
  });
  manager.units.on('unit-new', (unit) => {
    for (const w of unit.config.warnings) log.warn({ unit: unit.id, file: w.file, line: w.line }, w.message);
  });
  manager.start();
  for (const unit of manager.units.units()) {
    for (const w of unit.config.warnings) log.warn({ unit: unit.id, file: w.file, line: w.line }, w.message);
  }
  if (embedded) manager.ownProcesses.set(embedded.pid, "the manager's bus daemon");
  bus.on('error', (err: Error) => log.error({ err }, 'bus connection error'));
  if (!useFastEncoder(bus)) log.warn('dbus-next internals not as expected: messages are marshalled by dbus-next');
  const systemd = new SystemdBus({ bus, manager, specs: loadInterfaceSpecs(), log, controlGroup: tracker.rootPath || ownControlGroup() });
  await systemd.start();

  let reply: number;
  try {
    reply = await bus.requestName(BUS_NAME, dbus.NameFlag.DO_NOT_QUEUE);
  } catch (err) {
    // the bus's policy keeps this uid from the name (a system bus, unitd not run as root)
    throw new StartRefusal(`the bus at ${address} does not let this unitd own ${BUS_NAME}: ${(err as Error).message}`);
  }
  // taken since acquireBus looked: another instance won the race
  if (reply !== dbus.RequestNameReply.PRIMARY_OWNER && reply !== dbus.RequestNameReply.ALREADY_OWNER) throw nameTaken(address, await ownerPid(bus, BUS_NAME), opts.scope);
  // --system-manager: /run/systemd/system appears only once clients can be served
  const systemManager = opts.systemManager ? becomeSystemManager() : null;
  if (systemManager) log.info({ ground: systemManager.ground, created: systemManager.created }, 'acting as the system manager');
  log.info({ busAddress: address, embedded: embedded !== null, scope: opts.scope, units: manager.units.units().length, unitPath: searchPath }, 'ready');

  return {
    busAddress: address,
    manager,
    stop: async () => {
      await manager.shutdown();
      try {
        await bus.releaseName(BUS_NAME);
      } catch {
        // the bus may already be gone
      }
      bus.disconnect();
      await embedded?.stop();
      systemManager?.release();
    },
  };
}
