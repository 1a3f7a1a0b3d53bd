// KillUnit inside a container, through systemctl kill, busctl and gdbus: every whom (main, control,
// all and their -fail forms), signals reaching exactly the processes they should, and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEST, MANAGER_IFACE, MANAGER_PATH, UnitdContainer } from './harness.js';
import { FAMILY, RECORDER, lines } from './scripts.js';

const LOG = '/run/kill-demo.log';
let ct: UnitdContainer;

beforeAll(async () => {
  ct = await UnitdContainer.start({
    units: {
      'kill-demo.service':
        '[Unit]\nDescription=Kill demo\n[Service]\n' +
        `ExecStart=/opt/test/family.sh ${LOG}\n` +
        // a long-running reload: its shell is the control process while the reload job runs
        `ExecReload=/opt/test/recorder.sh control ${LOG}\n`,
    },
    scripts: { 'recorder.sh': RECORDER, 'family.sh': FAMILY },
  });
}, 120_000);

afterAll(async () => {
  await ct?.stop();
});

async function log(): Promise<string[]> {
  const r = await ct.sh(`cat ${LOG} 2>/dev/null || true`);
  return lines(r.stdout);
}

async function waitLine(line: string): Promise<void> {
  await ct.until(`"${line}" in ${LOG}`, async () => (await log()).includes(line));
}

/** lets any signal that is still on its way arrive */
const settle = () => new Promise((r) => setTimeout(r, 400));

function gdbusKill(unit: string, whom: string, signal: number) {
  return ct.gdbus('call', '--dest', DEST, '--object-path', MANAGER_PATH, '--method', `${MANAGER_IFACE}.KillUnit`, unit, whom, String(signal));
}

describe('KillUnit with every whom', () => {
  it('starts the unit: main and child recorders are up', async () => {
    const r = await ct.systemctl('start', 'kill-demo.service');
    expect(r.code, r.stderr).toBe(0);
    await waitLine('main ready');
    await waitLine('child ready');
  });

  it('main (systemctl kill --kill-whom=main -s USR1): only the main process', async () => {
    const r = await ct.systemctl('kill', '--kill-whom=main', '-s', 'USR1', 'kill-demo');
    expect(r.code, r.stderr).toBe(0);
    await waitLine('main USR1');
    await settle();
    expect(await log()).not.toContain('child USR1');
    // KillUnit does not change the unit's state
    expect(await ct.show('kill-demo.service', 'ActiveState')).toBe('active');
  });

  it('all (busctl KillUnit all SIGUSR2): main and child', async () => {
    const r = await ct.busctl('call', DEST, MANAGER_PATH, MANAGER_IFACE, 'KillUnit', 'ssi', 'kill-demo.service', 'all', '12');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('');
    await waitLine('main USR2');
    await waitLine('child USR2');
  });

  it('"" means all (gdbus KillUnit "" SIGHUP)', async () => {
    const r = await gdbusKill('kill-demo.service', '', 1);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('()');
    await waitLine('main HUP');
    await waitLine('child HUP');
  });

  it('control with no control process: NoSuchProcess', async () => {
    const r = await ct.systemctl('kill', '--kill-whom=control', '-s', 'USR1', 'kill-demo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to kill unit kill-demo.service: No control process to kill');
    const g = await gdbusKill('kill-demo.service', 'control-fail', 10);
    expect(g.code).not.toBe(0);
    expect(g.stderr).toContain('org.freedesktop.systemd1.NoSuchProcess');
  });

  it('control (gdbus KillUnit control SIGUSR1) reaches the reload process only', async () => {
    const reload = await ct.systemctl('reload', '--no-block', 'kill-demo');
    expect(reload.code, reload.stderr).toBe(0);
    await waitLine('control ready');
    expect(await ct.show('kill-demo.service', 'ActiveState')).toBe('reloading');
    const before = (await log()).filter((l) => l === 'main USR1').length;
    const r = await gdbusKill('kill-demo.service', 'control', 10);
    expect(r.code, r.stderr).toBe(0);
    await waitLine('control USR1');
    await settle();
    const after = await log();
    expect(after.filter((l) => l === 'main USR1').length).toBe(before);
    expect(after).not.toContain('child USR1');
  });

  it('control-fail (systemctl kill --fail --kill-whom=control) ends the reload', async () => {
    const r = await ct.systemctl('kill', '--fail', '--kill-whom=control', 'kill-demo');
    expect(r.code, r.stderr).toBe(0);
    await waitLine('control TERM');
    await ct.until('the reload to end', async () => (await ct.show('kill-demo.service', 'ActiveState')) === 'active');
    expect(await ct.live('recorder.sh main')).toHaveLength(1);
    expect(await ct.live('recorder.sh child')).toHaveLength(1);
  });

  it('main-fail and all-fail succeed while there are processes', async () => {
    const m = await gdbusKill('kill-demo.service', 'main-fail', 1);
    expect(m.code, m.stderr).toBe(0);
    const a = await ct.systemctl('kill', '--fail', '-s', 'USR2', 'kill-demo');
    expect(a.code, a.stderr).toBe(0);
    await ct.until('two main HUPs', async () => (await log()).filter((l) => l === 'main HUP').length === 2);
    await ct.until('two child USR2s', async () => (await log()).filter((l) => l === 'child USR2').length === 2);
    await settle();
    expect((await log()).filter((l) => l === 'child HUP')).toHaveLength(1);
  });

  it('all with SIGTERM (plain systemctl kill): every process ends, the unit goes inactive', async () => {
    const r = await ct.systemctl('kill', 'kill-demo');
    expect(r.code, r.stderr).toBe(0);
    await waitLine('main TERM');
    await waitLine('child TERM');
    await ct.until('the unit to be inactive', async () => (await ct.show('kill-demo.service', 'ActiveState')) === 'inactive');
    expect(await ct.show('kill-demo.service', 'Result')).toBe('success');
    await ct.until('no recorder left', async () => (await ct.live('/opt/test/recorder.sh')).length === 0);
  });

  it('main-fail / all-fail on a unit without processes: NoSuchProcess', async () => {
    // LoadUnit keeps the (inactive) unit loaded for the Manager's KillUnit, which does not load
    expect((await ct.callManager('LoadUnit', 's', 'kill-demo.service')).code).toBe(0);
    const m = await ct.callManager('KillUnit', 'ssi', 'kill-demo.service', 'main-fail', '15');
    expect(m.code).not.toBe(0);
    expect(m.stderr).toContain('No main process to kill');
    const a = await ct.callManager('KillUnit', 'ssi', 'kill-demo.service', 'all-fail', '15');
    expect(a.code).not.toBe(0);
    expect(a.stderr).toContain('No matching processes to kill');
    // plain "all" on the same unit succeeds silently
    const p = await ct.callManager('KillUnit', 'ssi', 'kill-demo.service', 'all', '15');
    expect(p.code, p.stderr).toBe(0);
  });
});

