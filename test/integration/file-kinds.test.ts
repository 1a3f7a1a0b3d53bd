// Issue 13, item 4, against the real daemon (a real dbus-daemon, unitd from dist/, the real
// systemctl): files that are not regular files of bounded size. At a186d99 a unit file linked to
// /dev/zero or /dev/urandom made LoadUnit never answer while unitd's memory grew by ~220 MB/s, and a
// unit file or an EnvironmentFile= that is a FIFO blocked the event loop for good. Now LoadUnit
// answers at once (the link to a character device is a mask, as null_or_empty() makes it in
// systemd 252; the FIFO is LoadState=error), a start whose EnvironmentFile= is a FIFO or a device
// fails like one with a missing file (Result=resources), and unitd answers Peer.Ping throughout
// (measured by pinging every 20 ms during each operation) while other units keep working.
// Where 252 has a rule the same files are given to it (the oracle) and the answers compared; it
// is not asked about the FIFOs: it would block in fopen() for good.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, type BusClient } from '../helpers/bus-client.js';
import { expectSame, MANAGER_PATH, onBothSides, removeDir, sleep, startOracleSide, startUnitdSide, unitDir, type Side, type UnitdSide } from './start-support.js';

const MANAGER = 'org.freedesktop.systemd1.Manager';
/** an operation that answers within this is prompt (the fixed daemon needs a few ms) */
const PROMPT_MS = 3_000;
/** the longest a Ping may wait during an operation (the bus round trip is ~0.2 ms) */
const PING_MAX_MS = 1_000;

let outside: string;
let dir: string;
let u: UnitdSide;
let o: Side | null = null;
let client: BusClient;
let unblocker: NodeJS.Timeout | undefined;

beforeAll(async () => {
  for (const dev of ['/dev/zero', '/dev/urandom']) {
    if (!statSync(dev).isCharacterDevice()) throw new Error(`${dev} is not a character device on this machine`);
  }
  outside = mkdtempSync(join(tmpdir(), 'unitd-file-kinds-'));
  const unitFifo = join(outside, 'unit-fifo');
  const envFifo = join(outside, 'env-fifo');
  execFileSync('mkfifo', [unitFifo, envFifo]);
  mkdirSync(join(outside, 'adir'));
  dir = unitDir({
    'fk-envfifo.service': `[Service]\nEnvironmentFile=${envFifo}\nExecStart=/bin/sleep 1000\n`,
    'fk-envzero.service': '[Service]\nType=oneshot\nEnvironmentFile=/dev/zero\nExecStart=/bin/true\n',
    'fk-envdir.service': `[Service]\nType=oneshot\nEnvironmentFile=${join(outside, 'adir')}\nExecStart=/bin/true\n`,
    'fk-envnull.service': '[Service]\nType=oneshot\nEnvironmentFile=/dev/null\nExecStart=/bin/true\n',
    'fk-ok.service': '[Service]\nExecStart=/bin/sleep 1000\n',
  });
  symlinkSync('/dev/zero', join(dir, 'fk-zero.service'));
  symlinkSync('/dev/urandom', join(dir, 'fk-urandom.service'));
  symlinkSync(unitFifo, join(dir, 'fk-fifo.service'));
  symlinkSync(join(outside, 'adir'), join(dir, 'fk-dir.service'));
  // A daemon that opens a FIFO blocking (a186d99) would stay blocked for good, and the test could
  // not even stop it: every second each FIFO is opened for writing (without blocking; it fails
  // when nobody reads), which hands such a reader end-of-file, so the test fails on the answers.
  unblocker = setInterval(() => {
    for (const f of [unitFifo, envFifo]) {
      try {
        closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader: nothing to unblock
      }
    }
  }, 1000);
  u = await startUnitdSide(dir);
  client = await connectClient(u.address);
  o = await startOracleSide(dir);
}, 60_000);

afterAll(async () => {
  if (unblocker) clearInterval(unblocker);
  client?.close();
  if (u) {
    // a daemon stuck in a read (the code before the fix) cannot act on SIGTERM: SIGKILL it by PID
    const stopped = u.stop();
    const late = setTimeout(() => u.unitd.child.kill('SIGKILL'), 5_000);
    await stopped;
    clearTimeout(late);
  }
  await o?.stop();
  if (dir) removeDir(dir);
  if (outside) removeDir(outside);
}, 60_000);

/** rejects when `p` has not settled after `ms` */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}

interface Pinged<T> {
  result: T;
  ms: number;
  pings: number;
  /** the longest a Ping waited for its answer (Infinity: one got none) */
  slowestPingMs: number;
}

