// Issue 13, item 4: EnvironmentFile= is read bounded, a regular file only. 252 reads it in the
// manager with read_full_stream(): it would block for good on a FIFO and read a device up to
// READ_FULL_BYTES_MAX; unitd refuses both at once. What 252 does and unitd keeps (the oracle,
// `systemctl start` of oneshots): /dev/null reads as empty and the start succeeds; a directory fails
// the start ("Failed to load environment files: Is a directory", Result=resources); with a "-"
// prefix any such file is skipped.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentFiles } from '../../../src/services/exec-environment.js';
import { READ_FULL_BYTES_MAX } from '../../../src/util/bounded-read.js';

const PROMPT_MS = 2_000;
const dir = mkdtempSync(join(tmpdir(), 'unitd-envfile-'));
const fifo = join(dir, 'fifo');
let unblocker: Worker;

beforeAll(() => {
  writeFileSync(join(dir, 'env'), '# comment\nA=1\nB="two words"\n');
  mkdirSync(join(dir, 'adir'));
  execFileSync('mkfifo', [fifo]);
  writeFileSync(join(dir, 'big'), '');
  truncateSync(join(dir, 'big'), READ_FULL_BYTES_MAX + 1);
  // code that opens the FIFO blocking would hang the run for good: this thread opens it for writing
  // every second, so such code gets end-of-file and fails on its answer instead
  unblocker = new Worker(
    `const fs = require('node:fs');
     setInterval(() => { try { fs.closeSync(fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch {} }, 1000);`,
    { eval: true },
  );
});

afterAll(async () => {
  await unblocker?.terminate();
  rmSync(dir, { recursive: true, force: true });
});

function refusal(spec: string): { message: string; ms: number } {
  const t0 = performance.now();
  try {
    environmentFiles([spec]);
  } catch (err) {
    return { message: (err as Error).message, ms: performance.now() - t0 };
  }
  return { message: '(no error)', ms: performance.now() - t0 };
}

describe('EnvironmentFile=', () => {
  it('reads a regular file', () => {
    expect(environmentFiles([join(dir, 'env')])).toEqual({ A: '1', B: 'two words' });
  });

  it('/dev/null is an empty file, as in 252', () => {
    expect(environmentFiles(['/dev/null', join(dir, 'env')])).toEqual({ A: '1', B: 'two words' });
  });

  it.each([
    ['a FIFO', fifo, 'File descriptor in bad state (a FIFO, not a regular file)'],
    ['/dev/zero', '/dev/zero', 'File descriptor in bad state (a character device, not a regular file)'],
    ['/dev/urandom', '/dev/urandom', 'File descriptor in bad state (a character device, not a regular file)'],
    ['a directory', join(dir, 'adir'), 'Is a directory'],
    ['a file over READ_FULL_BYTES_MAX', join(dir, 'big'), `Argument list too long (larger than ${READ_FULL_BYTES_MAX} bytes)`],
    ['a missing file', join(dir, 'missing'), 'No such file or directory'],
  ])('refuses %s at once, saying why', (_what, path, why) => {
    const r = refusal(path);
    expect(r.message).toBe(`Failed to load environment file ${path}: ${why}`);
    expect(r.ms).toBeLessThan(PROMPT_MS);
  });

  it('skips any of them with a "-" prefix', () => {
    const t0 = performance.now();
    const specs = [fifo, '/dev/zero', join(dir, 'adir'), join(dir, 'big'), join(dir, 'missing')].map((p) => `-${p}`);
    expect(environmentFiles([...specs, join(dir, 'env')])).toEqual({ A: '1', B: 'two words' });
    expect(performance.now() - t0).toBeLessThan(PROMPT_MS);
  });
});
