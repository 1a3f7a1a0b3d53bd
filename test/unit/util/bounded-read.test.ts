// readBoundedFile reads only regular files of bounded size and never blocks on a file's kind.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReadError, readBoundedFile, readErrorText, readFailureReason } from '../../../src/util/bounded-read.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unitd-bounded-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('readBoundedFile', () => {
  it('reads a regular file whole, with its owner', () => {
    const f = path.join(dir, 'plain');
    fs.writeFileSync(f, 'x'.repeat(10_000));
    const r = readBoundedFile(f);
    expect(r.kind).toBe('regular');
    expect(r.kind === 'regular' && r.data.toString()).toBe('x'.repeat(10_000));
    expect(r.uid).toBe(fs.statSync(f).uid);
  });

  it('reads a file of exactly the limit and refuses one byte more', () => {
    const f = path.join(dir, 'limit');
    fs.writeFileSync(f, 'y'.repeat(100));
    expect(readBoundedFile(f, 100).kind).toBe('regular');
    expect(() => readBoundedFile(f, 99)).toThrow(FileReadError);
    try {
      readBoundedFile(f, 99);
    } catch (err) {
      expect((err as FileReadError).code).toBe('E2BIG');
    }
  });

  it('reports a character device without reading it (/dev/zero, /dev/urandom, /dev/null)', () => {
    for (const dev of ['/dev/zero', '/dev/urandom', '/dev/null']) expect(readBoundedFile(dev).kind).toBe('char-device');
    const link = path.join(dir, 'zero.service');
    fs.symlinkSync('/dev/zero', link);
    expect(readBoundedFile(link).kind).toBe('char-device');
  });

  it('refuses a FIFO at once, with no writer (it would block a plain open): EBADFD, as stat_verify_regular()', () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    expect(() => readBoundedFile(fifo)).toThrow(/FIFO/);
    expect(Date.now() - t0).toBeLessThan(5_000);
    let err: unknown;
    try {
      readBoundedFile(fifo);
    } catch (e) {
      err = e;
    }
    expect((err as FileReadError).code).toBe('EBADFD');
    expect(readErrorText(err)).toBe('File descriptor in bad state');
    expect(readFailureReason(err)).toBe('File descriptor in bad state (a FIFO, not a regular file)');
  });

  it('tells which character device it found (/dev/null is 1:3)', () => {
    const r = readBoundedFile('/dev/null');
    expect(r.kind === 'char-device' && r.rdev).toBe(fs.statSync('/dev/null').rdev);
  });

  it('gives the reason of a refusal by size with the limit', () => {
    const f = path.join(dir, 'over');
    fs.writeFileSync(f, 'z'.repeat(11));
    let err: unknown;
    try {
      readBoundedFile(f, 10);
    } catch (e) {
      err = e;
    }
    expect(readFailureReason(err)).toBe('Argument list too long (larger than 10 bytes)');
  });

  it('refuses a directory (EISDIR) and passes on open errors (ENOENT)', () => {
    let err: unknown;
    try {
      readBoundedFile(dir);
    } catch (e) {
      err = e;
    }
    expect((err as FileReadError).code).toBe('EISDIR');
    expect(readErrorText(err)).toBe('Is a directory');
    try {
      readBoundedFile(path.join(dir, 'missing'));
    } catch (e) {
      err = e;
    }
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect(readErrorText(err)).toBe('No such file or directory');
  });
});
