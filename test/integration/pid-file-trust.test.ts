// Which PID a PIDFile= may make a service's main process (issue 13, items 2 and 3), side by side
// with systemd 252 (service_load_pid_file, service_is_suitable_main_pid): a process of the unit
// is always fine; one outside it only when the PID file is owned by root and was reached through
// a safe path; never the manager itself or PID 1. A refused PID leaves a forking service waiting
// for a better PID file until its group is empty, then failed with Result=protocol, and the
// process it named untouched (before the fix unitd adopted it and StopUnit killed it). unitd also
// refuses the bus daemon it started, and never reads a PID file that is not a regular file
// (PIDFile=/dev/zero crashed it, a FIFO would block it; systemd would block on the FIFO too).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lchownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { busctl } from '../helpers/clients.js';
import { startUnitd } from '../helpers/unitd-process.js';
import { alive, expectSame, killPid, onBothSides, removeDir, startOracleSide, startUnitdSide, unitDir, waitUntil, type Side, type UnitdSide } from './start-support.js';

const NOBODY = 65534;
const PROPS = ['ActiveState', 'SubState', 'Result', 'MainPID'];

/** a forking service whose ExecStart copies `source` to the PID file (chowned to `owner`) and leaves `leave` running */
const forking = (work: string, name: string, opts: { owner?: number; pidFile?: string; leave?: boolean } = {}): string => {
  const pidFile = opts.pidFile ?? `${work}/${name}.pid`;
  const chown = opts.owner !== undefined ? `; chown ${opts.owner} ${pidFile}` : '';
  const leave = opts.leave ? '; sleep 1000 &' : '';
  return `[Service]\nType=forking\nTimeoutStartSec=5\nPIDFile=${pidFile}\nExecStart=/bin/sh -c 'cat ${work}/${name}.src > ${pidFile}${chown}${leave}'\n`;
};

const units = (work: string): Record<string, string> => ({
  'pt-nobody.service': forking(work, 'pt-nobody', { owner: NOBODY }),
  'pt-nobody-busy.service': forking(work, 'pt-nobody-busy', { owner: NOBODY, leave: true }),
  'pt-root.service': forking(work, 'pt-root'),
  'pt-manager.service': forking(work, 'pt-manager'),
  'pt-pid1.service': forking(work, 'pt-pid1'),
  'pt-gone.service': forking(work, 'pt-gone'),
  'pt-other-nobody.service': forking(work, 'pt-other-nobody', { owner: NOBODY }),
  'pt-other-root.service': forking(work, 'pt-other-root'),
  'pt-holder.service': '[Service]\nExecStart=/bin/sleep 1000\n',
  // the PID file is reached through a symlink owned by nobody: CHASE_SAFE refuses the chain
  'pt-unsafe.service': `[Service]\nType=forking\nTimeoutStartSec=5\nPIDFile=${work}/unsafe-link.pid\nExecStart=/bin/sh -c 'cat ${work}/pt-unsafe.src > ${work}/unsafe-real.pid'\n`,
  'pt-own.service': `[Service]\nType=forking\nTimeoutStartSec=5\nPIDFile=${work}/own.pid\nExecStart=/bin/sh -c 'sleep 1000 & echo $! > ${work}/own.pid; chown ${NOBODY} ${work}/own.pid'\n`,
  // through a symlink: both managers unlink the PID file when the service ends (never name a device itself)
  'pt-zero.service': `[Service]\nType=forking\nTimeoutStartSec=2\nPIDFile=${work}/zero.pid\nExecStart=/bin/sh -c 'sleep 1000 &'\n`,
});

let work: string;
let dir: string;
let u: UnitdSide;
let o: Side | null = null;
const victims: ChildProcess[] = [];

/** a root process outside every unit, as a PID file might name one */
function victim(): number {
  const child = spawn('/bin/sleep', ['1000'], { stdio: 'ignore' });
  victims.push(child);
  return child.pid!;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'unitd-pidfile-'));
  dir = unitDir(units(work));
  writeFileSync(join(work, 'unsafe-real.pid'), '');
  symlinkSync('unsafe-real.pid', join(work, 'unsafe-link.pid'));
  symlinkSync('/dev/zero', join(work, 'zero.pid'));
  lchownSync(join(work, 'unsafe-link.pid'), NOBODY, NOBODY);
  u = await startUnitdSide(dir);
  o = await startOracleSide(dir);
}, 60_000);

afterAll(async () => {
  for (const v of victims) killPid(v.pid!);
  await u?.stop();
  await o?.stop();
  removeDir(dir);
  removeDir(work);
});

