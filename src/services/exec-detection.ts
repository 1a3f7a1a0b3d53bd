// Type=exec: has the main process become its command yet? unitd learns it from /proc (systemd
// from a close-on-exec pipe): the PID first runs launch's own steps (the cgroup/cwd shell step,
// setpriv, the argv[0] wrapper), whose command lines end with the final command.
import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { isLaunchStep, readStat } from '../processes/index.js';

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** true once the process runs its command, false while it does not yet, null once it is gone */
export function hasExeced(pid: number, launched: { path: string; argv: string[] }): boolean | null {
  // no command line (or no exe link) is a zombie, or a process in the middle of execve(): only
  // the first is final
  const goneOrExecing = (): false | null => (readStat(pid)?.state ?? 'Z') === 'Z' ? null : false;
  let args: string[];
  try {
    args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
  if (args[args.length - 1] === '') args.pop();
  if (args.length === 0) return goneOrExecing();
  const { path, argv } = launched;
  if (args.length === argv.length && args.every((a, i) => a === argv[i])) return true;
  if (isLaunchStep(args)) return false; // not there yet: still in launch's own steps
  try {
    if (readlinkSync(`/proc/${pid}/exe`) === realpathOrSelf(path)) return true;
  } catch {
    return goneOrExecing();
  }
  // a script: the kernel runs "interpreter [arg] path argv[1..]"
  const tail = [path, ...argv.slice(1)];
  const at = args.length - tail.length;
  return at >= 1 && args[at - 1] !== '--' && tail.every((a, i) => args[at + i] === a);
}
