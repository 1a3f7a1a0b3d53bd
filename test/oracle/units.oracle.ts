// Checks every example unit in units/ against real systemd 252: it loads cleanly
// (LoadState=loaded, no LoadError, no warnings in the manager log about it), starts, and stops,
// and the kill/stop behaviour each one is meant to show is what systemd 252 does.
//   npx vitest run --config test/oracle/vitest.oracle.config.ts units
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleUnitNames, oracleAvailable, startOracle, type Oracle } from './oracle.js';

const UNITS_DIR = fileURLToPath(new URL('../../units', import.meta.url));

describe.skipIf(!oracleAvailable())('units/ under systemd 252', () => {
  let o: Oracle;
  beforeAll(async () => {
    o = await startOracle({ unitDirs: [UNITS_DIR] });
  });
  afterAll(async () => {
    await o?.stop();
  });

  for (const unit of exampleUnitNames(UNITS_DIR)) {
    it(`${unit} loads, starts and stops`, async () => {
      const show = await o.systemctl(['show', '-p', 'LoadState,LoadError,ActiveState', unit]);
      expect(show.stdout).toContain('LoadState=loaded\n');
      expect(show.stdout).not.toMatch(/^LoadError=./m);
      const start = await o.systemctl(['start', unit]);
      expect(start.stderr).toBe('');
      expect(start.code).toBe(0);
      const active = await o.systemctl(['show', '-p', 'ActiveState,SubState,MainPID', unit]);
      expect(active.stdout).toContain('ActiveState=active\n');
      const stop = await o.systemctl(['stop', unit]);
      expect(stop.code).toBe(0);
      const after = await o.systemctl(['show', '-p', 'ActiveState', unit]);
      expect(after.stdout).toMatch(/ActiveState=(inactive|failed)/);
      const log = readFileSync(join(o.tmpDir, 'systemd.log'), 'utf8');
      const stem = unit.replace(/@.*$/, '@');
      // warnings only (journal priority 0-4): the info lines carry the units' descriptions
      expect(log.split('\n').filter((l) => l.includes(stem) && /^<[0-4]>/.test(l) && /warn|ignor|invalid|unknown/i.test(l))).toEqual([]);
    });
  }
});

describe.skipIf(!oracleAvailable())('units/ stop behaviour under systemd 252', () => {
  let o: Oracle;
  beforeAll(async () => {
    o = await startOracle({ unitDirs: [UNITS_DIR] });
  });
  afterAll(async () => {
    await o?.stop();
  });
  const props = async (unit: string, p: string): Promise<Record<string, string>> => {
    const r = await o.systemctl(['show', '-p', p, unit]);
    return Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  };
  const cgroupProcs = (unit: string): string[] => {
    const f = join(o.cgroupDir, 'app.slice', unit, 'cgroup.procs');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
  };
  const runtimeFile = (name: string): string => readFileSync(join(o.runtimeDir, name), 'utf8').trim();

  it('stubborn-demo: SIGTERM ignored, SIGKILL after TimeoutStopSec=2, ends failed/timeout', async () => {
    expect((await o.systemctl(['start', 'stubborn-demo.service'])).code).toBe(0);
    const t0 = Date.now();
    expect((await o.systemctl(['stop', 'stubborn-demo.service'])).code).toBe(0); // stop exits 0 even so
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(await props('stubborn-demo.service', 'ActiveState,Result')).toEqual({ ActiveState: 'failed', Result: 'timeout' });
    await o.systemctl(['reset-failed', 'stubborn-demo.service']);
  });

  it('sshd-demo: reload keeps the main process, stop leaves the session in the cgroup', async () => {
    expect((await o.systemctl(['start', 'sshd-demo.service'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    const { MainPID } = await props('sshd-demo.service', 'MainPID');
    expect((await o.systemctl(['reload', 'sshd-demo.service'])).code).toBe(0);
    expect((await props('sshd-demo.service', 'MainPID,ActiveState'))).toEqual({ MainPID, ActiveState: 'active' });
    expect((await o.systemctl(['stop', 'sshd-demo.service'])).code).toBe(0);
    expect((await props('sshd-demo.service', 'ActiveState')).ActiveState).toBe('inactive');
    expect(cgroupProcs('sshd-demo.service').length).toBeGreaterThanOrEqual(1);
  });

  it('mixed-demo: main exits on SIGTERM, the rest is SIGKILLed, ExecStopPost runs', async () => {
    expect((await o.systemctl(['start', 'mixed-demo.service'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect((await o.systemctl(['stop', 'mixed-demo.service'])).code).toBe(0);
    expect(cgroupProcs('mixed-demo.service')).toEqual([]);
    expect(runtimeFile('mixed-demo.stopped')).toBe('result=success code=exited status=0');
  });

  it('forking-demo: MainPID comes from the PID file, ExecStop kills $MAINPID', async () => {
    expect((await o.systemctl(['start', 'forking-demo.service'])).code).toBe(0);
    const { MainPID } = await props('forking-demo.service', 'MainPID');
    expect(MainPID).toBe(runtimeFile('forking-demo.pid'));
    expect((await o.systemctl(['stop', 'forking-demo.service'])).code).toBe(0);
    expect(await props('forking-demo.service', 'ActiveState,Result')).toEqual({ ActiveState: 'inactive', Result: 'success' });
  });

  it('ufw-demo: active (exited) without processes, ExecStop undoes it', async () => {
    expect((await o.systemctl(['start', 'ufw-demo.service'])).code).toBe(0);
    expect(await props('ufw-demo.service', 'ActiveState,SubState,MainPID')).toEqual({
      ActiveState: 'active', SubState: 'exited', MainPID: '0',
    });
    expect(runtimeFile('ufw-demo.state')).toBe('enabled');
    expect((await o.systemctl(['stop', 'ufw-demo.service'])).code).toBe(0);
    expect(runtimeFile('ufw-demo.state')).toBe('disabled');
  });

  it('echo-demo@hello: specifiers expanded per instance', async () => {
    expect((await o.systemctl(['start', 'echo-demo@hello.service'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(runtimeFile('echo-demo-hello.out')).toBe('instance=hello prefix=echo-demo unit=echo-demo@hello.service');
    expect((await o.systemctl(['stop', 'echo-demo@hello.service'])).code).toBe(0);
  });

  it('crond-demo: drop-in applied (SendSIGHUP=yes), stop empties the cgroup', async () => {
    expect((await props('crond-demo.service', 'SendSIGHUP,DropInPaths')).SendSIGHUP).toBe('yes');
    expect((await o.systemctl(['start', 'crond-demo.service'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    expect(cgroupProcs('crond-demo.service').length).toBeGreaterThanOrEqual(2);
    expect((await o.systemctl(['stop', 'crond-demo.service'])).code).toBe(0);
    expect(cgroupProcs('crond-demo.service')).toEqual([]);
    expect((await props('crond-demo.service', 'Result')).Result).toBe('success');
  });
});
