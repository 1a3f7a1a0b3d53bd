// Stop, restart and reload inside a container: every KillMode (who gets which signal, who is left,
// checked with ps inside), the capture of a double-forked escapee, stop timeouts, restart (a new main
// process) and reload (ExecReload reaches the main process; no reload where none is defined).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEST, MANAGER_IFACE, MANAGER_PATH, UnitdContainer } from './harness.js';
import { FAMILY, RECORDER, lines } from './scripts.js';

let ct: UnitdContainer;

function familyUnit(name: string, killMode: string | null, extra = ''): string {
  return (
    `[Unit]\nDescription=KillMode ${killMode ?? 'default'} demo\n[Service]\n` +
    `ExecStart=/opt/test/family.sh /run/${name}.log\n` +
    (killMode ? `KillMode=${killMode}\n` : '') +
    'TimeoutStopSec=5\n' +
    extra
  );
}

beforeAll(async () => {
  ct = await UnitdContainer.start({
    units: {
      'km-cgroup.service': familyUnit('km-cgroup', null),
      'km-mixed.service': familyUnit('km-mixed', 'mixed'),
      'km-process.service': familyUnit('km-process', 'process'),
      'km-none.service': familyUnit('km-none', 'none'),
      'reload-demo.service': familyUnit('reload-demo', null, 'ExecReload=/bin/kill -HUP $MAINPID\n'),
      'escape.service': '[Unit]\nDescription=Double-forks an escapee\n[Service]\nExecStart=/opt/test/escape.sh\n',
    },
    scripts: {
      'recorder.sh': RECORDER,
      'family.sh': FAMILY,
      // the escapee: setsid'd in a subshell that exits at once, so it is re-parented to PID 1
      'escape.sh': '#!/bin/sh\n( /usr/bin/setsid /bin/sleep 100003 </dev/null >/dev/null 2>&1 & )\nexec /bin/sleep 100004\n',
    },
  });
}, 120_000);

afterAll(async () => {
  await ct?.stop();
});

async function log(name: string): Promise<string[]> {
  return lines((await ct.sh(`cat /run/${name}.log 2>/dev/null || true`)).stdout);
}

async function startFamily(name: string): Promise<void> {
  const r = await ct.systemctl('start', `${name}.service`);
  expect(r.code, r.stderr).toBe(0);
  await ct.until(`${name} recorders`, async () => {
    const l = await log(name);
    return l.includes('main ready') && l.includes('child ready');
  });
}

/** recorder processes (main/child) still alive for this unit's log */
async function survivors(name: string): Promise<string[]> {
  return (await ct.live(`/run/${name}.log`)).filter((p) => p.args.includes('recorder.sh')).map((p) => p.args.split(' ')[2]!);
}

describe('stop with each KillMode', () => {
  it('control-group (default): SIGTERM to main and child, both gone', async () => {
    await startFamily('km-cgroup');
    const r = await ct.systemctl('stop', 'km-cgroup');
    expect(r.code, r.stderr).toBe(0);
    expect(await log('km-cgroup')).toEqual(expect.arrayContaining(['main TERM', 'child TERM']));
    expect(await survivors('km-cgroup')).toEqual([]);
    expect(await ct.show('km-cgroup.service', 'ActiveState')).toBe('inactive');
    expect(await ct.show('km-cgroup.service', 'Result')).toBe('success');
  });

  it('mixed: SIGTERM to main only, the child is SIGKILLed', async () => {
    await startFamily('km-mixed');
    const r = await ct.systemctl('stop', 'km-mixed');
    expect(r.code, r.stderr).toBe(0);
    const l = await log('km-mixed');
    expect(l).toContain('main TERM');
    expect(l).not.toContain('child TERM');
    expect(await survivors('km-mixed')).toEqual([]);
    expect(await ct.show('km-mixed.service', 'ActiveState')).toBe('inactive');
  });

  it('process: SIGTERM to main only, the child survives the stop', async () => {
    await startFamily('km-process');
    const r = await ct.systemctl('stop', 'km-process');
    expect(r.code, r.stderr).toBe(0);
    const l = await log('km-process');
    expect(l).toContain('main TERM');
    expect(l).not.toContain('child TERM');
    expect(await survivors('km-process')).toEqual(['child']);
    expect(await ct.show('km-process.service', 'ActiveState')).toBe('inactive');
    await ct.sh("pkill -KILL -f '/run/km-process.log' || true");
  });

  it('none: nothing is signalled, main and child survive, the unit is inactive', async () => {
    await startFamily('km-none');
    const r = await ct.systemctl('stop', 'km-none');
    expect(r.code, r.stderr).toBe(0);
    const l = await log('km-none');
    expect(l.filter((x) => x.endsWith('TERM'))).toEqual([]);
    expect((await survivors('km-none')).sort()).toEqual(['child', 'main']);
    expect(await ct.show('km-none.service', 'ActiveState')).toBe('inactive');
    await ct.sh("pkill -KILL -f '/run/km-none.log' || true");
  });

  it('a unit that ignores SIGTERM is SIGKILLed after TimeoutStopSec and ends failed (timeout)', async () => {
    expect((await ct.systemctl('start', 'stubborn-demo')).code).toBe(0);
    const main = Number(await ct.show('stubborn-demo.service', 'MainPID'));
    expect(main).toBeGreaterThan(1);
    const t0 = Date.now();
    const r = await ct.systemctl('stop', 'stubborn-demo');
    const took = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(took).toBeGreaterThanOrEqual(1_800);
    expect(took).toBeLessThan(8_000);
    expect(await ct.show('stubborn-demo.service', 'ActiveState')).toBe('failed');
    expect(await ct.show('stubborn-demo.service', 'Result')).toBe('timeout');
    expect((await ct.ps()).some((p) => p.pid === main && !p.stat.startsWith('Z'))).toBe(false);
    expect((await ct.systemctl('reset-failed', 'stubborn-demo')).code).toBe(0);
  });

  it('mixed-demo (project unit): ExecStopPost sees how the service ended', async () => {
    expect((await ct.systemctl('start', 'mixed-demo')).code).toBe(0);
    expect((await ct.systemctl('stop', 'mixed-demo')).code).toBe(0);
    const r = await ct.sh('cat /run/mixed-demo.stopped');
    expect(r.stdout).toBe('result=success code=exited status=0\n');
  });
});

