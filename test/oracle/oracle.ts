// The oracle: a real `systemd --user` 252 run in a private mount namespace, with the real
// `systemctl --user` / `busctl --user` run inside that same namespace against it.
//
//   const o = await startOracle({ unitDirs: ['/abs/path/to/units'] });
//   const { code, stdout } = await o.systemctl(['show', '-p', 'KillMode', 'foo.service']);
//   await o.stop();
//
// Layout (everything lives under one temp dir and one cgroup this module creates):
//   * A holder process `unshare -m --propagation private sh holder.sh` is the namespace anchor.
//     It mounts a tmpfs on /run/systemd and creates /run/systemd/system (inside the namespace
//     only), starts `/lib/systemd/systemd --user`, then `exec sleep infinity`. Every command is
//     run with `nsenter -t <holder pid> -m`, so it sees the same mounts as the manager.
//   * The holder is moved into a fresh cgroup `<cgroup2 mount>/unitd-oracle-<rand>` first; the
//     manager makes its own init.scope / app.slice below it. stop() SIGKILLs the manager by PID,
//     then writes cgroup.kill on that cgroup (falls back to SIGKILL per PID from cgroup.procs),
//     removes the cgroups (cgroup2 and the v1 name=systemd mirror) and the temp dir.
//   * Units are found through $SYSTEMD_UNIT_PATH, which the user manager honours (v252
//     src/basic/path-lookup.c:lookup_paths_init; without a trailing ':' the list is exclusive).
//     The search path is <tmp>/private-units, then opts.unitDirs in order. private-units holds
//     the default unit `unitd-oracle-idle.target` (the manager is started with
//     --unit=unitd-oracle-idle.target, so nothing is started at boot) and, unless bus=false,
//     minimal basic.target / shutdown.target (services' default dependencies) and a dbus.socket +
//     dbus.service pair: the manager only exposes its API on the user bus once *its own*
//     dbus.socket and dbus.service units run (manager.c:manager_dbus_is_running), so an external
//     dbus-daemon would leave busctl without an org.freedesktop.systemd1 on the bus.
//     systemctl --user does not need the bus at all (it dials $XDG_RUNTIME_DIR/systemd/private).
//   * HOME and XDG_RUNTIME_DIR are temp dirs: %h = <tmp>/home, %t = <tmp>/xdg (system manager:
//     /root and /run). %u/%U/%g/%G are those of root, as for the system manager.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
  chmodSync,
  accessSync,
  constants as fsConstants,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const SYSTEMD_BINARY = '/lib/systemd/systemd';
