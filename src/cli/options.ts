// unitd's command line: unitd [--system | --user] [--bus-address ADDR] [--unit-path DIR]...
//                              [--runtime-dir DIR] [--log-level LEVEL] [--tracker KIND]
//                              [--system-manager]
import type { Level } from 'pino';

export interface Options {
  scope: 'system' | 'user';
  busAddress: string | null;
  unitPath: string[];
  runtimeDir: string | null;
  logLevel: Level | 'silent';
  /** process tracker: auto (cgroup v2 where writable, else /proc), cgroup2, or proc */
  tracker: 'auto' | 'cgroup2' | 'proc';
  /** unitd is this system's service manager: creates /run/systemd/system (PID 1 or containers only) */
  systemManager: boolean;
  help: boolean;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const USAGE = `Usage: unitd [--system | --user] [--bus-address ADDR] [--unit-path DIR]...
             [--runtime-dir DIR] [--log-level LEVEL] [--tracker KIND] [--system-manager]

  --system            serve on the system bus (default): $DBUS_SYSTEM_BUS_ADDRESS or
                      unix:path=/run/dbus/system_bus_socket
  --user              serve on the session bus ($DBUS_SESSION_BUS_ADDRESS), for systemctl --user
  --bus-address ADDR  serve on this bus; no embedded bus is started
  --unit-path DIR     search DIR for unit files (repeatable; replaces the default search path
                      and $SYSTEMD_UNIT_PATH)
  --runtime-dir DIR   runtime state, incl. the embedded bus socket (default /run/unitd, or
                      $XDG_RUNTIME_DIR/unitd with --user); one unitd per directory
  --log-level LEVEL   fatal, error, warn, info (default), debug, trace or silent
  --tracker KIND      how unit processes are tracked: auto (default: cgroup v2 where writable,
                      else /proc), cgroup2, or proc ($UNITD_TRACKER sets the default)
  --system-manager    unitd is this system's service manager (a container's PID 1): creates
                      /run/systemd/system so the plain systemctl talks to it. Refused unless
                      unitd is PID 1 or $container is set; not with --user

When no --bus-address is given and that bus does not answer, unitd starts its own dbus-daemon
and prints the export line that points clients at it.`;

export class UsageError extends Error {}

export function parseOptions(argv: string[]): Options {
  const opts: Options = { scope: 'system', busAddress: null, unitPath: [], runtimeDir: null, logLevel: 'info', tracker: 'auto', systemManager: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--system':
        opts.scope = 'system';
        break;
      case '--user':
        opts.scope = 'user';
        break;
      case '--bus-address':
        opts.busAddress = value();
        break;
      case '--unit-path':
        opts.unitPath.push(value());
        break;
      case '--runtime-dir':
        opts.runtimeDir = value();
        break;
      case '--log-level': {
        const level = value();
        if (!LEVELS.includes(level)) throw new UsageError(`unknown log level ${level}`);
        opts.logLevel = level as Level | 'silent';
        break;
      }
      case '--tracker': {
        const kind = value();
        if (kind !== 'auto' && kind !== 'cgroup2' && kind !== 'proc') throw new UsageError(`unknown tracker ${kind}`);
        opts.tracker = kind;
        break;
      }
      case '--system-manager':
        opts.systemManager = true;
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      default:
        throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (opts.systemManager && opts.scope !== 'system') throw new UsageError('--system-manager cannot be combined with --user');
  return opts;
}
