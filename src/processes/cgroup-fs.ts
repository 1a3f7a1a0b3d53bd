// Where cgroup v2 lives on this machine and where unitd sits in it.
// Works for the unified layout (/sys/fs/cgroup is cgroup2) and the hybrid one (cgroup2 mounted at
// /sys/fs/cgroup/unified next to v1 controller hierarchies).

import fs from 'node:fs';
import path from 'node:path';

export interface Cgroup2Mount {
  /** the mount point, e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified */
  mountPoint: string;
  /** the cgroup path that is the mount's root (field 4 of mountinfo; "/" unless in a namespace/bind) */
  root: string;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** a file's text, null when it cannot be read */
function readTextFile(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** the first cgroup2 mount listed in /proc/self/mountinfo, or null */
export function findCgroup2Mount(mountinfo?: string): Cgroup2Mount | null {
  const text = mountinfo ?? readTextFile('/proc/self/mountinfo');
  if (text === null) return null;
  for (const line of text.split('\n')) {
    // id parent major:minor root mountpoint options [optional fields...] - fstype source superopts
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (right[0] !== 'cgroup2' || left.length < 5) continue;
    return { root: unescapeMountinfo(left[3]!), mountPoint: unescapeMountinfo(left[4]!) };
  }
  return null;
}

/** the cgroup v2 path of a process (the `0::` line of /proc/PID/cgroup), or null */
export function cgroupOfPid(pid: number | 'self'): string | null {
  const text = readTextFile(`/proc/${pid}/cgroup`);
  if (text === null) return null;
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) {
      // a process that was moved out of our namespace's view shows "/../..."; keep it verbatim
      return line.slice(3).replace(/ \(deleted\)$/, '');
    }
  }
  return null;
}

/** the directory of a cgroup path (relative to the hierarchy root) under the given mount */
export function cgroupDir(mount: Cgroup2Mount, cgPath: string): string | null {
  const root = mount.root === '/' ? '' : mount.root;
  if (root !== '' && !(cgPath === root || cgPath.startsWith(root + '/'))) return null;
  return path.join(mount.mountPoint, cgPath.slice(root.length));
}

export interface Cgroup2Location {
  mount: Cgroup2Mount;
  /** unitd's own cgroup path, e.g. /init.scope */
  ownPath: string;
  /** its directory on disk */
  ownDir: string;
  /** interface files found in a child cgroup */
  hasFreeze: boolean;
  hasKill: boolean;
}

/**
 * Locates cgroup2 and unitd's own cgroup and checks we may create children there (a probe mkdir +
 * rmdir, because mode bits say little under user namespaces/delegation). Null when unusable.
 */