export const IDLE_TARGET = 'unitd-oracle-idle.target';
const JOURNAL_SINK = fileURLToPath(new URL('./journal-sink.py', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** milliseconds before the command is SIGKILLed (code becomes 124); default 30 000 */
  timeoutMs?: number;
  /** extra environment for the command */
  env?: Record<string, string>;
  /** data written to stdin */
  input?: string;
}

export interface OracleOptions {
  /** absolute directories searched for unit files, after the oracle's private dir */
  unitDirs: string[];
  /**
   * Start a user bus (dbus.socket/dbus.service run by the manager) so busctl/gdbus work.
   * Default true. With false the private dir holds only the idle target, so the search path is
   * exactly unitDirs (use this to load foreign unit sets such as /lib/systemd/system without
   * shadowing their dbus.service, basic.target, ...).
   */
  bus?: boolean;
  /** manager log level (default "info"); the log goes to `<tmpDir>/systemd.log` */
  logLevel?: string;
  /** milliseconds to wait for the manager (and bus) to come up; default 20 000 */
  startTimeoutMs?: number;
  /**
   * Let every user connect to the manager's bus (Debian's session.conf plus `<allow user="*"/>`,
   * the socket's directories opened to all), so a caller of another uid reaches the manager as
   * it reaches the system manager: how systemd judges unprivileged callers can then be observed.
   */
  busForAllUsers?: boolean;
}

export interface Oracle {
  /** `systemctl --user --no-pager ARGS` inside the namespace */
  systemctl(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** `busctl --user ARGS` inside the namespace */
  busctl(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** any command inside the namespace, with the oracle's environment */
  exec(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** environment the commands get (XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS, ...) */
  readonly env: Record<string, string>;
  /** temp dir holding home/, xdg/, private-units/, systemd.log */
  readonly tmpDir: string;
  /** %t of the manager */
  readonly runtimeDir: string;
  /** %h of the manager */
  readonly homeDir: string;
  /** the $SYSTEMD_UNIT_PATH the manager got */
  readonly unitPath: string[];
  /** the namespace holder (target of nsenter) */
  readonly holderPid: number;
  /** PID of `systemd --user` */
  readonly managerPid: number;
  /** absolute cgroup2 directory everything runs under */
  readonly cgroupDir: string;
  /** kill everything, remove cgroups and temp dirs; idempotent */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// availability

let availableCache: boolean | undefined;
let unavailableReason = '';

function which(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      accessSync(join(dir, cmd), fsConstants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** true if the real systemd 252 oracle can run here: root, systemd binary, unshare, cgroup2 */
export function oracleAvailable(): boolean {
  if (availableCache !== undefined) return availableCache;
  availableCache = false;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) unavailableReason = 'not root';
  else if (!existsSync(SYSTEMD_BINARY)) unavailableReason = `${SYSTEMD_BINARY} missing`;
  else if (!['systemctl', 'busctl', 'unshare', 'nsenter', 'dbus-daemon'].every(which))
    unavailableReason = 'systemctl/busctl/unshare/nsenter/dbus-daemon missing';
  else if (!existsSync('/run/systemd')) unavailableReason = '/run/systemd missing (mount point)';
  else if (cgroup2Mount() === undefined) unavailableReason = 'no cgroup2 mount';
  else if (spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' }).status !== 0)
    unavailableReason = 'unshare -m fails';
  else availableCache = true;
  return availableCache;
}

/** why oracleAvailable() is false ('' if it is true) */
export function oracleUnavailableReason(): string {
  oracleAvailable();
  return unavailableReason;
}

// ---------------------------------------------------------------------------------------------
// cgroups

interface Mount {
  mountPoint: string;
  fsType: string;
  superOptions: string;
}

function mounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue;
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const g = post.split(' ');
    out.push({ mountPoint: f[4]!.replace(/\\040/g, ' '), fsType: g[0]!, superOptions: g[2] ?? '' });
  }
  return out;
}

function cgroup2Mount(): string | undefined {
  return mounts().find((m) => m.fsType === 'cgroup2')?.mountPoint;
}

function namedSystemdMount(): string | undefined {
  return mounts().find((m) => m.fsType === 'cgroup' && m.superOptions.split(',').includes('name=systemd'))
    ?.mountPoint;
}

function ownCgroup2Path(): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : '/';
}

function listCgroupDirs(dir: string): string[] {
  // depth-first, children before parents
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: string[] = [];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(d, e));
    out.push(d);
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  for (const d of listCgroupDirs(dir)) {
    try {
      for (const l of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.push(Number(l));
    } catch {
      /* gone */
    }
  }
  return pids;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function killCgroup(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let round = 0; round < 100; round++) {
    const pids = cgroupPids(dir);
    if (pids.length === 0) break;
    let viaKillFile = false;
    try {
      writeFileSync(join(dir, 'cgroup.kill'), '1');
      viaKillFile = true;
    } catch {
      /* kernel < 5.14 */
    }
    if (!viaKillFile) {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    await sleep(50);
  }
}

async function removeCgroupTree(dir: string | undefined): Promise<void> {
  if (!dir || !existsSync(dir)) return;
  for (let attempt = 0; attempt < 40; attempt++) {
    let left = 0;
    for (const d of listCgroupDirs(dir)) {
      try {
        rmdirSync(d);
      } catch {
        left++;
      }
    }
    if (left === 0 || !existsSync(dir)) return;
    await sleep(50);
  }
}

// ---------------------------------------------------------------------------------------------
// private units

const PRIVATE_IDLE = `[Unit]
Description=unitd oracle idle target (default unit, starts nothing)
DefaultDependencies=no
`;

const PRIVATE_BUS_UNITS: Record<string, string> = {
  'basic.target': `[Unit]
Description=Basic System (unitd oracle stub)
DefaultDependencies=no
`,
  'shutdown.target': `[Unit]
Description=Shutdown (unitd oracle stub)
DefaultDependencies=no
RefuseManualStart=yes
`,
  'dbus.socket': `[Unit]
Description=D-Bus User Message Bus Socket (unitd oracle)
DefaultDependencies=no

[Socket]
ListenStream=%t/bus
`,
  'dbus.service': `[Unit]
Description=D-Bus User Message Bus (unitd oracle)
DefaultDependencies=no
Requires=dbus.socket
After=dbus.socket

[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/bin/dbus-daemon --session --address=systemd: --nofork --nopidfile --systemd-activation --nosyslog
`,
};

// ---------------------------------------------------------------------------------------------
// commands

function run(argv: string[], env: Record<string, string>, opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : (code ?? (signal ? 128 : 1)), stdout, stderr });
    });
    // a command that exits before reading its stdin must not turn into an unhandled EPIPE
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

function waitFile(path: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    while (Date.now() < deadline) {
      if (existsSync(path)) return true;
      await sleep(25);
    }
    return false;
  })();
}

