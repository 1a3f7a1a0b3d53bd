// Issue 13, item 4: the store reads nothing but a regular file of bounded size. A unit file (or a
// drop-in) that is a character device, a FIFO, a directory, a block device, a socket or too large
// gets the load state systemd 252 gives it, or a prompt error where 252 has no rule (it blocks
// for good in fopen() on a FIFO, and reads a block device or a file of any size). Facts from 252
// (the oracle, test/oracle/oracle.ts, `systemctl show` on the same links): a link to /dev/urandom or
// /dev/null is masked (null_or_empty(): any S_ISCHR), a link to a directory is LoadState=error with
// System.Error.EISDIR "... Is a directory", a line over LONG_LINE_MAX is error with
// org.freedesktop.DBus.Error.LimitsExceeded "... No buffer space available"; a drop-in that is a
// directory is listed in DropInPaths and skipped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnitStore } from '../../../src/units/unit-loader.js';
import type { LoadedUnit } from '../../../src/units/types.js';
import { READ_FULL_BYTES_MAX } from '../../../src/util/bounded-read.js';
import { LONG_LINE_MAX } from '../../../src/units/syntax.js';

/** a load that answers within this is prompt (the fixed code needs a few ms) */
const PROMPT_MS = 2_000;

const root = mkdtempSync(join(tmpdir(), 'unitd-file-kinds-'));
const units = join(root, 'units');
const outside = join(root, 'outside');
const fifo = join(outside, 'fifo');
let socketServer: net.Server;
/** any block device of this machine, opened (never read) through a link */
const blockDevice = readdirSync('/dev')
  .map((n) => `/dev/${n}`)
  .find((p) => {
    try {
      return statSync(p).isBlockDevice();
    } catch {
      return false;
    }
  });
let unblocker: Worker;

/**
 * Code that opens a FIFO blocking (what a186d99 did) would hang this test run for good. This
 * thread opens each FIFO for writing every second: a blocked reader then gets end-of-file and the
 * test fails on its answer and its time instead of hanging. With no reader the open fails (ENXIO).
 */
function startUnblocker(fifos: string[]): Worker {
  return new Worker(
    `const fs = require('node:fs');
     const { workerData } = require('node:worker_threads');
     setInterval(() => {
       for (const f of workerData) {
         try { fs.closeSync(fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch {}
       }
     }, 1000);`,
    { eval: true, workerData: fifos },
  );
}

beforeAll(async () => {
  for (const dev of ['/dev/zero', '/dev/urandom', '/dev/null']) {
    if (!statSync(dev).isCharacterDevice()) throw new Error(`${dev} is not a character device on this machine`);
  }
  mkdirSync(units);
  mkdirSync(outside);
  mkdirSync(join(outside, 'adir'));
  execFileSync('mkfifo', [fifo, join(outside, 'fifo-dropin')]);
  symlinkSync('/dev/zero', join(units, 'k-zero.service'));
  symlinkSync('/dev/urandom', join(units, 'k-urandom.service'));
  symlinkSync('/dev/null', join(units, 'k-null.service'));
  symlinkSync(fifo, join(units, 'k-fifo.service'));
  symlinkSync(join(outside, 'adir'), join(units, 'k-dir.service'));
  if (blockDevice !== undefined) symlinkSync(blockDevice, join(units, 'k-blk.service'));
  // a socket: open() fails (ENXIO), as fopen() does in 252: not-found
  socketServer = net.createServer();
  await new Promise<void>((resolve) => socketServer.listen(join(outside, 'sock'), resolve));
  symlinkSync(join(outside, 'sock'), join(units, 'k-sock.service'));
  // a sparse file one byte over READ_FULL_BYTES_MAX: refused by its size, never read
  writeFileSync(join(units, 'k-big.service'), '');
  truncateSync(join(units, 'k-big.service'), READ_FULL_BYTES_MAX + 1);
  writeFileSync(join(units, 'k-longline.service'), `[Unit]\nDescription=${'a'.repeat(LONG_LINE_MAX)}\n[Service]\nExecStart=/bin/true\n`);
  // drop-ins: a FIFO, /dev/zero, a directory, and a good one
  writeFileSync(join(units, 'k-dropins.service'), '[Service]\nExecStart=/bin/true\n');
  const d = join(units, 'k-dropins.service.d');
  mkdirSync(d);
  symlinkSync(join(outside, 'fifo-dropin'), join(d, '10-fifo.conf'));
  symlinkSync('/dev/zero', join(d, '20-zero.conf'));
  mkdirSync(join(d, '30-dir.conf'));
  writeFileSync(join(d, '40-ok.conf'), '[Unit]\nDescription=from 40-ok\n');
  unblocker = startUnblocker([fifo, join(outside, 'fifo-dropin')]);
});

afterAll(async () => {
  await unblocker?.terminate();
  await new Promise<void>((resolve) => (socketServer ? socketServer.close(() => resolve()) : resolve()));
  rmSync(root, { recursive: true, force: true });
});

