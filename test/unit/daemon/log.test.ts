// The daemon's log destination: lines go out in order with one write shortly after they were
// logged (not inside the call that logs them), at once when many are waiting, flush() writes at
// once, and a child process that logs then exits at once still leaves every line behind.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino, type Logger } from 'pino';
import { BufferedLogDestination } from '../../../src/log.js';

describe('buffered log destination', () => {
  /** a logger on a temp file, and that file's text; the file goes when fn is done */
  async function withLogFile(fn: (log: Logger, text: () => string) => void | Promise<void>): Promise<void> {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'unitd-log-')), 'log');
    const fd = fs.openSync(file, 'w');
    try {
      await fn(pino({ base: null, timestamp: false }, new BufferedLogDestination(fd)), () => fs.readFileSync(file, 'utf8'));
    } finally {
      fs.closeSync(fd);
      fs.rmSync(path.dirname(file), { recursive: true });
    }
  }

  it('writes the lines logged close together with one write, in order, shortly after', () =>
    withLogFile(async (log, text) => {
      log.info({ n: 1 }, 'one');
      await new Promise((r) => setImmediate(r));
      log.info({ n: 2 }, 'two'); // a later event-loop turn
      expect(text()).toBe(''); // nothing written inside the calls that logged
      await new Promise((r) => setTimeout(r, 50));
      expect(text()).toBe('{"level":30,"n":1,"msg":"one"}\n{"level":30,"n":2,"msg":"two"}\n');
      log.warn('three');
      log.flush();
      expect(text().split('\n').filter(Boolean)).toHaveLength(3);
    }));

  it('writes at once when 16 KiB are waiting', () =>
    withLogFile((log, text) => {
      const filler = 'x'.repeat(1000);
      for (let i = 0; i < 20; i++) log.info({ i, filler }, 'big');
      const written = text().split('\n').filter(Boolean);
      expect(written.length).toBeGreaterThan(0);
      expect(written.length).toBeLessThan(20);
      expect(JSON.parse(written[0]!)).toMatchObject({ i: 0 });
      log.flush();
      expect(text().split('\n').filter(Boolean)).toHaveLength(20);
    }));

  it('writes what is pending when the process exits right after logging', () => {
    const script = `
      import { pino } from 'pino';
      import { BufferedLogDestination } from ${JSON.stringify(path.resolve('dist/log.js'))};
      const log = pino({ base: null, timestamp: false }, new BufferedLogDestination(1));
      for (let i = 0; i < 1000; i++) log.info({ i }, 'line');
      process.exit(0);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: path.resolve('.') });
    const lines = out.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1000);
    expect(JSON.parse(lines[999]!)).toMatchObject({ i: 999 });
  });
});
