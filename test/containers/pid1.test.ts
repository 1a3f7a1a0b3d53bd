// unitd as a container's PID 1 (--system-manager): the plain systemctl finds it with no tricks,
// orphans are reaped, and the container's stop signal stops every unit (ExecStop runs) before
// unitd exits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnitdContainer } from './harness.js';

let ct: UnitdContainer;

beforeAll(async () => {
  ct = await UnitdContainer.start({
    shared: true,
    units: {
      // leaves five grandchildren behind: each subshell exits at once, so its orphan.sh is
      // re-parented to PID 1 (unitd), which must reap it when it ends (once /run/orphans-go exists)
      'orphan-maker.service': '[Service]\nExecStart=/opt/test/orphans.sh unit\n',
      // ExecStop leaves a marker in the host directory: proves the stop ran at container stop
      'marker.service':
        '[Unit]\nDescription=Writes a marker when stopped\n[Service]\nExecStart=/bin/sleep 100000\n' +
        'ExecStop=/bin/sh -c \'echo "stopped main=$MAINPID" >/shared/marker\'\n',
      // a plain service with a child, to see that every unit goes down with the container
      'worker.service': "[Service]\nExecStart=/bin/sh -c '/bin/sleep 100001 & exec /bin/sleep 100002'\n" +
        "ExecStopPost=/bin/sh -c 'echo \"$SERVICE_RESULT\" >/shared/worker.result'\n",
    },
    scripts: {
      // orphans.sh TAG [exit]: five double-forked orphan.sh; then sleeps (or exits with "exit")
      'orphans.sh': '#!/bin/sh\nfor i in 1 2 3 4 5; do ( /opt/test/orphan.sh "$1" & ) ; done\n[ "$2" = exit ] || exec /bin/sleep 100000\n',
      // orphan.sh TAG: waits for /run/orphans-go-TAG, then exits
      'orphan.sh': '#!/bin/sh\nwhile [ ! -e "/run/orphans-go-$1" ]; do /bin/sleep 0.05; done\n',
    },
  });
}, 120_000);

afterAll(async () => {
  await ct?.stop();
  ct?.cleanup();
});

/** the live orphan.sh processes of this tag */
function orphans(tag: string) {
  return ct.live(`/opt/test/orphan.sh ${tag}`);
}

describe('unitd is the system manager', () => {
  it('runs as PID 1 and has created /run/systemd/system; /run/systemd/private is absent', async () => {
    const r = await ct.sh('cat /proc/1/cmdline | tr "\\0" " "; echo; test -d /run/systemd/system && echo booted; test -e /run/systemd/private || echo no-private');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^node \/opt\/unitd\/dist\/cli\/main\.js --system-manager /);
    expect(r.stdout).toContain('booted');
    expect(r.stdout).toContain('no-private');
    expect(ct.logs()).toMatch(/"ground":"pid1","created":true,"msg":"acting as the system manager"/);
  });

  it('the plain systemctl works with an empty environment (sd_booted, system bus, no chroot)', async () => {
    const r = await ct.exec(['env', '-i', 'PATH=/usr/bin:/bin', 'systemctl', '--no-pager', 'start', 'worker.service']);
    expect(r.code, r.stderr).toBe(0);
    const a = await ct.exec(['env', '-i', 'PATH=/usr/bin:/bin', 'systemctl', 'is-active', 'worker.service']);
    expect(a.stdout.trim()).toBe('active');
  });
});

describe('orphans', () => {
  it('reaps double-forked grandchildren of a unit: no zombie left', async () => {
    const r = await ct.systemctl('start', 'orphan-maker.service');
    expect(r.code, r.stderr).toBe(0);
    // the grandchildren really were re-parented to PID 1
    await ct.until('five orphans', async () => (await orphans('unit')).length === 5);
    expect((await orphans('unit')).map((p) => p.ppid)).toEqual([1, 1, 1, 1, 1]);
    expect((await ct.sh('touch /run/orphans-go-unit')).code).toBe(0);
    await ct.until('the orphans to end', async () => (await ct.ps()).every((p) => !p.args.includes('orphan.sh unit')), 10_000);
    const ps = await ct.exec(['ps', '-eo', 'stat,pid,ppid,comm']);
    expect(ps.stdout.split('\n').slice(1).filter((l) => /^\s*Z/.test(l))).toEqual([]);
  });

  it('reaps orphans that belong to no unit (a double fork from podman exec)', async () => {
    const r = await ct.exec(['/opt/test/orphans.sh', 'exec', 'exit']);
    expect(r.code).toBe(0);
    await ct.until('five orphans', async () => (await orphans('exec')).length === 5);
    expect((await orphans('exec')).map((p) => p.ppid)).toEqual([1, 1, 1, 1, 1]);
    expect((await ct.sh('touch /run/orphans-go-exec')).code).toBe(0);
    await ct.until('the orphans to end', async () => (await ct.ps()).every((p) => !p.args.includes('orphan.sh exec')), 10_000);
    const zombies = (await ct.ps()).filter((p) => p.stat.startsWith('Z'));
    expect(zombies).toEqual([]);
  });
});

describe('container stop', () => {
  it('stops every unit (ExecStop, ExecStopPost run) before unitd exits', async () => {
    expect((await ct.systemctl('start', 'marker.service')).code).toBe(0);
    const mainPid = await ct.show('marker.service', 'MainPID');
    expect(Number(mainPid)).toBeGreaterThan(1);
    expect(existsSync(join(ct.sharedDir, 'marker'))).toBe(false);
    const t0 = Date.now();
    const { exitCode, log } = await ct.stopKeepingFiles(20_000);
    const took = Date.now() - t0;
    expect(readFileSync(join(ct.sharedDir, 'marker'), 'utf8')).toBe(`stopped main=${mainPid}\n`);
    expect(readFileSync(join(ct.sharedDir, 'worker.result'), 'utf8')).toBe('success\n');
    // unitd exited on its own, with 0, after the stop (not SIGKILLed after the 20 s grace period)
    expect(exitCode).toBe(0);
    expect(took).toBeLessThan(10_000);
    // in time order (pino writes asynchronously: at exit, lines can reach the log out of order)
    type Entry = { time: number; msg: string; unit?: string; activeState?: string; signal?: string };
    const entries = log.split('\n').flatMap((l): Entry[] => {
      try {
        return l.startsWith('{') ? [JSON.parse(l) as Entry] : [];
      } catch {
        return []; // not a pino line
      }
    });
    const when = (pred: (e: (typeof entries)[number]) => boolean): number => entries.find(pred)?.time ?? NaN;
    const stopping = when((e) => e.msg === 'stopping' && e.signal === 'SIGTERM');
    const markerStopped = when((e) => e.unit === 'marker.service' && e.activeState === 'inactive');
    const workerStopped = when((e) => e.unit === 'worker.service' && e.activeState === 'inactive');
    const stopped = when((e) => e.msg === 'stopped');
    expect(stopping).toBeGreaterThan(0);
    expect(markerStopped).toBeGreaterThanOrEqual(stopping);
    expect(workerStopped).toBeGreaterThanOrEqual(stopping);
    expect(stopped).toBeGreaterThanOrEqual(Math.max(markerStopped, workerStopped));
  });
});