export function locateWritableCgroup2(): Cgroup2Location | null {
  const mount = findCgroup2Mount();
  if (!mount) return null;
  const ownPath = cgroupOfPid('self');
  if (ownPath === null || ownPath.startsWith('/..')) return null;
  const ownDir = cgroupDir(mount, ownPath);
  if (!ownDir) return null;
  const probe = path.join(ownDir, `unitd-probe-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    fs.mkdirSync(probe);
  } catch {
    return null;
  }
  try {
    fs.accessSync(path.join(probe, 'cgroup.procs'), fs.constants.W_OK);
    // moving a process needs write access to the common ancestor's cgroup.procs too
    fs.accessSync(path.join(ownDir, 'cgroup.procs'), fs.constants.W_OK);
    const hasFreeze = fs.existsSync(path.join(probe, 'cgroup.freeze'));
    const hasKill = fs.existsSync(path.join(probe, 'cgroup.kill'));
    return { mount, ownPath, ownDir, hasFreeze, hasKill };
  } catch {
    return null;
  } finally {
    try {
      fs.rmdirSync(probe);
    } catch {
      /* best effort */
    }
  }
}

const RESERVED_PREFIXES = [
  'cgroup', 'cpu', 'cpuacct', 'cpuset', 'memory', 'io', 'pids', 'hugetlb', 'rdma', 'misc',
  'freezer', 'devices', 'blkio', 'net_cls', 'net_prio', 'perf_event',
];

/**
 * A unit id → a safe cgroup directory name. Bytes outside [A-Za-z0-9:_.@-] become \xNN (the
 * backslash itself too), and names that could clash with cgroupfs interface files (controller
 * prefix + ".", "tasks", "release_agent", "notify_on_release") or start with "." or "_" get a
 * leading "_" — the same idea as systemd's cg_escape(), written from scratch.
 */
export function escapeCgroupName(unitId: string): string {
  let out = '';
  for (const byte of Buffer.from(unitId, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9:_.@-]/.test(ch)) out += ch;
    else out += '\\x' + byte.toString(16).padStart(2, '0');
  }
  const dot = out.indexOf('.');
  const prefix = dot > 0 ? out.slice(0, dot) : null;
  if (
    out === '' ||
    out.startsWith('.') ||
    out.startsWith('_') ||
    out === 'tasks' ||
    out === 'release_agent' ||
    out === 'notify_on_release' ||
    (prefix !== null && RESERVED_PREFIXES.includes(prefix))
  ) {
    out = '_' + out;
  }
  return out;
}

export function unescapeCgroupName(name: string): string {
  const s = name.startsWith('_') ? name.slice(1) : name;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-f]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      bytes.push(s.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** parses cgroup.events ("populated 1\nfrozen 0\n") */
export function readCgroupEvents(dir: string): { populated: boolean; frozen: boolean } | null {
  const text = readTextFile(path.join(dir, 'cgroup.events'));
  if (text === null) return null;
  return { populated: /^populated 1$/m.test(text), frozen: /^frozen 1$/m.test(text) };
}

const readBuffer = Buffer.allocUnsafe(64 * 1024);
/** open CgroupFiles, least recently read first; beyond OPEN_MAX the oldest is closed (and reopens when read) */
const openCgroupFiles = new Set<CgroupFiles>();
const OPEN_MAX = 256;

/**
 * One cgroup's cgroup.procs and cgroup.stat through descriptors kept open: a read at offset 0
 * restarts the kernel's listing, so each read is one syscall instead of open, fstat, read and
 * close (the difference shows on every KillUnit with whom=all).
 */
export class CgroupFiles {
  private procsFd: number | null = null;
  private statFd: number | null = null;

  constructor(private readonly dir: string) {}

  /** cgroup.procs, null when the cgroup does not exist */
  readProcs(): string | null {
    const text = this.read('procs');
    // a group too large for the buffer is read whole
    if (text !== null && text.length === readBuffer.length) return readTextFile(path.join(this.dir, 'cgroup.procs'));
    return text;
  }

  /**
   * Whether the cgroup has child cgroups (cgroup.stat's nr_descendants; true when it cannot be
   * read, so that the caller lists the directory and finds out).
   */
  hasDescendants(): boolean {
    const text = this.read('stat');
    if (text === null) return true;
    const at = text.indexOf('nr_descendants ');
    return at < 0 || text.charCodeAt(at + 15) !== 48 /* '0' */ || text.charCodeAt(at + 16) !== 10 /* '\n' */;
  }

  private read(which: 'procs' | 'stat'): string | null {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        openCgroupFiles.delete(this);
        openCgroupFiles.add(this);
        if (openCgroupFiles.size > OPEN_MAX) openCgroupFiles.values().next().value!.close();
        let fd: number;
        if (which === 'procs') fd = this.procsFd ??= fs.openSync(path.join(this.dir, 'cgroup.procs'), 'r');
        else fd = this.statFd ??= fs.openSync(path.join(this.dir, 'cgroup.stat'), 'r');
        const n = fs.readSync(fd, readBuffer, 0, readBuffer.length, 0);
        return readBuffer.toString('latin1', 0, n);
      } catch {
        // removed (and maybe created again since): the old descriptor reads ENODEV; open anew once
        this.close();
      }
    }
    return null;
  }

  close(): void {
    openCgroupFiles.delete(this);
    for (const fd of [this.procsFd, this.statFd]) {
      if (fd === null) continue;
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.procsFd = null;
    this.statFd = null;
  }
}

function pushPids(text: string, out: number[]): number[] {
  for (const line of text.split('\n')) if (line) out.push(Number(line));
  return out;
}

/** the PIDs in one cgroup (not its descendants), through its kept files */
export function readProcsOf(files: CgroupFiles, out: number[] = []): number[] {
  const text = files.readProcs();
  return text === null ? out : pushPids(text, out);
}

/**
 * The PIDs of a cgroup and all its descendants (cgroup.procs, depth-first). `own`: the cgroup's
 * kept files. `subgroups`: collects the descendant directories read; null: read only this cgroup.
 */
export function readProcsRecursive(dir: string, out: number[] = [], own?: CgroupFiles, subgroups: string[] | null = []): number[] {
  const text = own ? own.readProcs() : readTextFile(path.join(dir, 'cgroup.procs'));
  if (text === null) return out;
  pushPids(text, out);
  if (subgroups === null) return out;
  // one small read tells whether there are child cgroups, instead of listing the ~20 interface
  // files of every group on every walk (a kernfs directory's link count, 2 + its child
  // directories, tells the same where no descriptor is kept)
  const children = own ? own.hasDescendants() : (fs.statSync(dir, { throwIfNoEntry: false })?.nlink ?? 2) > 2;
  if (!children) return out;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = path.join(dir, e.name);
    subgroups.push(sub);
    readProcsRecursive(sub, out, undefined, subgroups);
  }
  return out;
}
