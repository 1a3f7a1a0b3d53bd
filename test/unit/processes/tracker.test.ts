// The process-tree tracker against real processes and a real cgroup (no mocks), for both
// implementations. Every test ends its processes through the tracker (killGroup / identity signals)
// and removes its groups; figures are printed (not asserted) with the prefix "[figure]".
import { execFileSync, spawn as nodeSpawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createProcessTracker } from '../../../src/processes/index.js';
import { CgroupTracker } from '../../../src/processes/cgroup-tracker.js';
import { MARKER_TOKEN, MARKER_UNIT, ProcTracker } from '../../../src/processes/proc-tracker.js';
import { locateWritableCgroup2 } from '../../../src/processes/cgroup-fs.js';
import { reaper } from '../../../src/processes/reaper.js';
import { readStat } from '../../../src/processes/proc-stat.js';
import { getNative } from '../../../src/processes/native.js';
import type { ProcessGroup, ProcessTracker, SpawnRequest } from '../../../src/processes/types.js';

const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const HAVE_CGROUP2 = locateWritableCgroup2() !== null;
const kinds = (HAVE_CGROUP2 ? ['cgroup2', 'proc'] : ['proc']) as Array<'cgroup2' | 'proc'>;

function sh(script: string, extra: Partial<SpawnRequest> = {}): SpawnRequest {
  return { path: '/bin/sh', argv: ['/bin/sh', '-c', script], env: ENV, ...extra };
}