// ---------------------------------------------------------------------------------------------

export async function startOracle(opts: OracleOptions): Promise<Oracle> {
  if (!oracleAvailable()) throw new Error(`systemd oracle unavailable: ${unavailableReason}`);
  const withBus = opts.bus ?? true;
  for (const d of opts.unitDirs) {
    if (!d.startsWith('/')) throw new Error(`unitDirs must be absolute: ${d}`);
    if (!statSync(d).isDirectory()) throw new Error(`not a directory: ${d}`);
  }

  const tmpDir = mkdtempSync('/tmp/unitd-oracle-');
  const homeDir = join(tmpDir, 'home');
  const runtimeDir = join(tmpDir, 'xdg');
  const privateUnits = join(tmpDir, 'private-units');
  mkdirSync(homeDir);
  mkdirSync(runtimeDir);
  chmodSync(runtimeDir, 0o700);
  mkdirSync(privateUnits);
  writeFileSync(join(privateUnits, IDLE_TARGET), PRIVATE_IDLE);
  if (withBus) for (const [n, text] of Object.entries(PRIVATE_BUS_UNITS)) writeFileSync(join(privateUnits, n), text);
  if (withBus && opts.busForAllUsers) {
    const config = join(tmpDir, 'bus-all-users.conf');
    writeFileSync(config, '<busconfig><include>/usr/share/dbus-1/session.conf</include><policy context="default"><allow user="*"/></policy></busconfig>\n');
    writeFileSync(join(privateUnits, 'dbus.service'), PRIVATE_BUS_UNITS['dbus.service']!.replace('--session', `--config-file=${config}`));
    chmodSync(tmpDir, 0o755);
    chmodSync(runtimeDir, 0o755);
  }
  const unitPath = [privateUnits, ...opts.unitDirs];

  const cg2 = cgroup2Mount()!;
  const cgName = `unitd-oracle-${randomBytes(4).toString('hex')}`;
  const parent = join(cg2, ownCgroup2Path());
  const cgroupDir = join(parent, cgName);
  mkdirSync(cgroupDir);
  const v1 = namedSystemdMount();
  const v1Dir = v1 ? join(v1, ownCgroup2Path(), cgName) : undefined;

  const env: Record<string, string> = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: homeDir,
    USER: 'root',
    LOGNAME: 'root',
    XDG_RUNTIME_DIR: runtimeDir,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${runtimeDir}/bus`,
    SYSTEMD_PAGER: 'cat',
    PAGER: 'cat',
    SYSTEMD_OFFLINE: '0',
    SYSTEMD_COLORS: '0',
    LC_ALL: 'C',
    LANG: 'C',
    COLUMNS: '200',
    TERM: 'dumb',
  };

  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const holderScript = join(tmpDir, 'holder.sh');
  writeFileSync(
    holderScript,
    [
      'set -e',
      'mount -t tmpfs -o mode=755 tmpfs /run/systemd',
      'mkdir -p /run/systemd/system',
      // a user manager's console log needs /dev/console to be a tty and its kmsg log is rate
      // limited, so it logs to a journal stand-in on the (private) journal socket
      `/usr/bin/python3 ${q(JOURNAL_SINK)} /run/systemd/journal/socket ${q(join(tmpDir, 'systemd.log'))} </dev/null >/dev/null 2>&1 &`,
      'i=0; while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done',
      `export SYSTEMD_UNIT_PATH=${q(unitPath.join(':'))}`,
      `${SYSTEMD_BINARY} --user --unit=${IDLE_TARGET} --log-level=${opts.logLevel ?? 'info'} --log-target=journal ` +
        `--log-color=no >>${q(join(tmpDir, 'systemd.log'))} 2>&1 </dev/null &`,
      `echo $! >${q(join(tmpDir, 'systemd.pid'))}.tmp`,
      `mv ${q(join(tmpDir, 'systemd.pid'))}.tmp ${q(join(tmpDir, 'systemd.pid'))}`,
      'exec sleep infinity',
      '',
    ].join('\n'),
  );

  // `sh` joins the new cgroup, then becomes `unshare`, which becomes `sh holder.sh`: one PID.
  const holder = spawn(
    'sh',
    ['-c', `echo $$ > ${q(join(cgroupDir, 'cgroup.procs'))} && exec unshare -m --propagation private sh ${q(holderScript)}`],
    { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let holderErr = '';
  holder.stderr!.setEncoding('utf8').on('data', (d: string) => (holderErr += d));
  holder.unref();
  (holder.stderr as unknown as { unref?: () => void }).unref?.();
  const holderPid = holder.pid!;

  let stopped = false;
  let managerPid = 0;
  // last resort if the test process exits without stop(): kill the cgroup synchronously
  const onExit = (): void => {
    try {
      if (managerPid) process.kill(managerPid, 'SIGKILL');
      writeFileSync(join(cgroupDir, 'cgroup.kill'), '1');
    } catch {
      /* best effort */
    }
    rmSync(tmpDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    if (!managerPid && existsSync(join(tmpDir, 'systemd.pid')))
      managerPid = Number(readFileSync(join(tmpDir, 'systemd.pid'), 'utf8').trim()) || 0;
    if (managerPid) {
      try {
        process.kill(managerPid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await killCgroup(cgroupDir);
    try {
      process.kill(holderPid, 'SIGKILL');
    } catch {
      /* gone (it was in the cgroup) */
    }
    await removeCgroupTree(cgroupDir);
    await removeCgroupTree(v1Dir);
    rmSync(tmpDir, { recursive: true, force: true });
  };

  const execIn = (argv: string[], o: RunOptions = {}): Promise<RunResult> => {
    if (stopped) return Promise.reject(new Error('oracle stopped'));
    return run(['nsenter', '-t', String(holderPid), '-m', '--', ...argv], { ...env, ...(o.env ?? {}) }, o);
  };

  const oracle: Oracle = {
    systemctl: (args, o) => execIn(['systemctl', '--user', '--no-pager', ...args], o),
    busctl: (args, o) => execIn(['busctl', '--user', ...args], o),
    exec: execIn,
    env,
    tmpDir,
    runtimeDir,
    homeDir,
    unitPath,
    holderPid,
    get managerPid() {
      return managerPid;
    },
    cgroupDir,
    stop,
  };

  try {
    const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
    if (!(await waitFile(join(tmpDir, 'systemd.pid'), opts.startTimeoutMs ?? 20_000)))
      throw new Error(`namespace holder did not start: ${holderErr}`);
    managerPid = Number(readFileSync(join(tmpDir, 'systemd.pid'), 'utf8').trim());
    if (!(await waitFile(join(runtimeDir, 'systemd', 'private'), Math.max(0, deadline - Date.now()))))
      throw new Error('systemd --user did not create its private socket');
    // ready = the manager answers and has finished starting up
    for (;;) {
      const r = await execIn(['systemctl', '--user', 'is-system-running'], { timeoutMs: 5000 });
      const state = r.stdout.trim();
      if (['running', 'degraded'].includes(state)) break;
      if (Date.now() > deadline) throw new Error(`systemd --user not ready: ${state} ${r.stderr}`);
      await sleep(50);
    }
    if (withBus) {
      // make sure the manager owns org.freedesktop.systemd1 on the user bus
      const r0 = await execIn(['systemctl', '--user', 'start', 'dbus.service'], { timeoutMs: 15_000 });
      if (r0.code !== 0) throw new Error(`starting dbus.service failed: ${r0.stderr}`);
      for (;;) {
        const r = await execIn(
          ['busctl', '--user', 'get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1',
            'org.freedesktop.systemd1.Manager', 'Version'],
          { timeoutMs: 5000 },
        );
        if (r.code === 0) break;
        if (Date.now() > deadline) throw new Error(`systemd --user not on the bus: ${r.stderr}`);
        await sleep(100);
      }
    }
  } catch (e) {
    let log = '';
    try {
      log = readFileSync(join(tmpDir, 'systemd.log'), 'utf8');
    } catch {
      /* none */
    }
    await stop();
    throw new Error(`${(e as Error).message}\n--- systemd.log ---\n${log}`);
  }
  return oracle;
}

/** instance used for template units when a concrete name is needed */
export const TEMPLATE_INSTANCE = 'hello';

/**
 * Unit names to exercise for a directory of unit files: every regular unit file, and each
 * template `foo@.service` as `foo@hello.service` (TEMPLATE_INSTANCE). Drop-in dirs are skipped.
 */
export function exampleUnitNames(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.(service|socket|target|timer|path|mount|slice|scope)$/.test(e.name))
    .map((e) => (e.name.includes('@.') ? e.name.replace('@.', `@${TEMPLATE_INSTANCE}.`) : e.name))
    .sort();
}
