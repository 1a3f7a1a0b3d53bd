// A descriptor unitd inherited (open, not close-on-exec) must not reach the processes it starts.
// The check runs in a child Node process that bash gives /dev/null as fd 50 (not close-on-exec),
// the way a parent hands a descriptor down. (Node marks the first few descriptors it finds
// close-on-exec itself, those given through spawn's stdio included, so a low number would not do.)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function runWithInheritedFd50(mark: 'native' | 'no-native' | 'none'): { before: number[]; result: { marked: number[]; left: number[] } | null; childFds: string[] } {
  const call = { none: 'null', native: 'stopFdInheritance()', 'no-native': 'stopFdInheritance(null)' }[mark];
  const script = `
    import { spawnSync } from 'node:child_process';
    import { inheritableFds, stopFdInheritance } from ${JSON.stringify(path.resolve('dist/processes/inherited-fds.js'))};
    const before = inheritableFds();
    const result = ${call};
    // the descriptors of the shell itself ($$), as a service would have them
    const ls = spawnSync('/bin/sh', ['-c', 'ls /proc/$$/fd'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(JSON.stringify({ before, result, childFds: ls.stdout.split(/\\s+/).filter(Boolean) }));
  `;
  const r = spawnSync('/bin/bash', ['-c', 'exec "$0" --input-type=module -e "$1" 50</dev/null', process.execPath, script], {
    encoding: 'utf8',
    cwd: path.resolve('.'),
  });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ReturnType<typeof runWithInheritedFd50>;
}

describe('inherited descriptors', () => {
  it('an inherited fd is found, and without marking it a started process gets it', () => {
    const r = runWithInheritedFd50('none');
    expect(r.before).toContain(50);
    expect(r.childFds).toContain('50');
  });

  it('marked close-on-exec, a started process gets none above 2', () => {
    const r = runWithInheritedFd50('native');
    expect(r.result!.marked).toContain(50);
    expect(r.result!.left).toEqual([]);
    expect(r.childFds).not.toContain('50');
    expect(r.childFds.filter((fd) => Number(fd) > 2)).toEqual([]);
  });

  it('without the native calls the fd is reported as left, and still inherited', () => {
    const r = runWithInheritedFd50('no-native');
    expect(r.result!.marked).toEqual([]);
    expect(r.result!.left).toContain(50);
    expect(r.childFds).toContain('50');
  });
});
