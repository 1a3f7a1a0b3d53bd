// The setting most kill/stop integration tests share: a temp dir whose unitd/ holds the units (and
// the argument recorder), a private dbus-daemon, unitd on it at debug level, and room for the
// oracle; closeLab ends every recorder process either side logged, unitd, the bus, the oracle and
// the temp dir.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOracle, type Oracle } from '../oracle/oracle.js';
import { startPrivateBus, type PrivateBus } from './private-bus.js';
import { killRecorded, oracleTarget, unitdTarget, writeArgRecorder, writeUnits, type Target } from './signal-lab.js';
import { startUnitd, type UnitdProcess } from './unitd-process.js';

export interface Lab {
  root: string;
  /** unitd's unit directory (root/unitd); the oracle's is root/oracle */
  unitDir: string;
  bus: PrivateBus;
  unitd: UnitdProcess;
  /** unitd driven through the lab's bus and unit directory */
  target: Target;
  oracle: Oracle | null;
}

type Units = Record<string, (dir: string) => string>;

export async function openLab(prefix: string, units: Units, opts: { argRecorder?: boolean } = {}): Promise<Lab> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const unitDir = join(root, 'unitd');
  writeUnits(unitDir, units);
  if (opts.argRecorder) writeArgRecorder(unitDir);
  const bus = await startPrivateBus();
  const unitd = await startUnitd(['--bus-address', bus.address, '--unit-path', unitDir, '--log-level', 'debug']);
  return { root, unitDir, bus, unitd, target: unitdTarget(unitd, bus.address, unitDir), oracle: null };
}

/**
 * Starts the oracle (real systemd 252 --user, debug log) on the same units under root/oracle, kept
 * in lab.oracle for closeLab, and runs each scenario on it in turn; returns their results by name.
 */
export async function scenariosOnOracle<T>(lab: Lab, units: Units, scenarios: Record<string, (t: Target) => Promise<T>>, opts: { argRecorder?: boolean } = {}): Promise<Record<string, T>> {
  const dir = join(lab.root, 'oracle');
  writeUnits(dir, units);
  if (opts.argRecorder) writeArgRecorder(dir);
  lab.oracle = await startOracle({ unitDirs: [dir], logLevel: 'debug' });
  const t = oracleTarget(lab.oracle, dir);
  const theirs: Record<string, T> = {};
  for (const [name, scenario] of Object.entries(scenarios)) theirs[name] = await scenario(t);
  return theirs;
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
