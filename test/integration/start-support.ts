// Shared pieces of the start-*.test.ts files (issue 3): a unit directory used by both unitd and
// the oracle (real systemd 252 --user), the real clients against each, running a scenario on both
// and comparing, a dbus-next client that
// records every message it receives in order (signals and method replies), and /proc + cgroup
// scans for zombies and leftover cgroups.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbus from 'dbus-next';
import { expect } from 'vitest';
import { busctl, systemctl, type Result } from '../helpers/clients.js';
import { startPrivateBus, type PrivateBus } from '../helpers/private-bus.js';
import { startUnitd, type UnitdProcess } from '../helpers/unitd-process.js';
import { oracleAvailable, oracleUnavailableReason, startOracle, type Oracle } from '../oracle/oracle.js';

export const DEST = 'org.freedesktop.systemd1';
export const MANAGER_PATH = '/org/freedesktop/systemd1';
export const MANAGER_IFACE = 'org.freedesktop.systemd1.Manager';
export const MANAGER = [MANAGER_PATH, MANAGER_IFACE];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A temp dir holding the given unit files (name → text). */
export function unitDir(units: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'unitd-start-units-'));
  for (const [name, text] of Object.entries(units)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Polls until fn returns a value that is not undefined/false, or throws with `what`. */
export async function waitUntil<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000, everyMs = 25): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last !== undefined && last !== false) return last as Exclude<T, false | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

