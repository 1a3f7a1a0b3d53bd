import { describe, expect, it } from 'vitest';
import { defaultNofileLimit, nofileSteps, readOwnNofileLimit } from '../../../src/processes/nofile-limit.js';
import { RLIM_INFINITY } from '../../../src/units/resource-limit.js';

const NR_OPEN = 1048576n;

describe('RLIMIT_NOFILE of a service', () => {
  it('reads the limit from /proc/self/limits (unlimited is infinity)', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            20000                unlimited            files     \n';
    expect(readOwnNofileLimit(text)).toEqual({ soft: 20000n, hard: RLIM_INFINITY });
    const own = readOwnNofileLimit();
    expect(own.soft).toBeGreaterThan(0n);
  });

  it('default: soft at most 1024; a system manager raises the hard limit to 512 Ki within nr_open, a user manager keeps its own', () => {
    expect(defaultNofileLimit('system', { soft: 20000n, hard: 20000n }, NR_OPEN)).toEqual({ soft: 1024n, hard: 524288n });
    expect(defaultNofileLimit('system', { soft: 1048576n, hard: 1048576n }, NR_OPEN)).toEqual({ soft: 1024n, hard: 1048576n });
    expect(defaultNofileLimit('system', { soft: 1024n, hard: 4096n }, 65536n)).toEqual({ soft: 1024n, hard: 65536n });
    expect(defaultNofileLimit('user', { soft: 20000n, hard: 20000n }, NR_OPEN)).toEqual({ soft: 1024n, hard: 20000n });
    expect(defaultNofileLimit('user', { soft: 256n, hard: 4096n }, NR_OPEN)).toEqual({ soft: 256n, hard: 4096n });
  });

  it('ulimit steps never pass through a soft limit above the hard one; a refused higher hard limit has a fallback soft limit', () => {
    const own = { soft: 20000n, hard: 20000n };
    expect(nofileSteps(own, own)).toEqual({ softFirst: '', hard: '', softAfter: '', softIfHardRefused: '' });
    // the new hard limit is below the current soft one: soft first
    expect(nofileSteps(own, { soft: 100n, hard: 2000n })).toEqual({ softFirst: '100', hard: '2000', softAfter: '', softIfHardRefused: '' });
    // raising the hard limit: hard first; refused, the hard limit stays and soft is capped by it
    expect(nofileSteps(own, { soft: 1024n, hard: 524288n })).toEqual({ softFirst: '', hard: '524288', softAfter: '1024', softIfHardRefused: '1024' });
    expect(nofileSteps(own, { soft: 50000n, hard: 50000n })).toEqual({ softFirst: '', hard: '50000', softAfter: '50000', softIfHardRefused: '20000' });
    expect(nofileSteps(own, { soft: 1024n, hard: 20000n })).toEqual({ softFirst: '', hard: '', softAfter: '1024', softIfHardRefused: '' });
    expect(nofileSteps({ soft: 1024n, hard: 4096n }, { soft: RLIM_INFINITY, hard: RLIM_INFINITY })).toEqual({ softFirst: '', hard: 'unlimited', softAfter: 'unlimited', softIfHardRefused: '4096' });
  });
});
