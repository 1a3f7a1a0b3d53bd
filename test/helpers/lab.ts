// The setting most kill/stop integration tests share: a temp dir whose unitd/ holds the units (and
// the argument recorder), a private dbus-daemon, unitd on it at debug level, and room for the
// oracle; closeLab ends every recorder process either side logged, unitd, the bus, the oracle and
// the temp dir.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Oracle } from '../oracle/oracle.js';
import { startPrivateBus, type PrivateBus } from './private-bus.js';
import { killRecorded, writeArgRecorder, writeUnits } from './signal-lab.js';
import { startUnitd, type UnitdProcess } from './unitd-process.js';

export interface Lab {
  root: string;
  /** unitd's unit directory (root/unitd); the oracle's is root/oracle */
  unitDir: string;
  bus: PrivateBus;
  unitd: UnitdProcess;
  oracle: Oracle | null;
}

export async function openLab(prefix: string, units: Record<string, (dir: string) => string>, opts: { argRecorder?: boolean } = {}): Promise<Lab> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const unitDir = join(root, 'unitd');
  writeUnits(unitDir, units);
  if (opts.argRecorder) writeArgRecorder(unitDir);
  const bus = await startPrivateBus();
  const unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', unitDir, '--log-level', 'debug']);
  return { root, unitDir, bus, unitd, oracle: null };
}

export async function closeLab(lab: Lab | undefined): Promise<void> {
  if (!lab) return;
  for (const side of ['unitd', 'oracle']) {
    const dir = join(lab.root, side);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (f.endsWith('.log') || f.endsWith('.ctl')) killRecorded(join(dir, f));
  }
  await lab.unitd.stop();
  await lab.bus.stop();
  await lab.oracle?.stop();
  rmSync(lab.root, { recursive: true, force: true });
}