async function waitFor(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** zombies whose parent is this (test worker) process */
function ourZombies(): number[] {
  const out: number[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const st = readStat(Number(n));
    if (st && st.state === 'Z' && st.ppid === process.pid) out.push(st.pid);
  }
  return out;
}

function fig(name: string, ms: number, kind: string): void {
  console.log(`[figure] ${kind}: ${name} = ${ms.toFixed(2)} ms`);
}

describe.each(kinds)('%s tracker', (kind) => {
  let tracker: ProcessTracker;
  const used: ProcessGroup[] = [];
  let n = 0;
  const newGroup = (): ProcessGroup => {
    const g = tracker.group(`test-${kind}-${process.pid}-${n++}.service`);
    used.push(g);
    return g;
  };

  beforeAll(() => {
    tracker = createProcessTracker({ force: kind });
    expect(tracker.kind).toBe(kind);
  });

  afterEach(async () => {
    for (const g of used.splice(0)) {
      if (!tracker.isEmpty(g)) {
        tracker.killGroup(g);
        await tracker.whenEmpty(g);
      }
      expect(tracker.remove(g)).toBe(true);
    }
  });

  afterAll(async () => {
    await tracker.close();
    if (tracker instanceof CgroupTracker) expect(fs.existsSync(tracker.rootDir)).toBe(false);
  });

  it('makes this process a child subreaper', () => {
    expect(reaper.isSubreaper()).toBe(true);
    expect(getNative()?.isChildSubreaper()).toBe(true);
  });

  it('splits output into lines and cuts very long ones', async () => {
    const g = newGroup();
    const lines: string[] = [];
    const p = tracker.spawn(g, sh('printf "a\\nb\\n\\nc"; head -c 100000 /dev/zero | tr "\\0" x', { onOutput: (_s, l) => lines.push(l) }));
    await p.exited;
    await waitFor(() => lines.join('').length === 3 + 100000);
    expect(lines.slice(0, 3)).toEqual(['a', 'b', '']);
    expect(lines.slice(3).map((l) => l.length)).toEqual([49152, 49152, 1697]);
    expect(lines[3]!.startsWith('cx')).toBe(true);
  });

  it('finds every process of a double-forking, setsid-ing tree, and whenEmpty resolves after the kill', async () => {
    const g = newGroup();
    const t0 = performance.now();
    const p = tracker.spawn(g, sh('sleep 100 & setsid sh -c "sleep 101 &" & exec sleep 102'));
    fig('spawn() call', performance.now() - t0, kind);
    // main (sleep 102), its background sleep 100, the setsid'd orphan sleep 101
    await waitFor(() => {
      const comms = tracker.pids(g).map((pid) => readStat(pid)?.comm);
      return comms.length === 3 && comms.every((c) => c === 'sleep');
    }, 5000, 'three sleeps');
    const pids = tracker.pids(g);
    expect(pids).toContain(p.identity.pid);
    const orphan = pids.find((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('101'))!;
    expect(orphan).toBeDefined();
    // re-parented to us (subreaper), in its own session, still attributed to the unit
    expect(readStat(orphan)!.ppid).toBe(process.pid);
    for (const pid of pids) {
      expect(tracker.unitOfPid(pid)).toBe(g.unitId);
      if (kind === 'cgroup2') {
        expect(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`0::${g.path}\n`);
      }
    }
    expect(tracker.unitOfPid(process.pid)).toBeUndefined();
    expect(tracker.isEmpty(g)).toBe(false);

    // kill everything through identities (not the group), then time whenEmpty
    const ids = pids.map((pid) => tracker.identify(pid)!);
    const empty = tracker.whenEmpty(g);
    const tKill = performance.now();
    for (const id of ids) expect(tracker.signal(id, 9)).toBe(true);
    await empty;
    fig('whenEmpty after SIGKILL of 3 (from the kill)', performance.now() - tKill, kind);
    expect(tracker.pids(g)).toEqual([]);
    expect(await p.exited).toEqual({ code: 2, status: 9 });
    // the orphan and the intermediate sh (zombie child of the main sleep) get reaped by us
    reaper.tick();
    await waitFor(() => ourZombies().length === 0, 3000, 'no zombies');
  });

  it('measures whenEmpty latency after the last process dies', async () => {
    const g = newGroup();
    const p = tracker.spawn(g, sh('exec sleep 100'));
    await waitFor(() => readStat(p.identity.pid)?.comm === 'sleep');
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const q = i === 0 ? p : tracker.spawn(g, sh('exec sleep 100'));
      await waitFor(() => readStat(q.identity.pid)?.comm === 'sleep');
      const empty = tracker.whenEmpty(g);
      const t = performance.now();
      tracker.signal(q.identity, 15);
      await empty;
      samples.push(performance.now() - t);
      await q.exited;
    }
    samples.sort((a, b) => a - b);
    fig('whenEmpty after SIGTERM of the last process (median of 5)', samples[2]!, kind);
  });

  it('reports exit statuses of direct children', async () => {
    const g = newGroup();
    expect(await tracker.spawn(g, sh('exit 3')).exited).toEqual({ code: 1, status: 3 });
    const p = tracker.spawn(g, sh('exec sleep 100'));
    await waitFor(() => readStat(p.identity.pid)?.comm === 'sleep');
    expect(tracker.signal(p.identity, 15)).toBe(true);
    expect(await p.exited).toEqual({ code: 2, status: 15 });
  });

  it('reports exit statuses of double-forked orphans through watchExit', async () => {
    const g = newGroup();
    const lines: string[] = [];
    // two orphans: one exits 7 after a while, one sleeps until SIGTERM
    const p = tracker.spawn(
      g,
      sh('(sleep 0.3; exit 7) & echo $!; sleep 100 & echo $!; exit 0', {
        onOutput: (_s, l) => lines.push(l),
      }),
    );
    expect(await p.exited).toEqual({ code: 1, status: 0 });
    await waitFor(() => lines.length === 2);
    const [a, b] = lines.map(Number) as [number, number];
    const ida = tracker.identify(a)!;
    const idb = tracker.identify(b)!;
    expect(ida).not.toBeNull();
    expect(readStat(a)!.ppid).toBe(process.pid);
    const wa = tracker.watchExit(ida);
    const wb = tracker.watchExit(idb);
    expect(tracker.signal(idb, 15)).toBe(true);
    expect(await wb).toEqual({ code: 2, status: 15 });
    expect(await wa).toEqual({ code: 1, status: 7 });
    // a dead identity resolves null at once
    expect(await tracker.watchExit({ pid: a, startTime: ida.startTime + 1n })).toBeNull();
  });

  it('watchExit resolves null for a process that is not ours when it dies, and delivers a watched orphan\'s status', async () => {
    const g = newGroup();
    const lines: string[] = [];
    // the sleep's parent (the sh) outlives it and reaps it: its status is not ours to learn
    const p = tracker.spawn(g, sh('sleep 0.2 & echo $!; wait; sleep 0.2', { onOutput: (_s, l) => lines.push(l) }));
    await waitFor(() => lines.length === 1);
    const id = tracker.identify(Number(lines[0]))!;
    expect(readStat(id.pid)!.ppid).toBe(p.identity.pid);
    const t = performance.now();
    expect(await tracker.watchExit(id)).toBeNull();
    fig('watchExit(non-child) resolution after a 200 ms sleep', performance.now() - t, kind);
    await p.exited;

    // an orphan watched while it runs: re-parented to unitd when its parent exits, reaped, and
    // its status delivered (and kept for a later ask)
    const out: string[] = [];
    const q = tracker.spawn(g, sh('(sleep 0.3; exit 4) & echo $!; exit 0', { onOutput: (_s, l) => out.push(l) }));
    await waitFor(() => out.length === 1);
    const oid = tracker.identify(Number(out[0]))!;
    const status = tracker.watchExit(oid);
    await q.exited;
    expect(await status).toEqual({ code: 1, status: 4 });
    expect(tracker.identify(oid.pid)?.startTime).not.toBe(oid.startTime);
    expect(await tracker.watchExit(oid)).toEqual({ code: 1, status: 4 });
  });

  it('watchExit of a libuv child resolves from its exit event', async () => {
    const g = newGroup();
    const p = tracker.spawn(g, sh('sleep 0.1; exit 5'));
    expect(await tracker.watchExit(p.identity)).toEqual({ code: 1, status: 5 });
  });

  it('refuses to signal a dead or recycled PID', async () => {
    const g = newGroup();
    const p = tracker.spawn(g, sh('exit 0'));
    await p.exited;
    expect(tracker.identify(p.identity.pid)?.startTime ?? null).not.toBe(p.identity.startTime);
    expect(tracker.signal(p.identity, 0)).toBe(false);
    expect(tracker.queueSignal(p.identity, 10, 1)).toBe(false);
    // our own PID with a different start time stands for a recycled PID
    const me = tracker.identify(process.pid)!;
    expect(me.startTime).toBeGreaterThan(0n);
    expect(tracker.signal({ pid: process.pid, startTime: me.startTime + 1n }, 0)).toBe(false);
    expect(tracker.signal(me, 0)).toBe(true);
    expect(tracker.identify(999_999_999)).toBeNull();
    // a live child (signalled by plain kill while unreaped): only its own identity reaches it
    const live = tracker.spawn(g, sh('exec sleep 100'));
    expect(tracker.signal({ pid: live.identity.pid, startTime: live.identity.startTime + 1n }, 15)).toBe(false);
    expect(tracker.signal(live.identity, 0)).toBe(true);
    expect(tracker.signal(live.identity, 15)).toBe(true);
    expect(await live.exited).toEqual({ code: 2, status: 15 });
    expect(tracker.signal(live.identity, 0)).toBe(false);
    // a failure that is not "gone" throws with a code (EPERM: pid 1 is not ours to signal, when not
    // root; as root, use an invalid signal number instead)
    expect(() => tracker.signal(me, 99)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
  });

  it('queueSignal delivers an int value (sigqueue semantics)', async (ctx) => {
    let cc: string;
    try {
      cc = execFileSync('sh', ['-c', 'command -v cc'], { encoding: 'utf8' }).trim();
    } catch {
      ctx.skip();
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unitd-sigq-'));
    try {
      const src = path.join(dir, 'r.c');
      fs.writeFileSync(
        src,
        `#include <signal.h>
#include <stdio.h>
int main(void){sigset_t s;sigemptyset(&s);sigaddset(&s,SIGUSR1);sigprocmask(SIG_BLOCK,&s,0);
puts("ready");fflush(stdout);siginfo_t i;if(sigwaitinfo(&s,&i)<0)return 1;
printf("%d %d %d\\n",i.si_signo,i.si_code,i.si_value.sival_int);fflush(stdout);return 0;}\n`,
      );
      execFileSync(cc, ['-o', path.join(dir, 'r'), src]);
      const g = newGroup();
      const lines: string[] = [];
      const p = tracker.spawn(g, {
        path: path.join(dir, 'r'),
        argv: ['r'],
        env: ENV,
        onOutput: (_s, l) => lines.push(l),
      });
      await waitFor(() => lines.includes('ready'));
      expect(tracker.queueSignal(p.identity, 10, 4242)).toBe(true);
      expect(await p.exited).toEqual({ code: 1, status: 0 });
      await waitFor(() => lines.length === 2);
      expect(lines[1]).toBe('10 -1 4242'); // SIGUSR1, SI_QUEUE, value
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the exact argv (argv[0] included), environment, cwd and user', async () => {
    const g = newGroup();
    const collect = async (req: SpawnRequest): Promise<{ lines: string[]; exit: unknown }> => {
      const lines: string[] = [];
      const p = tracker.spawn(g, { ...req, onOutput: (_s, l) => lines.push(l) });
      const exit = await p.exited;
      await new Promise((r) => setTimeout(r, 20)); // let the pipes drain
      return { lines, exit };
    };
    const argv0 = await collect({ path: '/bin/cat', argv: ['my-cat', '/proc/self/cmdline'], env: ENV });
    expect(argv0.lines).toEqual(['my-cat\0/proc/self/cmdline\0']);
    const env = await collect({ path: '/usr/bin/env', argv: ['/usr/bin/env'], env: { FOO: 'bar', 'A': 'b c' } });
    // the order of environ entries is the shell's business; the set must be exact
    const expected = ['A=b c', 'FOO=bar'];
    if (kind === 'proc') {
      const token = env.lines.find((l) => l.startsWith('UNITD_TOKEN='));
      expect(token).toMatch(/^UNITD_TOKEN=[0-9a-f]{16}$/);
      expected.push(token!, `UNITD_UNIT=${g.unitId}`);
    }
    expect([...env.lines].sort()).toEqual(expected.sort());
    const pwdEnv = await collect({ path: '/usr/bin/env', argv: ['/usr/bin/env'], env: { PWD: '/x' }, cwd: '/tmp' });
    expect(pwdEnv.lines.filter((l) => !l.startsWith('UNITD_'))).toEqual(['PWD=/x']);
    const cdEnv = await collect({ path: '/usr/bin/env', argv: ['/usr/bin/env'], env: { X: '1' }, cwd: '/tmp' });
    expect(cdEnv.lines.filter((l) => !l.startsWith('UNITD_'))).toEqual(['X=1']);
    const cwd = await collect({ path: '/bin/pwd', argv: ['pwd'], env: ENV, cwd: '/tmp' });
    expect(cwd.lines).toEqual(['/tmp']);
    const badCwd = await collect({ path: '/bin/pwd', argv: ['pwd'], env: ENV, cwd: '/nonexistent-unitd' });
    expect(badCwd.exit).toEqual({ code: 1, status: 200 });
    const noExec = await collect({ path: '/nonexistent-unitd', argv: ['x'], env: ENV });
    expect(noExec.exit).toEqual({ code: 1, status: 127 });
    if (process.getuid?.() === 0) {
      const user = await collect({
        path: '/bin/sh',
        argv: ['/bin/sh', '-c', 'id -u; id -g; grep "^0::" /proc/self/cgroup'],
        env: ENV,
        user: 'nobody',
      });
      expect(user.lines[0]).toBe('65534');
      if (kind === 'cgroup2') expect(user.lines[2]).toBe(`0::${g.path}`);
      const stderr: string[] = [];
      const p = tracker.spawn(g, sh('echo err >&2; printf "no newline"', { onOutput: (s, l) => stderr.push(`${s}:${l}`) }));
      await p.exited;
      await waitFor(() => stderr.length === 2);
      expect(stderr.sort()).toEqual(['stderr:err', 'stdout:no newline']);
    }
  });

  it.runIf(kind === 'cgroup2')('freezes and thaws a group', async () => {
    const g = newGroup();
    // the main process handles TERM; its 5 children are plain sleeps
    const p = tracker.spawn(g, sh('for i in 1 2 3 4 5; do sleep 100 & done; trap "exit 9" TERM; echo ready; while :; do sleep 0.02; done', { onOutput: () => {} }));
    await waitFor(() => tracker.pids(g).length >= 6);
    const fr: number[] = [];
    const th: number[] = [];
    for (let i = 0; i < 10; i++) {
      let t0 = performance.now();
      await tracker.freeze(g);
      fr.push(performance.now() - t0);
      expect(tracker.isFrozen(g)).toBe(true);
      t0 = performance.now();
      await tracker.thaw(g);
      th.push(performance.now() - t0);
      expect(tracker.isFrozen(g)).toBe(false);
    }
    fr.sort((a, b) => a - b);
    th.sort((a, b) => a - b);
    fig(`freeze, 6 processes (median / max of 10, back to back with thaw)`, fr[5]!, kind);
    fig(`freeze max`, fr[9]!, kind);
    fig(`thaw, 6 processes (median / max of 10)`, th[5]!, kind);
    fig(`thaw max`, th[9]!, kind);
    let t = performance.now();
    await tracker.freeze(g);
    expect(tracker.isFrozen(g)).toBe(true);
    // a caught signal to a frozen task is acted on only after the thaw (a default-fatal signal,
    // by contrast, kills a frozen task at once: the kernel wakes frozen tasks for fatal signals)
    expect(tracker.signal(p.identity, 15)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(tracker.identify(p.identity.pid)?.startTime).toBe(p.identity.startTime);
    t = performance.now();
    await tracker.thaw(g);
    expect(tracker.isFrozen(g)).toBe(false);
    expect(await p.exited).toEqual({ code: 1, status: 9 });
  });

  it('killGroup empties a 200-process fork tree', async () => {
    const g = newGroup();
    tracker.spawn(g, sh('i=0; while [ $i -lt 200 ]; do sleep 100 & i=$((i+1)); done; exec sleep 100'));
    await waitFor(() => tracker.pids(g).filter((pid) => readStat(pid)?.comm === 'sleep').length === 201, 10000, '201 sleeps');
    const empty = tracker.whenEmpty(g);
    const t = performance.now();
    tracker.killGroup(g);
    const tWrite = performance.now() - t;
    await empty;
    fig('killGroup(201) call', tWrite, kind);
    fig('killGroup(201) until whenEmpty', performance.now() - t, kind);
    expect(tracker.pids(g)).toEqual([]);
    reaper.tick();
    await waitFor(() => ourZombies().length === 0, 3000, 'no zombies');
  });

  it('100 spawn/exit cycles leave no zombie and no leftover group', async () => {
    const g = tracker.group(`cycles-${kind}-${process.pid}.service`);
    const t = performance.now();
    let spawnCall = 0;
    for (let i = 0; i < 100; i++) {
      const t1 = performance.now();
      const p = tracker.spawn(g, i % 2 ? sh('true & exit 0') : { path: '/bin/true', argv: ['true'], env: ENV });
      spawnCall += performance.now() - t1;
      await p.exited;
    }
    fig('spawn→exit of /bin/true via the sh step (mean of 100)', (performance.now() - t) / 100, kind);
    fig('spawn() call (mean of 100)', spawnCall / 100, kind);
    await tracker.whenEmpty(g);
    reaper.tick();
    await waitFor(() => ourZombies().length === 0, 3000, 'no zombies');
    expect(tracker.remove(g)).toBe(true);
    if (tracker instanceof CgroupTracker) expect(fs.existsSync(tracker.dirOf(g))).toBe(false);
  });

  it('does not steal libuv children from child_process', async () => {
    const codes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        new Promise<number | null>((resolve) => {
          const c = nodeSpawn('/bin/sh', ['-c', `exit ${i % 5}`], { stdio: 'ignore' });
          c.on('exit', (code) => resolve(code));
          reaper.tick(); // force reaping passes while these are running/exiting
        }),
      ),
    );
    expect(codes).toEqual(Array.from({ length: 30 }, (_, i) => i % 5));
  });

  it('a libuv child first in line among the exited children: the orphans behind it are reaped in the same pass, the child is left to libuv', async () => {
    const g = newGroup();
    // the libuv child is older than the orphans, so the kernel names it first among the zombies
    const c = nodeSpawn('/bin/sh', ['-c', 'sleep 0.3; exit 3'], { stdio: 'ignore' });
    const code = new Promise<number | null>((resolve) => c.on('exit', (n) => resolve(n)));
    const q = tracker.spawn(g, sh('i=0; while [ $i -lt 40 ]; do sleep 0.4 & i=$((i+1)); done; exit 0'));
    await q.exited;
    // block the event loop (libuv cannot reap its child) until all of them have exited
    const native = getNative()!;
    const hold = new Int32Array(new SharedArrayBuffer(4));
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && (!native.childHasExited(c.pid!) || tracker.pids(g).length > 0)) Atomics.wait(hold, 0, 0, 20);
    expect(native.childHasExited(c.pid!)).toBe(true);
    expect(ourZombies().length).toBe(41);
    reaper.tick();
    expect(ourZombies()).toEqual([c.pid]);
    expect(await code).toBe(3);
  });

  it('remove() refuses a group that still has processes', async () => {
    const g = newGroup();
    const p = tracker.spawn(g, sh('exec sleep 100'));
    await waitFor(() => tracker.pids(g).length === 1);
    expect(tracker.remove(g)).toBe(false);
    tracker.signal(p.identity, 9);
    await tracker.whenEmpty(g);
  });
});

describe.runIf(HAVE_CGROUP2)('cgroup2 subtree lifecycle', () => {
  it('close() removes the subtree; unit names are escaped', async () => {
    const t = new CgroupTracker();
    expect(t.rootPath).toMatch(new RegExp(`/unitd-${process.pid}(-\\d+)?\\.slice$`));
    const g = t.group('weird/name\\x2d.service');
    const g2 = t.group('cgroup.procs');
    expect(path.basename(g.path)).toBe('weird\\x2fname\\x5cx2d.service');
    expect(path.basename(g2.path)).toBe('_cgroup.procs');
    const p = t.spawn(g, sh('exec sleep 100'));
    await waitFor(() => t.pids(g).length === 1);
    expect(t.unitOfPid(p.identity.pid)).toBe('weird/name\\x2d.service');
    t.killGroup(g);
    await t.whenEmpty(g);
    await t.close();
    expect(fs.existsSync(t.rootDir)).toBe(false);
  });

  it('pids() sees child cgroups, and a group removed and made again is read afresh', async () => {
    const t = new CgroupTracker();
    const g = t.group('reread.service');
    const dir = t.dirOf(g);
    const a = t.spawn(g, sh('exec sleep 100'));
    await waitFor(() => t.pids(g).length === 1);
    // a process moved into a child cgroup (as a delegated service would) is still the unit's
    fs.mkdirSync(path.join(dir, 'sub'));
    const b = t.spawn(g, sh('exec sleep 100'));
    await waitFor(() => t.pids(g).length === 2);
    fs.writeFileSync(path.join(dir, 'sub', 'cgroup.procs'), String(b.identity.pid));
    expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()).toBe(String(a.identity.pid));
    expect(t.pids(g).sort()).toEqual([a.identity.pid, b.identity.pid].sort());
    t.killGroup(g);
    await t.whenEmpty(g);
    fs.rmdirSync(path.join(dir, 'sub'));
    expect(t.remove(g)).toBe(true);
    expect(t.pids(g)).toEqual([]);
    // made again under the same name: the old descriptor of cgroup.procs must not be trusted
    const g2 = t.group('reread.service');
    const c = t.spawn(g2, sh('exec sleep 100'));
    await waitFor(() => t.pids(g2).length === 1);
    expect(t.pids(g2)).toEqual([c.identity.pid]);
    t.killGroup(g2);
    await t.whenEmpty(g2);
    await t.close();
    expect(fs.existsSync(t.rootDir)).toBe(false);
  });

  it('keeps the descriptors (cgroup.procs, cgroup.stat) of at most 256 groups open, however many groups are read', async () => {
    const t = new CgroupTracker();
    const openProcs = (): number =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(t.rootDir + '/');
        } catch {
          return false;
        }
      }).length;
    const groups = Array.from({ length: 300 }, (_, i) => t.group(`many-${i}.service`));
    for (const g of groups) expect(t.pids(g)).toEqual([]);
    expect(openProcs()).toBe(2 * 256);
    // the oldest were closed, and read again they still answer
    expect(t.pids(groups[0]!)).toEqual([]);
    expect(openProcs()).toBe(2 * 256);
    for (const g of groups) t.remove(g);
    expect(openProcs()).toBe(0);
    await t.close();
    expect(fs.existsSync(t.rootDir)).toBe(false);
  });

  it('the environment variable forces the /proc fallback', async () => {
    const saved = process.env.UNITD_TRACKER;
    process.env.UNITD_TRACKER = 'proc';
    try {
      const t = createProcessTracker();
      expect(t.kind).toBe('proc');
      expect(t.rootPath).toBe('');
      expect(t.canFreeze).toBe(false);
      await t.close();
    } finally {
      if (saved === undefined) delete process.env.UNITD_TRACKER;
      else process.env.UNITD_TRACKER = saved;
    }
  });
});

