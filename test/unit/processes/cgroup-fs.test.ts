// Pure parts of the cgroup2 helpers: mountinfo parsing, name escaping, stat and wait-status decoding.
import { describe, expect, it } from 'vitest';
import {
  cgroupDir,
  escapeCgroupName,
  findCgroup2Mount,
  unescapeCgroupName,
} from '../../../src/processes/cgroup-fs.js';
import { decodeWaitStatus } from '../../../src/processes/native.js';
import { parseStat } from '../../../src/processes/proc-stat.js';
import { parseTrackerKind } from '../../../src/processes/index.js';

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const UNIFIED = `30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
`;
const NAMESPACED = `30 25 0:26 /payload /sys/fs/my\\040cg rw,relatime - cgroup2 none rw
`;

describe('cgroup2 mount discovery', () => {
  it('finds the hybrid, unified and bind-mounted layouts, and none where absent', () => {
    expect(findCgroup2Mount(HYBRID)).toEqual({ mountPoint: '/sys/fs/cgroup/unified', root: '/' });
    expect(findCgroup2Mount(UNIFIED)).toEqual({ mountPoint: '/sys/fs/cgroup', root: '/' });
    const ns = findCgroup2Mount(NAMESPACED)!;
    expect(ns).toEqual({ mountPoint: '/sys/fs/my cg', root: '/payload' });
    expect(cgroupDir(ns, '/payload/a.service')).toBe('/sys/fs/my cg/a.service');
    expect(cgroupDir(ns, '/elsewhere')).toBeNull();
    expect(findCgroup2Mount(HYBRID.split('\n').slice(0, 2).join('\n'))).toBeNull();
  });
});

describe('cgroup name escaping', () => {
  it.each([
    ['foo.service', 'foo.service'],
    ['getty@tty1.service', 'getty@tty1.service'],
    ['a b/c', 'a\\x20b\\x2fc'],
    ['back\\slash', 'back\\x5cslash'],
    ['.hidden', '_.hidden'],
    ['_x', '__x'],
    ['cpu.service', '_cpu.service'],
    ['cgroup.procs', '_cgroup.procs'],
    ['tasks', '_tasks'],
    ['ünï.service', '\\xc3\\xbcn\\xc3\\xaf.service'],
  ])('%s → %s and back', (id, name) => {
    expect(escapeCgroupName(id)).toBe(name);
    expect(unescapeCgroupName(name)).toBe(id);
  });
});

describe('process status helpers', () => {
  it('parses /proc/PID/stat with a hostile comm', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    fields[1] = '77'; // ppid (field 4)
    fields[6] = String(0x00200000); // flags (field 9)
    fields[19] = '123456789012'; // starttime (field 22)
    const st = parseStat(`42 (a) (b c) ) ${fields.join(' ')}`)!;
    expect(st).toEqual({ pid: 42, comm: 'a) (b c) ', state: 'S', ppid: 77, flags: 0x00200000, startTime: 123456789012n });
  });

  it('decodes wait statuses into waitid codes', () => {
    expect(decodeWaitStatus(3 << 8)).toEqual({ code: 1, status: 3 });
    expect(decodeWaitStatus(15)).toEqual({ code: 2, status: 15 });
    expect(decodeWaitStatus(11 | 0x80)).toEqual({ code: 3, status: 11 });
  });

  it('parses the tracker option', () => {
    expect(parseTrackerKind(undefined)).toBeUndefined();
    expect(parseTrackerKind('auto')).toBeUndefined();
    expect(parseTrackerKind('proc')).toBe('proc');
    expect(parseTrackerKind('cgroup2')).toBe('cgroup2');
    expect(() => parseTrackerKind('bogus')).toThrow();
  });
});