/** starts `unit` with its PID file naming `pid`; the start's exit code and stderr, then the unit's state */
async function startNaming(s: Side, unit: string, pid: number): Promise<{ code: number; stderr: string; state: Record<string, string> }> {
  writeFileSync(join(work, `${unit}.src`), `${pid}\n`);
  const r = await s.systemctl(['start', `${unit}.service`]);
  const state = await s.show(`${unit}.service`, PROPS);
  await s.systemctl(['stop', `${unit}.service`]);
  await s.systemctl(['reset-failed', `${unit}.service`]);
  return { code: r.code, stderr: r.stderr.replaceAll('systemctl --user ', 'systemctl ').replaceAll('journalctl --user ', 'journalctl '), state };
}

const refused = {
  code: 1,
  stderr: `Job for UNIT failed because the service did not take the steps required by its unit configuration.\nSee "systemctl status UNIT" and "journalctl -xeu UNIT" for details.\n`,
  state: { ActiveState: 'failed', SubState: 'failed', Result: 'protocol', MainPID: '0' },
};
const refusedFor = (unit: string) => ({ ...refused, stderr: refused.stderr.replaceAll('UNIT', `${unit}.service`) });

describe('PIDFile= trust', () => {
  it('a PID outside the unit from a PID file not owned by root is refused, and the process is left alone', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const v = victim();
        const out = await startNaming(s, 'pt-nobody', v);
        return { ...out, victimAlive: alive(v) };
      },
      true,
    );
    expect(r.unitd).toEqual({ ...refusedFor('pt-nobody'), victimAlive: true });
    expectSame(r);
    expect(u.unitd.logs.some((l) => l.unit === 'pt-nobody.service' && /New main PID \d+ does not belong to service, and PID file is not owned by root\. Refusing\./.test(l.msg))).toBe(true);
  });

  it('with processes left in the group the start waits for a better PID file, times out, and StopUnit never reaches the named process', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const v = victim();
        writeFileSync(join(work, 'pt-nobody-busy.src'), `${v}\n`);
        const start = await s.systemctl(['start', 'pt-nobody-busy.service']);
        const state = await s.show('pt-nobody-busy.service', PROPS);
        await s.systemctl(['stop', 'pt-nobody-busy.service']);
        await s.systemctl(['reset-failed', 'pt-nobody-busy.service']);
        return { code: start.code, state, victimAlive: alive(v) };
      },
      true,
    );
    expect(r.unitd).toEqual({ code: 1, state: { ActiveState: 'failed', SubState: 'failed', Result: 'timeout', MainPID: '0' }, victimAlive: true });
    expectSame(r);
  }, 30_000);

  it('a PID outside the unit from a root-owned PID file is accepted (and stopped with the unit), as in systemd', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const v = victim();
        writeFileSync(join(work, 'pt-root.src'), `${v}\n`);
        const start = await s.systemctl(['start', 'pt-root.service']);
        const state = await s.show('pt-root.service', PROPS);
        await s.systemctl(['stop', 'pt-root.service']);
        await waitUntil(() => !alive(v), 'the accepted main process to end');
        return { code: start.code, state: { ...state, MainPID: state.MainPID === String(v) ? 'the named PID' : state.MainPID } };
      },
      true,
    );
    expect(r.unitd).toEqual({ code: 0, state: { ActiveState: 'active', SubState: 'running', Result: 'success', MainPID: 'the named PID' } });
    expectSame(r);
  });

  it('the manager itself, PID 1, and a PID that is gone are refused whoever owns the file', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const manager = await startNaming(s, 'pt-manager', s.managerPid);
        const pid1 = await startNaming(s, 'pt-pid1', 1);
        const gone = spawn('/bin/true');
        await new Promise((resolve) => gone.once('exit', resolve));
        const vanished = await startNaming(s, 'pt-gone', gone.pid!);
        return { manager, pid1, vanished, managerAlive: alive(s.managerPid) };
      },
      true,
    );
    expect(r.unitd).toEqual({ manager: refusedFor('pt-manager'), pid1: refusedFor('pt-pid1'), vanished: refusedFor('pt-gone'), managerAlive: true });
    expectSame(r);
    expect(u.unitd.logs.some((l) => l.msg === `New main PID ${u.unitd.pid} is the manager, refusing.`)).toBe(true);
    expect(u.unitd.logs.some((l) => l.msg === 'New main PID 1 is the manager, refusing.')).toBe(true);
  });

  it("a PID in another unit: refused from a file not owned by root, accepted from root's", async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        await s.systemctl(['start', 'pt-holder.service']);
        const holder = Number((await s.show('pt-holder.service', ['MainPID'])).MainPID);
        const nobody = await startNaming(s, 'pt-other-nobody', holder);
        writeFileSync(join(work, 'pt-other-root.src'), `${holder}\n`);
        const start = await s.systemctl(['start', 'pt-other-root.service']);
        const rootState = await s.show('pt-other-root.service', ['ActiveState', 'MainPID']);
        await s.systemctl(['stop', 'pt-other-root.service']);
        await s.systemctl(['stop', 'pt-holder.service']);
        return { nobody, root: { code: start.code, active: rootState.ActiveState, named: rootState.MainPID === String(holder) } };
      },
      true,
    );
    expect(r.unitd).toEqual({ nobody: refusedFor('pt-other-nobody'), root: { code: 0, active: 'active', named: true } });
    expectSame(r);
  });

  it('a PID file reached through a symlink of another user is questionable: a PID outside the unit is refused', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const v = victim();
        return { ...(await startNaming(s, 'pt-unsafe', v)), victimAlive: alive(v) };
      },
      true,
    );
    expect(r.unitd).toEqual({ ...refusedFor('pt-unsafe'), victimAlive: true });
    expectSame(r);
    expect(u.unitd.logs.some((l) => l.msg === `Refusing to accept PID outside of service control group, acquired through unsafe symlink chain: ${work}/unsafe-link.pid`)).toBe(true);
  });

  it("the unit's own process is accepted from any owner's PID file", async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const start = await s.systemctl(['start', 'pt-own.service']);
        const state = await s.show('pt-own.service', ['ActiveState', 'SubState']);
        await s.systemctl(['stop', 'pt-own.service']);
        return { code: start.code, state };
      },
      true,
    );
    expect(r.unitd).toEqual({ code: 0, state: { ActiveState: 'active', SubState: 'running' } });
    expectSame(r);
  });

  it('a PID file that is /dev/zero: no PID while the start waits for one, the manager answers throughout', async () => {
    const r = await onBothSides(
      u,
      o,
      async (s) => {
        const start = s.systemctl(['start', 'pt-zero.service']);
        await new Promise((resolve) => setTimeout(resolve, 500)); // the PID file is being awaited now
        const ping = await s.busctl(['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Peer', 'Ping']);
        const code = (await start).code;
        const state = await s.show('pt-zero.service', PROPS);
        await s.systemctl(['reset-failed', 'pt-zero.service']);
        return { code, ping: ping.code, state };
      },
      true,
    );
    expect(r.unitd).toEqual({ code: 1, ping: 0, state: { ...refused.state, Result: 'timeout' } });
    expectSame(r);
    expect(u.unitd.child.exitCode).toBe(null);
    expect(existsSync('/dev/zero')).toBe(true);
  });
});

