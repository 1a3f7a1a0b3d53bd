// Golden outputs captured from real systemd 252 (test/oracle/capture.oracle.ts), with their
// placeholders filled in for unitd's run.
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './unitd-process.js';

export interface GoldenRun {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

export function golden<T = Record<string, GoldenRun>>(file: string): T {
  return JSON.parse(readFileSync(`${REPO_ROOT}test/fixtures/oracle/${file}`, 'utf8')) as T;
}

export function fillPlaceholders(text: string, values: { unitDir: string; runtimeDir: string; home: string }): string {
  return text.replaceAll('@UNIT_DIR@', values.unitDir).replaceAll('@RUNTIME_DIR@', values.runtimeDir).replaceAll('@HOME@', values.home);
}

/** The systemctl arguments of a golden run, without the --user of the oracle. */
export function systemArgs(run: GoldenRun): string[] {
  return run.args.filter((a) => a !== '--user' && a !== '--no-pager');
}