/** `systemctl show -p A,B unit` output as a record. */
export function parseShow(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** The pieces of a client answer that may be compared between unitd and the oracle (--user removed). */
export function userless(text: string): string {
  return text.replaceAll('systemctl --user ', 'systemctl ').replaceAll('journalctl --user ', 'journalctl ');
}

/** One side of a comparison: unitd on a private bus, or the oracle. Same calls for both. */
export interface Side {
  name: 'unitd' | 'systemd';
  systemctl(args: string[]): Promise<Result>;
  busctl(args: string[]): Promise<Result>;
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  /** bus address a dbus-next client can use from the test process */
  address: string;
  /** PID of the manager (unitd, or systemd --user) */
  managerPid: number;
  stop(): Promise<void>;
}

export interface UnitdSide extends Side {
  unitd: UnitdProcess;
  bus: PrivateBus;
}

/** one scenario's results: unitd's, and the oracle's (null when it cannot run here) */
export type Both<T> = { unitd: T; systemd: T | null };

/** Runs the same scenario on unitd and the oracle: in parallel, or one after the other when it touches shared files. */
export async function onBothSides<T>(u: Side, o: Side | null, fn: (s: Side) => Promise<T>, sequential = false): Promise<Both<T>> {
  if (sequential) {
    const a = await fn(u);
    return { unitd: a, systemd: o ? await fn(o) : null };
  }
  const [a, b] = await Promise.all([fn(u), o ? fn(o) : Promise.resolve(null)]);
  return { unitd: a, systemd: b };
}

/** unitd's result equals systemd's, where the oracle ran */
export function expectSame<T>(r: Both<T>): void {
  if (r.systemd !== null) expect(r.unitd).toEqual(r.systemd);
}

export async function startUnitdSide(dir: string, extraArgs: string[] = []): Promise<UnitdSide> {
  const bus = await startPrivateBus();
  let unitd: UnitdProcess;
  try {
    unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', dir, '--log-level', 'debug', ...extraArgs]);
  } catch (err) {
    await bus.stop();
    throw err;
  }
  const side: UnitdSide = {
    name: 'unitd',
    unitd,
    bus,
    address: bus.address,
    managerPid: unitd.pid,
    systemctl: (args) => systemctl(bus.address, args),
    busctl: (args) => busctl(bus.address, args),
    show: async (unit, props) => parseShow((await systemctl(bus.address, ['show', '-p', props.join(','), unit])).stdout),
    stop: async () => {
      await unitd.stop();
      await bus.stop();
    },
  };
  return side;
}

export async function startOracleSide(dir: string): Promise<Side | null> {
  if (!oracleAvailable()) {
    console.warn(`oracle half skipped: ${oracleUnavailableReason()}`);
    return null;
  }
  const o: Oracle = await startOracle({ unitDirs: [dir] });
  return {
    name: 'systemd',
    address: `unix:path=${o.runtimeDir}/bus`,
    managerPid: o.managerPid,
    systemctl: (args) => o.systemctl(args),
    busctl: (args) => o.busctl(args),
    show: async (unit, props) => parseShow((await o.systemctl(['show', '-p', props.join(','), unit])).stdout),
    stop: () => o.stop(),
  };
}

export { oracleAvailable, oracleUnavailableReason };

// ---- a recording bus client --------------------------------------------------------------------

type MessageBus = ReturnType<typeof dbus.sessionBus>;
type Msg = InstanceType<typeof dbus.Message>;

export interface Seen {
  kind: 'signal' | 'return' | 'error';
  member: string;
  path: string;
  iface: string;
  replySerial: number;
  body: unknown[];
  at: number;
}

/** A dbus-next connection that records every signal and reply it receives, in arrival order. */
export class Recorder {
  readonly seen: Seen[] = [];
  private constructor(readonly bus: MessageBus) {}

  static async connect(address: string, subscribe = true): Promise<Recorder> {
    const bus = dbus.sessionBus({ busAddress: address });
    await new Promise<void>((resolve, reject) => {
      bus.once('connect', () => resolve());
      bus.once('error', reject);
    });
    const r = new Recorder(bus);
    bus.on('message', (m: Msg) => {
      const kind = m.type === 4 ? 'signal' : m.type === 2 ? 'return' : m.type === 3 ? 'error' : null;
      if (!kind) return;
      r.seen.push({ kind, member: m.member ?? '', path: m.path ?? '', iface: m.interface ?? '', replySerial: Number(m.replySerial ?? 0), body: m.body as unknown[], at: Date.now() });
    });
    await r.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's', [`type='signal',sender='${DEST}'`]);
    if (subscribe) await r.call(DEST, MANAGER_PATH, MANAGER_IFACE, 'Subscribe', '', []);
    return r;
  }

  /** A method call; returns the reply and the serial of the call (to find the reply in `seen`). */
  async call(destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<{ reply: Msg; serial: number }> {
    const msg = new dbus.Message({ destination, path, interface: iface, member, signature, body });
    const reply = (await this.bus.call(msg)) as Msg;
    return { reply, serial: msg.serial ?? 0 };
  }

  manager(member: string, signature: string, body: unknown[]): Promise<{ reply: Msg; serial: number }> {
    return this.call(DEST, MANAGER_PATH, MANAGER_IFACE, member, signature, body);
  }

  indexOfReply(serial: number): number {
    return this.seen.findIndex((s) => s.kind !== 'signal' && s.replySerial === serial);
  }

  signals(member: string): Seen[] {
    return this.seen.filter((s) => s.kind === 'signal' && s.member === member);
  }

  async waitFor(pred: (s: Seen) => boolean, what: string, timeoutMs = 15_000): Promise<Seen> {
    return waitUntil(() => this.seen.find(pred), what, timeoutMs, 10);
  }

  close(): void {
    this.bus.disconnect();
  }
}

// ---- processes and cgroups ------------------------------------------------------------------------

export function cgroup2Mount(): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre && post?.startsWith('cgroup2 ')) return pre.split(' ')[4]!;
  }
  throw new Error('no cgroup2 mount');
}

export function procStatus(pid: number): Record<string, string> | null {
  try {
    const out: Record<string, string> = {};
    for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
    }
    return out;
  } catch {
    return null;
  }
}

export function procEnviron(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Zombies whose parent is `ppid`. */
export function zombiesOf(ppid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = procStatus(Number(e));
    if (st && st.State?.startsWith('Z') && Number(st.PPid) === ppid) out.push(Number(e));
  }
  return out;
}

/** Every cgroup directory below an absolute cgroup dir (not the dir itself). */
export function subCgroups(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      out.push(join(d, e.name));
      walk(join(d, e.name));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** The cgroup (relative to the cgroup2 root) of a process. */
export function cgroupOfPid(pid: number): string {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
    return line ? line.slice(3) : '';
  } catch {
    return '';
  }
}

export function alive(pid: number): boolean {
  const st = procStatus(pid);
  return st !== null && !st.State?.startsWith('Z');
}

/** Kills a PID if it is still around (cleanup only). */
export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