/** Runs `op` while a second connection pings unitd every 20 ms, each Ping timed. */
async function whilePinging<T>(op: () => Promise<T>): Promise<Pinged<T>> {
  const pinger = await connectClient(u.address);
  let running = true;
  let pings = 0;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        await within(pinger.call(MANAGER_PATH, 'org.freedesktop.DBus.Peer', 'Ping'), 10_000, 'Ping');
        slowest = Math.max(slowest, performance.now() - t0);
      } catch {
        slowest = Infinity;
      }
      pings++;
      await sleep(20);
    }
  })();
  const t0 = performance.now();
  try {
    const result = await op();
    return { result, ms: performance.now() - t0, pings, slowestPingMs: slowest };
  } finally {
    // at least one Ping after the operation: unitd must still answer
    const seen = pings;
    await within((async () => { while (pings <= seen + 1) await sleep(10); })(), 15_000, 'Ping after the operation').catch(() => (slowest = Infinity));
    running = false;
    await loop;
    pinger.close();
  }
}

const loadUnit = (name: string): Promise<unknown[]> => within(client.call(MANAGER_PATH, MANAGER, 'LoadUnit', 's', [name]), PROMPT_MS, `LoadUnit ${name}`);

describe('a unit file linked to a character device is masked, LoadUnit answering at once', () => {
  it.each(['fk-zero.service', 'fk-urandom.service'])('%s', async (name) => {
    const r = await whilePinging(() => loadUnit(name));
    expect(r.ms).toBeLessThan(PROMPT_MS);
    expect(r.slowestPingMs).toBeLessThan(PING_MAX_MS);
    const shown = await onBothSides(u, o, (s) => s.show(name, ['LoadState', 'LoadError', 'UnitFileState']));
    expectSame(shown);
    expect(shown.unitd).toEqual({ LoadState: 'masked', LoadError: `org.freedesktop.systemd1.UnitMasked "Unit ${name} is masked."`, UnitFileState: 'masked' });
  });
});

describe('a unit file that is not a regular file is LoadState=error, LoadUnit answering at once', () => {
  it('a FIFO (252 blocks in fopen() for good): System.Error.EBADFD', async () => {
    const r = await whilePinging(() => loadUnit('fk-fifo.service'));
    expect(r.ms).toBeLessThan(PROMPT_MS);
    expect(r.slowestPingMs).toBeLessThan(PING_MAX_MS);
    expect(await u.show('fk-fifo.service', ['LoadState', 'LoadError'])).toEqual({
      LoadState: 'error',
      LoadError: 'System.Error.EBADFD "Unit fk-fifo.service failed to load properly, please adjust/correct and reload service manager: File descriptor in bad state"',
    });
  });

  it('a directory: System.Error.EISDIR, as in 252', async () => {
    const shown = await onBothSides(u, o, (s) => s.show('fk-dir.service', ['LoadState', 'LoadError', 'FragmentPath']));
    expectSame(shown);
    expect(shown.unitd.LoadState).toBe('error');
    expect(shown.unitd.LoadError).toBe('System.Error.EISDIR "Unit fk-dir.service failed to load properly, please adjust/correct and reload service manager: Is a directory"');
  });
});

describe('EnvironmentFile=', () => {
  it('a FIFO: the start fails as with a missing file (Result=resources), with a log line saying why; unitd answers throughout and other units keep working', async () => {
    const r = await whilePinging(() => within(u.systemctl(['start', 'fk-envfifo.service']), PROMPT_MS + 5_000, 'systemctl start'));
    expect(r.slowestPingMs).toBeLessThan(PING_MAX_MS);
    expect(r.ms).toBeLessThan(PROMPT_MS);
    expect(r.result.code).toBe(1);
    expect(r.result.stderr).toContain('failed because of unavailable resources or another system error');
    expect(await u.show('fk-envfifo.service', ['ActiveState', 'Result'])).toEqual({ ActiveState: 'failed', Result: 'resources' });
    const line = await u.unitd.waitForLog((l) => l.unit === 'fk-envfifo.service' && l.msg === 'failed to spawn command', 2_000);
    expect(line.reason).toBe(`Failed to load environment file ${join(outside, 'env-fifo')}: File descriptor in bad state (a FIFO, not a regular file)`);
    await u.systemctl(['reset-failed', 'fk-envfifo.service']);
    // and other units keep working
    expect((await u.systemctl(['start', 'fk-ok.service'])).code).toBe(0);
    expect(await u.show('fk-ok.service', ['ActiveState', 'SubState'])).toEqual({ ActiveState: 'active', SubState: 'running' });
    expect((await u.systemctl(['stop', 'fk-ok.service'])).code).toBe(0);
  });

  it('/dev/zero and a directory fail the start, /dev/null is empty: as in 252', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const out: Record<string, [number, string]> = {};
        for (const name of ['fk-envzero.service', 'fk-envdir.service', 'fk-envnull.service']) {
          const start = await s.systemctl(['start', name]);
          out[name] = [start.code, (await s.show(name, ['Result'])).Result!];
          await s.systemctl(['reset-failed', name]);
        }
        return out;
      },
      true,
    );
    expectSame(r);
    expect(r.unitd).toEqual({
      'fk-envzero.service': [1, 'resources'],
      'fk-envdir.service': [1, 'resources'],
      'fk-envnull.service': [0, 'success'],
    });
  });
});
