// The embedded default (what `npm start` runs): no bus answers, so unitd starts its own
// dbus-daemon, claims the name there, prints how to reach it, and takes the daemon down on exit.
// One unitd per runtime directory and per bus: a second one is refused with one plain line that
// names the first, and nothing of the first changes (issue 13, item 7).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { busctl, run, type Result } from '../helpers/clients.js';
import { eventually } from '../helpers/bus-client.js';
import { isAlive, killPids } from '../helpers/signal-lab.js';
import { REPO_ROOT, UNITD_MAIN, startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';

const runtimeDir = mkdtempSync(join(tmpdir(), 'unitd-embedded-'));
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));

describe('embedded bus', () => {
  it('starts its own dbus-daemon, prints the export line, serves on it, and cleans up on SIGTERM', async () => {
    const unitd = await startUnitd(['--unit-path', `${REPO_ROOT}units`, '--runtime-dir', runtimeDir], {
      DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${runtimeDir}/no-such-socket`,
    });
    // stopped even when an expectation fails (stop() is a no-op once it has exited)
    onTestFinished(async () => {
      await unitd.stop();
    });
    const socket = join(runtimeDir, 'bus', 'system_bus_socket');
    expect(unitd.busAddress).toBe(`unix:path=${socket}`);
    expect(unitd.logs.find((l) => l.msg === 'ready')?.embedded).toBe(true);
    const line = await eventually(() => unitd.stderr.find((l) => l.includes('export DBUS_SYSTEM_BUS_ADDRESS=')), 5000, 'export line');
    expect(line.trim()).toBe(`export DBUS_SYSTEM_BUS_ADDRESS=unix:path=${socket}`);
    const r = await busctl(unitd.busAddress, ['get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'SystemState']);
    expect(r.stdout.trim()).toBe('s "running"');
    expect(existsSync(socket)).toBe(true);
    expect(await unitd.stop('SIGTERM')).toBe(0);
    expect(existsSync(socket)).toBe(false);
    const after = await busctl(`unix:path=${socket}`, ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetId']);
    expect(after.code).not.toBe(0);
  });

  it('uses a bus that answers instead of starting one', async () => {
    const { startPrivateBus } = await import('../helpers/private-bus.js');
    const bus = await startPrivateBus();
    try {
      const unitd = await startUnitd(['--unit-path', `${REPO_ROOT}units`, '--runtime-dir', runtimeDir], { DBUS_SYSTEM_BUS_ADDRESS: bus.address });
      onTestFinished(async () => {
        await unitd.stop();
      });
      expect(unitd.busAddress).toBe(bus.address);
      expect(unitd.logs.find((l) => l.msg === 'ready')?.embedded).toBe(false);
      expect(await unitd.stop('SIGINT')).toBe(0);
    } finally {
      await bus.stop();
    }
  });
});

// ---- one unitd per runtime directory, one per bus ------------------------------------------------

const UNIT = 'guard.service';
const UNIT_PATH = '/org/freedesktop/systemd1/unit/guard_2eservice';
const unitDir = mkdtempSync(join(tmpdir(), 'unitd-guard-units-'));
writeFileSync(join(unitDir, UNIT), '[Service]\nExecStart=/bin/sleep 1000\n');
afterAll(() => rmSync(unitDir, { recursive: true, force: true }));

/** a runtime directory of its own for each test, removed after it */
function freshRuntimeDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'unitd-guard-rt-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An address where no bus answers: the embedded default is taken. */
const noBus = (dir: string): NodeJS.ProcessEnv => ({ DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${dir}/no-such-socket` });

/** unitd run to its end (a refused one exits at once; 20 s is far beyond that) */
const runUnitd = (args: string[], env: NodeJS.ProcessEnv): Promise<Result> => run(process.execPath, [UNITD_MAIN, ...args], env, 20_000);

/** every file under dir with what would show a change: inode, type and mode, owner, size, times */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = lstatSync(path);
      out[path] = `${st.ino} ${st.mode.toString(8)} ${st.uid} ${st.size} ${st.mtimeMs} ${st.ctimeMs}`;
      if (st.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out;
}

const busDriver = (address: string, member: string, args: string[] = []): Promise<Result> =>
  busctl(address, ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', member, ...args]);
const prop = async (address: string, iface: string, name: string): Promise<string> =>
  (await busctl(address, ['get-property', 'org.freedesktop.systemd1', UNIT_PATH, iface, name])).stdout.trim();

/** A first unitd on the embedded bus in `dir`, with guard.service running; stopped after the test. */
async function firstWithRunningUnit(dir: string): Promise<{ unitd: UnitdProcess; mainPid: number }> {
  const unitd = await startUnitd(['--unit-path', unitDir, '--runtime-dir', dir], noBus(dir));
  let mainPid = 0;
  onTestFinished(async () => {
    await unitd.stop();
    // a unit left behind by a unitd the test SIGKILLed: ended by its PID
    if (mainPid > 0 && isAlive(mainPid)) killPids([mainPid]);
  });
  const r = await busctl(unitd.busAddress, ['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'StartUnit', 'ss', UNIT, 'replace']);
  expect(r.code, r.stderr).toBe(0);
  const deadline = Date.now() + 10_000;
  while ((await prop(unitd.busAddress, 'org.freedesktop.systemd1.Unit', 'ActiveState')) !== 's "active"') {
    if (Date.now() > deadline) throw new Error(`${UNIT} did not become active`);
    await new Promise((res) => setTimeout(res, 50));
  }
  mainPid = Number((await prop(unitd.busAddress, 'org.freedesktop.systemd1.Service', 'MainPID')).split(' ')[1]);
  expect(mainPid).toBeGreaterThan(0);
  return { unitd, mainPid };
}

/** What a second instance must leave as it was: the files, the bus daemon, the name's owner, the unit. */
async function firstState(dir: string, address: string): Promise<unknown> {
  return {
    files: snapshot(dir),
    busId: (await busDriver(address, 'GetId')).stdout.trim(),
    nameOwnerPid: (await busDriver(address, 'GetConnectionUnixProcessID', ['s', 'org.freedesktop.systemd1'])).stdout.trim(),
    activeState: await prop(address, 'org.freedesktop.systemd1.Unit', 'ActiveState'),
    mainPid: await prop(address, 'org.freedesktop.systemd1.Service', 'MainPID'),
  };
}

/** A refusal: exit status 1, and stderr is exactly one plain line (no stack, no JSON). */
function refusalLine(r: Result): string {
  expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(1);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^unitd: /);
  return lines[0]!;
}

describe('a second unitd', () => {
  it('with the same runtime directory is refused, names the first, and changes nothing of it', { timeout: 60_000 }, async () => {
    const dir = freshRuntimeDir();
    const { unitd: first } = await firstWithRunningUnit(dir);
    const socket = join(dir, 'bus', 'system_bus_socket');
    const before = await firstState(dir, first.busAddress);

    // no bus answers at its DBUS_SYSTEM_BUS_ADDRESS: it would start an embedded bus of its own
    const second = await runUnitd(['--unit-path', unitDir, '--runtime-dir', dir], noBus(dir));
    const line = refusalLine(second);
    expect(line).toContain(`PID ${first.pid}`);
    expect(line).toContain('--runtime-dir');

    // the second has exited: the first's socket, bus, name, unit and files are all as they were
    expect(existsSync(socket)).toBe(true);
    expect(await firstState(dir, first.busAddress)).toEqual(before);
    expect(first.child.exitCode).toBeNull();
    expect(await first.stop()).toBe(0);
  });

  it("on the first one's bus (found through the environment, or given) is refused, names the first, and changes nothing", { timeout: 60_000 }, async () => {
    const dir = freshRuntimeDir();
    const { unitd: first } = await firstWithRunningUnit(dir);
    const before = await firstState(dir, first.busAddress);
    // a runtime directory of its own: only the name can stop it
    const otherDir = join(freshRuntimeDir(), 'rt');

    for (const [args, env] of [
      [['--unit-path', unitDir, '--runtime-dir', otherDir], { DBUS_SYSTEM_BUS_ADDRESS: first.busAddress }],
      [['--unit-path', unitDir, '--runtime-dir', otherDir, '--bus-address', first.busAddress], noBus(dir)],
    ] as const) {
      const second = await runUnitd([...args], env);
      const line = refusalLine(second);
      expect(line).toContain('org.freedesktop.systemd1 is already owned');
      expect(line).toContain(`PID ${first.pid}`);
      expect(line).toContain('--bus-address');
      expect(await firstState(dir, first.busAddress)).toEqual(before);
      // refused before it made anything of its own
      expect(existsSync(otherDir)).toBe(false);
    }
    expect(await first.stop()).toBe(0);
  });

  it('replaces the socket and the lock of a unitd that was SIGKILLed with its bus, though its unit lives on', { timeout: 60_000 }, async () => {
    const dir = freshRuntimeDir();
    const { unitd: first, mainPid } = await firstWithRunningUnit(dir);
    const socket = join(dir, 'bus', 'system_bus_socket');
    const daemonPid = Number((await busDriver(first.busAddress, 'GetConnectionUnixProcessID', ['s', 'org.freedesktop.DBus'])).stdout.trim().split(' ')[1]);
    expect(daemonPid).toBeGreaterThan(0);
    // the bus first, so that it cannot remove its socket on its way out: a stale socket file stays
    killPids([daemonPid]);
    await eventually(() => !isAlive(daemonPid), 5000, 'the bus daemon gone');
    first.child.kill('SIGKILL');
    await eventually(() => first.child.exitCode !== null || first.child.signalCode !== null, 5000, 'the first unitd gone');
    expect(existsSync(socket)).toBe(true);
    expect(readFileSync(join(dir, 'unitd.lock'), 'utf8').trim()).toBe(String(first.pid));
    // the unit's process outlived its manager: it holds nothing of the runtime directory
    expect(isAlive(mainPid)).toBe(true);

    const next = await startUnitd(['--unit-path', unitDir, '--runtime-dir', dir], noBus(dir));
    onTestFinished(async () => {
      await next.stop();
    });
    expect(next.busAddress).toBe(`unix:path=${socket}`);
    expect(next.logs.find((l) => l.msg === 'stale bus socket removed: nothing listened on it')?.socket).toBe(socket);
    expect(readFileSync(join(dir, 'unitd.lock'), 'utf8').trim()).toBe(String(next.pid));
    const r = await busDriver(next.busAddress, 'GetConnectionUnixProcessID', ['s', 'org.freedesktop.systemd1']);
    expect(r.stdout.trim()).toBe(`u ${next.pid}`);
    expect(await next.stop()).toBe(0);
  });

  it('never removes a socket that answers, even with no unitd holding the runtime directory', { timeout: 60_000 }, async () => {
    const dir = freshRuntimeDir();
    const socket = join(dir, 'bus', 'system_bus_socket');
    mkdirSync(join(dir, 'bus'));
    // some other bus daemon listening where unitd would put its own
    const other = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', `--address=unix:path=${socket}`, '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    onTestFinished(() => killPids([other.pid!]));
    await new Promise<void>((resolve, reject) => {
      other.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}`)));
      createInterface({ input: other.stdout! }).once('line', () => resolve());
    });
    const address = `unix:path=${socket}`;
    const busId = (await busDriver(address, 'GetId')).stdout.trim();
    const inode = lstatSync(socket).ino;

    const line = refusalLine(await runUnitd(['--unit-path', unitDir, '--runtime-dir', dir], noBus(dir)));
    expect(line).toContain(`a bus already answers at ${address} (PID ${other.pid})`);
    expect(line).toContain('--runtime-dir');
    expect(lstatSync(socket).ino).toBe(inode);
    expect((await busDriver(address, 'GetId')).stdout.trim()).toBe(busId);
  });
});

describe('a unitd the bus keeps from the name', () => {
  it('is refused with one plain line that quotes the bus', { timeout: 60_000 }, async () => {
    // Debian's own system bus configuration: only root may own org.freedesktop.systemd1
    const dir = freshRuntimeDir();
    chmodSync(dir, 0o755);
    const socket = join(dir, 'system_bus_socket');
    const bus = spawn('dbus-daemon', ['--config-file=/usr/share/dbus-1/system.conf', '--nofork', '--nopidfile', `--address=unix:path=${socket}`, '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    onTestFinished(() => killPids([bus.pid!]));
    await new Promise<void>((resolve, reject) => {
      bus.once('exit', (code) => reject(new Error(`dbus-daemon exited ${code}`)));
      createInterface({ input: bus.stdout! }).once('line', () => resolve());
    });
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, UNITD_MAIN, '--unit-path', unitDir, '--bus-address', `unix:path=${socket}`], {}, 20_000);
    const line = refusalLine(r);
    expect(line).toMatch(/^unitd: the bus at unix:path=\S+ does not let this unitd own org\.freedesktop\.systemd1: Connection ":[\d.]+" is not allowed to own the service "org\.freedesktop\.systemd1"/);
  });
});