describe('PIDFile= on unitd only', () => {
  it('a FIFO as the PID file is not read (it would block the daemon): the start fails and Ping is answered meanwhile', async () => {
    const fifoDir = mkdtempSync(join(tmpdir(), 'unitd-pidfifo-'));
    onTestFinished(() => rmSync(fifoDir, { recursive: true, force: true }));
    execFileSync('mkfifo', [join(fifoDir, 'pid')]);
    const units = unitDir({ 'pt-fifo.service': `[Service]\nType=forking\nTimeoutStartSec=5\nPIDFile=${fifoDir}/pid\nExecStart=/bin/true\n` });
    onTestFinished(() => removeDir(units));
    const side = await startUnitdSide(units);
    onTestFinished(() => side.stop());
    const start = side.systemctl(['start', 'pt-fifo.service']);
    const t0 = Date.now();
    const ping = await side.busctl(['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.DBus.Peer', 'Ping']);
    expect(ping.code).toBe(0);
    expect((await start).code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await side.show('pt-fifo.service', PROPS)).toEqual(refused.state);
  });

  it('the bus daemon unitd started is refused as a main PID, and stays up', async () => {
    const runtimeDir = mkdtempSync(join(tmpdir(), 'unitd-pidbus-'));
    onTestFinished(() => rmSync(runtimeDir, { recursive: true, force: true }));
    const busUnits = unitDir({ 'pt-bus.service': forking(work, 'pt-bus') });
    onTestFinished(() => removeDir(busUnits));
    const unitd = await startUnitd(['--unit-path', busUnits, '--runtime-dir', runtimeDir, '--log-level', 'debug'], {
      DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${runtimeDir}/no-such-socket`,
    });
    onTestFinished(async () => {
      await unitd.stop();
    });
    const owner = await busctl(unitd.busAddress, ['call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionUnixProcessID', 's', 'org.freedesktop.DBus']);
    const busPid = Number(owner.stdout.trim().split(' ')[1]);
    expect(busPid).toBeGreaterThan(1);
    writeFileSync(join(work, 'pt-bus.src'), `${busPid}\n`);
    const start = await busctl(unitd.busAddress, ['call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'StartUnit', 'ss', 'pt-bus.service', 'replace']);
    expect(start.code).toBe(0);
    await unitd.waitForLog((l) => l.msg === 'job finished' && l.unit === 'pt-bus.service');
    expect(unitd.logs.some((l) => l.msg === `New main PID ${busPid} is the manager's bus daemon, refusing.`)).toBe(true);
    const state = await busctl(unitd.busAddress, ['get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1/unit/pt_2dbus_2eservice', 'org.freedesktop.systemd1.Service', 'Result']);
    expect(state.stdout.trim()).toBe('s "protocol"');
    expect(alive(busPid)).toBe(true);
    expect(existsSync(join(runtimeDir, 'bus'))).toBe(true);
  });
});