describe('KillUnit bad input', () => {
  it('an unknown whom: InvalidArgs, nothing is signalled', async () => {
    expect((await ct.systemctl('start', 'kill-demo')).code).toBe(0);
    await ct.until('main ready twice', async () => (await log()).filter((l) => l === 'main ready').length === 2);
    const r = await ct.systemctl('kill', '--kill-whom=bogus', '-s', 'USR1', 'kill-demo');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to kill unit kill-demo.service: Invalid who argument bogus');
    const g = await gdbusKill('kill-demo.service', 'everyone', 10);
    expect(g.stderr).toContain('org.freedesktop.DBus.Error.InvalidArgs');
    await settle();
    expect((await log()).filter((l) => l === 'main USR1')).toHaveLength(1);
  });

  it('signal 0 and 65 are out of range', async () => {
    for (const sig of ['0', '65', '-1']) {
      // `--` so that busctl does not take -1 for an option
      const r = await ct.busctl('call', '--', DEST, MANAGER_PATH, MANAGER_IFACE, 'KillUnit', 'ssi', 'kill-demo.service', 'all', sig);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('Signal number out of range.');
    }
    expect(await ct.show('kill-demo.service', 'ActiveState')).toBe('active');
  });

  it('an unknown unit: NoSuchUnit', async () => {
    const r = await ct.systemctl('kill', 'nope.service');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Failed to kill unit nope.service: Unit nope.service not loaded.');
    const g = await gdbusKill('nope.service', 'all', 15);
    expect(g.stderr).toContain('org.freedesktop.systemd1.NoSuchUnit');
  });

  it('a wrong signature: the bus call fails and unitd lives on', async () => {
    const r = await ct.busctl('call', DEST, MANAGER_PATH, MANAGER_IFACE, 'KillUnit', 'ss', 'kill-demo.service', 'all');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Invalid argument|InvalidArgs|signature/i);
    const ping = await ct.busctl('call', DEST, MANAGER_PATH, 'org.freedesktop.DBus.Peer', 'Ping');
    expect(ping.code, ping.stderr).toBe(0);
  });
});
