// launch's own intermediate step is recognisable in /proc/PID/cmdline, and Type=exec's detection
// does not take it (or a process caught inside execve()) for the command: the step is held at its
// first redirection by a FIFO standing in for cgroup.procs, looked at, then let go to exec the
// real command. Processes are ended by PID.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLaunchStep, launch } from '../../../src/processes/launch.js';
import { hasExeced } from '../../../src/services/exec-detection.js';

const cmdline = (pid: number): string[] => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);

async function waitFor(pred: () => boolean, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > 5000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('launch steps', () => {
  it('the shell step is a launch step until it execs the command; the command is not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unitd-launch-'));
    execFileSync('mkfifo', [path.join(dir, 'cgroup.procs')]);
    const p = launch({ path: '/bin/sleep', argv: ['/bin/sleep', '100'], env: { PATH: '/usr/bin:/bin' } }, { cgroupDir: dir });
    try {
      // held at `echo $$ > "$1/cgroup.procs"` until somebody reads the FIFO
      await waitFor(() => cmdline(p.identity.pid).includes('/bin/sleep'), 'the step to run');
      const step = cmdline(p.identity.pid);
      expect(step.slice(-2)).toEqual(['/bin/sleep', '100']); // ends like an interpreter running the command
      expect(isLaunchStep(step)).toBe(true);
      expect(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()).toBe(String(p.identity.pid));
      await waitFor(() => cmdline(p.identity.pid)[0] === '/bin/sleep', 'the exec');
      expect(isLaunchStep(cmdline(p.identity.pid))).toBe(false);
      expect(isLaunchStep(['/bin/sh', '-c', 'sleep 1'])).toBe(false);
      expect(isLaunchStep(['/bin/sh', '/usr/local/bin/script.sh', '/bin/sleep', '100'])).toBe(false);
    } finally {
      process.kill(p.identity.pid, 'SIGKILL');
      await p.exited;
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('Type=exec detection', () => {
  it('false in the launch step and while a process has no command line (as inside execve), true after the exec, null once a zombie or gone', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'unitd-exec-detect-'));
    execFileSync('mkfifo', [path.join(dir, 'cgroup.procs')]);
    const launched = { path: '/bin/sleep', argv: ['/bin/sleep', '100'] };
    const p = launch({ ...launched, env: { PATH: '/usr/bin:/bin' } }, { cgroupDir: dir });
    // a zombie: the `sleep 0` child of a process that never waits for it (an exec'd sleep)
    const holder = spawn('/bin/sh', ['-c', 'sleep 0 & echo $!; exec sleep 100 >/dev/null'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = await new Promise<number>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    try {
      await waitFor(() => cmdline(p.identity.pid).includes('/bin/sleep'), 'the step to run');
      expect(hasExeced(p.identity.pid, launched)).toBe(false);
      fs.readFileSync(path.join(dir, 'cgroup.procs'));
      await waitFor(() => hasExeced(p.identity.pid, launched) === true, 'the exec to be seen');
      // kthreadd (PID 2) is alive with an empty command line: what a process inside execve() shows
      expect(fs.readFileSync('/proc/2/cmdline', 'utf8')).toBe('');
      expect(hasExeced(2, launched)).toBe(false);
      await waitFor(() => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').includes(') Z '), 'the zombie');
      expect(hasExeced(zombie, launched)).toBeNull();
      process.kill(p.identity.pid, 'SIGKILL');
      await p.exited;
      expect(hasExeced(p.identity.pid, launched)).toBeNull();
    } finally {
      for (const pid of [p.identity.pid, holder.pid!]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* ended above */
        }
      }
      fs.rmSync(dir, { recursive: true });
    }
  });
});

describe('RLIMIT_NOFILE of a launched process', () => {
  async function limitsSeen(nofile: { soft: bigint; hard: bigint }): Promise<string[]> {
    const lines: string[] = [];
    const p = launch({
      path: '/bin/sh',
      argv: ['/bin/sh', '-c', 'echo "$(ulimit -S -n) $(ulimit -H -n)"'],
      env: { PATH: '/usr/bin:/bin' },
      nofile,
      onOutput: (_stream, line) => lines.push(line),
    });
    expect(await p.exited).toEqual({ code: 1, status: 0 });
    await new Promise((r) => setTimeout(r, 20)); // the last line may follow the exit
    return lines[0]!.split(' ');
  }

  it('gets the soft and hard limits asked for (here below the current ones)', async () => {
    expect(await limitsSeen({ soft: 100n, hard: 2000n })).toEqual(['100', '2000']);
  });

  it('a hard limit the kernel refuses (above fs.nr_open) leaves the hard limit as it was and caps the soft one by it', async () => {
    const own = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))!.slice(1, 3);
    const nrOpen = BigInt(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8').trim());
    const ownHard = own[1] === 'unlimited' ? Infinity : Number(own[1]);
    expect(await limitsSeen({ soft: 1024n, hard: nrOpen + 1n })).toEqual([String(Math.min(1024, ownHard)), own[1]]);
  });
});