describe('escape capture', () => {
  it('a double-forked, setsid escapee re-parented to PID 1 is killed by stop', async () => {
    const r = await ct.systemctl('start', 'escape.service');
    expect(r.code, r.stderr).toBe(0);
    await ct.until('the escapee', async () => (await ct.live('sleep 100003')).length === 1);
    const [escapee] = await ct.live('sleep 100003');
    expect(escapee!.ppid).toBe(1); // it really left the unit's process tree
    const stop = await ct.systemctl('stop', 'escape.service');
    expect(stop.code, stop.stderr).toBe(0);
    expect(await ct.live('sleep 100003')).toEqual([]);
    expect(await ct.live('sleep 100004')).toEqual([]);
    const ps = await ct.exec(['ps', '-eo', 'stat,pid,ppid,comm']);
    expect(ps.stdout).not.toMatch(/^\s*Z/m);
  });
});

describe('restart', () => {
  it('systemctl restart: a new main process, the old one is gone, active again', async () => {
    expect((await ct.systemctl('start', 'crond-demo')).code).toBe(0);
    const before = Number(await ct.show('crond-demo.service', 'MainPID'));
    const r = await ct.systemctl('restart', 'crond-demo');
    expect(r.code, r.stderr).toBe(0);
    const after = Number(await ct.show('crond-demo.service', 'MainPID'));
    expect(after).toBeGreaterThan(1);
    expect(after).not.toBe(before);
    expect((await ct.ps()).some((p) => p.pid === before && !p.stat.startsWith('Z'))).toBe(false);
    expect(await ct.show('crond-demo.service', 'ActiveState')).toBe('active');
  });

  it('busctl RestartUnit answers with a job path; the unit ends active with another main process', async () => {
    const before = Number(await ct.show('crond-demo.service', 'MainPID'));
    const r = await ct.callManager('RestartUnit', 'ss', 'crond-demo.service', 'replace');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^o "\/org\/freedesktop\/systemd1\/job\/\d+"$/);
    await ct.until('the restart', async () => {
      const pid = Number(await ct.show('crond-demo.service', 'MainPID'));
      return pid > 1 && pid !== before && (await ct.show('crond-demo.service', 'ActiveState')) === 'active';
    });
    expect((await ct.systemctl('stop', 'crond-demo')).code).toBe(0);
  });

  it('restart of a stopped unit starts it', async () => {
    expect((await ct.systemctl('restart', 'km-cgroup')).code).toBe(0);
    expect(await ct.show('km-cgroup.service', 'ActiveState')).toBe('active');
    expect((await ct.systemctl('stop', 'km-cgroup')).code).toBe(0);
  });
});

describe('reload', () => {
  it('systemctl reload runs ExecReload: the main process gets SIGHUP and keeps running', async () => {
    await startFamily('reload-demo');
    const main = await ct.show('reload-demo.service', 'MainPID');
    const r = await ct.systemctl('reload', 'reload-demo');
    expect(r.code, r.stderr).toBe(0);
    await ct.until('main HUP', async () => (await log('reload-demo')).includes('main HUP'));
    expect(await log('reload-demo')).not.toContain('child HUP');
    expect(await ct.show('reload-demo.service', 'MainPID')).toBe(main);
    expect(await ct.show('reload-demo.service', 'ActiveState')).toBe('active');
  });

  it('gdbus ReloadUnit answers with a job path', async () => {
    const r = await ct.gdbus('call', '--dest', DEST, '--object-path', MANAGER_PATH, '--method', `${MANAGER_IFACE}.ReloadUnit`, 'reload-demo.service', 'replace');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\(objectpath '\/org\/freedesktop\/systemd1\/job\/\d+',\)$/);
    await ct.until('a second HUP', async () => (await log('reload-demo')).filter((l) => l === 'main HUP').length === 2);
  });

  it('reload of a unit without ExecReload: job type not applicable', async () => {
    expect((await ct.systemctl('start', 'km-cgroup')).code).toBe(0);
    const r = await ct.systemctl('reload', 'km-cgroup');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Job type reload is not applicable for unit km-cgroup.service.');
    expect(await ct.show('km-cgroup.service', 'ActiveState')).toBe('active');
  });

  it('reload of an inactive unit fails: the unit is not active', async () => {
    expect((await ct.systemctl('stop', 'reload-demo')).code).toBe(0);
    const r = await ct.systemctl('reload', 'reload-demo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('reload-demo.service is not active, cannot reload.');
  });
});
