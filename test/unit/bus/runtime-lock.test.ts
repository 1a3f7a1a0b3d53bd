// The runtime directory's lock on the real file system: flock(2) through koffi, and the pid-file
// fallback used where koffi cannot be loaded. flock locks belong to an open file, so a second
// lockRuntimeDir in this same process competes with the first as another unitd would.
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockRuntimeDir, type RuntimeLock } from '../../../src/bus/runtime-lock.js';
import { getNative } from '../../../src/processes/native.js';
import { StartRefusal } from '../../../src/start-refusal.js';

let dir: string;
const held: RuntimeLock[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'unitd-lock-'));
});
afterEach(() => {
  for (const l of held.splice(0)) l.release();
  rmSync(dir, { recursive: true, force: true });
});

async function lock(at = dir, native = getNative()): Promise<RuntimeLock> {
  const r = await lockRuntimeDir(at, 0o755, native);
  if (!('lock' in r)) throw new Error(`held by ${r.heldBy}`);
  held.push(r.lock);
  return r.lock;
}

/** a PID no process has: past the kernel's pid_max */
const DEAD_PID = 4194304 + 1;

describe('lockRuntimeDir with flock', () => {
  it('is held until released, and names its holder to whoever finds it held', async () => {
    expect(getNative()).not.toBeNull();
    const first = await lock();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(await lockRuntimeDir(dir, 0o755)).toEqual({ heldBy: process.pid });
    first.release();
    // emptied, never removed: see runtime-lock.ts
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('');
    await lock();
  });

  it('takes over a lock file left by a unitd that died (no flock on it, a dead PID in it)', async () => {
    writeFileSync(join(dir, LOCK_FILE), `${DEAD_PID}\n`);
    await lock();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('creates a missing runtime directory with the mode asked for, whatever the umask', async () => {
    const sub = join(dir, 'a', 'rt');
    const umask = process.umask(0o077);
    try {
      await lock(sub);
    } finally {
      process.umask(umask);
    }
    // 0755: the system bus's socket in it must be reachable by everyone
    expect((statSync(sub).mode & 0o7777).toString(8)).toBe('755');
    expect((statSync(join(dir, 'a')).mode & 0o7777).toString(8)).toBe('755');
    expect((statSync(join(sub, LOCK_FILE)).mode & 0o7777).toString(8)).toBe('644');
  });
});

describe('lockRuntimeDir without koffi (the pid-file fallback)', () => {
  it('is refused while the PID in the file is alive, taken when it is dead', async () => {
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(await lockRuntimeDir(dir, 0o755, null)).toEqual({ heldBy: process.ppid });
    writeFileSync(join(dir, LOCK_FILE), `${DEAD_PID}\n`);
    await lock(dir, null);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
  });
});

describe('lockRuntimeDir refuses what another user could rearrange', () => {
  it('a runtime directory writable by others, unless sticky', async () => {
    chmodSync(dir, 0o777);
    await expect(lockRuntimeDir(dir, 0o755)).rejects.toThrow(StartRefusal);
    await expect(lockRuntimeDir(dir, 0o755)).rejects.toThrow(/not safe .* mode 777.*another --runtime-dir/);
    chmodSync(dir, 0o1777);
    await lock();
  });

  it('a lock file that is a symlink, or that another user owns', async () => {
    symlinkSync('/etc/passwd', join(dir, LOCK_FILE));
    await expect(lockRuntimeDir(dir, 0o755)).rejects.toThrow(/cannot open the lock file/);
    rmSync(join(dir, LOCK_FILE));
    writeFileSync(join(dir, LOCK_FILE), '');
    chownSync(join(dir, LOCK_FILE), 65534, 65534);
    await expect(lockRuntimeDir(dir, 0o755)).rejects.toThrow(/is not unitd's lock file \(owner uid 65534\)/);
  });
});
