// --system-manager: parsed only for the system scope; /run/systemd/system is created only when unitd
// is PID 1 or in a container (here against a scratch directory: never the host's /run).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOptions, UsageError } from '../../src/cli/options.js';
import { becomeSystemManager, systemManagerGround, type SystemFacts } from '../../src/system-manager.js';

const scratch: string[] = [];
afterEach(() => {
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

function facts(pid: number, containerEnv?: string): SystemFacts {
  return { pid, containerEnv };
}

describe('--system-manager option', () => {
  it('is off by default and on with the flag', () => {
    expect(parseOptions([]).systemManager).toBe(false);
    expect(parseOptions(['--system-manager']).systemManager).toBe(true);
    expect(parseOptions(['--system', '--system-manager']).scope).toBe('system');
  });

  it('is refused with --user', () => {
    expect(() => parseOptions(['--user', '--system-manager'])).toThrow(UsageError);
  });
});

describe('systemManagerGround', () => {
  it('PID 1 or the container variable', () => {
    expect(systemManagerGround(facts(1))).toBe('pid1');
    expect(systemManagerGround(facts(42, 'podman'))).toBe('container=podman');
  });

  it('neither: null (marker files such as /.dockerenv are not trusted)', () => {
    expect(systemManagerGround(facts(42))).toBeNull();
    expect(systemManagerGround(facts(42, ''))).toBeNull();
  });
});

describe('becomeSystemManager', () => {
  it('creates the directory as PID 1 and removes it again on release', () => {
    const root = mkdtempSync(join(tmpdir(), 'unitd-sm-'));
    scratch.push(root);
    const dir = join(root, 'systemd', 'system');
    const mark = becomeSystemManager(facts(1), dir);
    expect(mark.created).toBe(true);
    expect(existsSync(dir)).toBe(true);
    mark.release();
    expect(existsSync(dir)).toBe(false);
  });

  it('leaves a directory it did not create', () => {
    const root = mkdtempSync(join(tmpdir(), 'unitd-sm-'));
    scratch.push(root);
    const mark = becomeSystemManager(facts(1, 'podman'), root);
    expect(mark.created).toBe(false);
    mark.release();
    expect(existsSync(root)).toBe(true);
  });

  it('refuses outside PID 1 and containers, and creates nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'unitd-sm-'));
    scratch.push(root);
    const dir = join(root, 'system');
    expect(() => becomeSystemManager(facts(4242), dir)).toThrow(/--system-manager refused: unitd is not PID 1 and \$container is not set/);
    expect(existsSync(dir)).toBe(false);
  });
});