describe('proc tracker: the end of a unit is found without polling /proc every few ms', () => {
  let tracker: ProcTracker;
  let n = 0;
  const newGroup = (): ProcessGroup => tracker.group(`test-proc-quiet-${process.pid}-${n++}.service`);

  beforeAll(() => {
    tracker = new ProcTracker();
  });

  afterAll(async () => {
    await tracker.close();
  });

  it('scans /proc at most once a second while a unit runs and nothing happens', async () => {
    const g = newGroup();
    const p = tracker.spawn(g, sh('exec sleep 100'));
    await waitFor(() => readStat(p.identity.pid)?.comm === 'sleep', 5000, 'sleep');
    const empty = tracker.whenEmpty(g);
    const before = tracker.scanCount;
    await new Promise((r) => setTimeout(r, 700));
    // a 50 ms poll made 14 scans here (and an idle unitd spent 28% of a CPU with 1000 processes)
    expect(tracker.scanCount - before).toBeLessThanOrEqual(1);
    // the main process is our child: its end comes with a SIGCHLD, and the reaper pass re-checks
    expect(tracker.signal(p.identity, 15)).toBe(true);
    await empty;
    expect(await p.exited).toEqual({ code: 2, status: 15 });
    expect(tracker.remove(g)).toBe(true);
  });

  it('still finds the end of a process whose parent is outside the unit and not unitd (the safety poll)', async () => {
    const g = newGroup();
    // an unmarked parent (the test's own child, ending as `sleep 101`) of a marked process: when the
    // marked one dies, its parent gets the SIGCHLD, not us
    const outer = nodeSpawn(
      '/bin/sh',
      ['-c', `env ${MARKER_UNIT}=${g.unitId} ${MARKER_TOKEN}=${tracker.token} sleep 100 & echo $!; exec sleep 101`],
      { env: ENV, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const outerExit = new Promise<void>((r) => outer.once('exit', () => r()));
    try {
      const marked = Number(await new Promise<string>((r) => outer.stdout!.once('data', (d: Buffer) => r(d.toString().trim()))));
      // a scan caches a process's marker by identity: look only once it has exec'd with its environment
      await waitFor(() => readStat(marked)?.comm === 'sleep', 5000, 'the marked sleep');
      expect(tracker.pids(g)).toEqual([marked]);
      const empty = tracker.whenEmpty(g);
      process.kill(marked, 'SIGKILL');
      await empty;
      expect(tracker.pids(g)).toEqual([]);
      expect(tracker.remove(g)).toBe(true);
    } finally {
      outer.kill('SIGKILL');
      await outerExit;
    }
  });
});