function timedLoad(name: string): { u: LoadedUnit; ms: number } {
  const store = new UnitStore({ searchPath: [units] });
  const t0 = performance.now();
  const u = store.load(name);
  return { u, ms: performance.now() - t0 };
}

describe('a unit file that is a character device is a mask (null_or_empty()), never read', () => {
  it.each(['k-zero.service', 'k-urandom.service', 'k-null.service'])('%s', (name) => {
    const { u, ms } = timedLoad(name);
    expect(ms).toBeLessThan(PROMPT_MS);
    expect([u.loadState, u.loadError, u.fragmentPath, u.unitFileState]).toEqual([
      'masked',
      { name: 'org.freedesktop.systemd1.UnitMasked', message: `Unit ${name} is masked.` },
      join(units, name),
      'masked',
    ]);
  });
});

describe('a unit file unitd will not read is LoadState=error with the errno', () => {
  const failed = (name: string, errno: string, text: string) => ({
    name: `System.Error.${errno}`,
    message: `Unit ${name} failed to load properly, please adjust/correct and reload service manager: ${text}`,
  });

  it('a FIFO (252 would block in fopen() for good): EBADFD, at once', () => {
    const { u, ms } = timedLoad('k-fifo.service');
    expect(ms).toBeLessThan(PROMPT_MS);
    expect([u.loadState, u.loadError, u.fragmentPath]).toEqual(['error', failed('k-fifo.service', 'EBADFD', 'File descriptor in bad state'), join(units, 'k-fifo.service')]);
    expect(u.warnings.map((w) => w.message)).toEqual([
      `Failed to load configuration from ${join(units, 'k-fifo.service')}: File descriptor in bad state (a FIFO, not a regular file)`,
    ]);
  });

  it('a directory: EISDIR, as 252 reports it', () => {
    const { u } = timedLoad('k-dir.service');
    expect([u.loadState, u.loadError, u.fragmentPath, u.dropInPaths]).toEqual(['error', failed('k-dir.service', 'EISDIR', 'Is a directory'), join(units, 'k-dir.service'), []]);
  });

  it.skipIf(blockDevice === undefined)('a block device (252 reads the device as a unit file): EBADFD', () => {
    const { u, ms } = timedLoad('k-blk.service');
    expect(ms).toBeLessThan(PROMPT_MS);
    expect([u.loadState, u.loadError]).toEqual(['error', failed('k-blk.service', 'EBADFD', 'File descriptor in bad state')]);
  });

  it('a file over READ_FULL_BYTES_MAX (252 reads any size; read_full_stream() refuses it with E2BIG): E2BIG, unread', () => {
    const { u, ms } = timedLoad('k-big.service');
    expect(ms).toBeLessThan(PROMPT_MS);
    expect([u.loadState, u.loadError]).toEqual(['error', failed('k-big.service', 'E2BIG', 'Argument list too long')]);
    expect(u.warnings.map((w) => w.message)).toEqual([
      `Failed to load configuration from ${join(units, 'k-big.service')}: Argument list too long (larger than ${READ_FULL_BYTES_MAX} bytes)`,
    ]);
  });

  it('a line of LONG_LINE_MAX bytes: ENOBUFS, LimitsExceeded (as 252 shows it)', () => {
    const { u } = timedLoad('k-longline.service');
    expect([u.loadState, u.loadError]).toEqual([
      'error',
      {
        name: 'org.freedesktop.DBus.Error.LimitsExceeded',
        message: 'Unit k-longline.service failed to load properly, please adjust/correct and reload service manager: No buffer space available',
      },
    ]);
  });
});

it('a socket cannot be opened (ENXIO): not-found, as when 252\'s fopen() fails', () => {
  const { u } = timedLoad('k-sock.service');
  expect([u.loadState, u.fragmentPath]).toEqual(['not-found', '']);
  expect(u.warnings.map((w) => w.message)).toEqual([`Failed to open ${join(units, 'k-sock.service')}: No such device or address`]);
});

it('drop-ins: a FIFO and a directory are skipped with a warning, a character device adds nothing; all stay in DropInPaths', () => {
  const { u, ms } = timedLoad('k-dropins.service');
  expect(ms).toBeLessThan(PROMPT_MS);
  const d = join(units, 'k-dropins.service.d');
  expect(u.loadState).toBe('loaded');
  expect(u.unit.description).toBe('from 40-ok');
  expect(u.dropInPaths).toEqual(['10-fifo.conf', '20-zero.conf', '30-dir.conf', '40-ok.conf'].map((f) => join(d, f)));
  expect(u.warnings.map((w) => w.message)).toEqual([
    `Failed to open ${join(d, '10-fifo.conf')}, ignoring: File descriptor in bad state (a FIFO, not a regular file)`,
    `Failed to open ${join(d, '30-dir.conf')}, ignoring: Is a directory`,
  ]);
});
