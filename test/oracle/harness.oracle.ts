// Self-test of the oracle harness: starts real systemd --user 252, runs systemctl/busctl in its
// namespace, and checks that stop() leaves no process, cgroup or temp dir behind.
//   npx vitest run --config test/oracle/vitest.oracle.config.ts harness
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oracleAvailable, startOracle } from './oracle.js';

describe.skipIf(!oracleAvailable())('oracle harness', () => {
  it('runs systemctl and busctl against systemd --user and cleans up', async () => {
    const dir = mkdtempSync('/tmp/unitd-oracle-units-');
    writeFileSync(join(dir, 'harness-sleep.service'), '[Service]\nExecStart=/bin/sleep 1000\n');
    const o = await startOracle({ unitDirs: [dir] });
    try {
      const v = await o.busctl(['get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager', 'Version']);
      expect(v.code).toBe(0);
      expect(v.stdout).toMatch(/^s "252/);
      expect((await o.systemctl(['start', 'harness-sleep.service'])).code).toBe(0);
      const show = await o.systemctl(['show', '-p', 'ActiveState,MainPID,ControlGroup', 'harness-sleep.service']);
      expect(show.stdout).toContain('ActiveState=active');
      expect(show.stdout).toMatch(/^ControlGroup=\/.*unitd-oracle-[0-9a-f]+\/app\.slice\/harness-sleep\.service$/m);
      const status = await o.systemctl(['status', 'harness-sleep.service']);
      expect(status.code).toBe(0);
    } finally {
      await o.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(o.cgroupDir)).toBe(false);
    expect(existsSync(o.tmpDir)).toBe(false);
    // gone, or a zombie waiting for PID 1 to reap it
    let state = 'gone';
    try { state = readFileSync(`/proc/${o.managerPid}/stat`, 'utf8').split(') ')[1]!.slice(0, 1); } catch { /* gone */ }
    expect(['gone', 'Z']).toContain(state);
  });
});
