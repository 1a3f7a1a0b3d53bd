import { describe, expect, it } from 'vitest';
import { USEC_INFINITY } from '../../../src/units/types.js';
import {
  formatAt,
  parseBoolean,
  parseExitStatus,
  parseExitStatusSet,
  parseSignal,
  parseTimespan,
  signalName,
  ValueError,
} from '../../../src/units/values.js';

describe('parseBoolean', () => {
  it.each(['1', 'yes', 'y', 'true', 't', 'on', 'YES', 'True', 'On', 'T'])('%s is true', (s) => {
    expect(parseBoolean(s)).toBe(true);
  });
  it.each(['0', 'no', 'n', 'false', 'f', 'off', 'NO', 'False', 'OFF', 'N'])('%s is false', (s) => {
    expect(parseBoolean(s)).toBe(false);
  });
  it.each(['', '2', 'yess', 'enable', ' yes', 'yes '])('%j is an error', (s) => {
    expect(() => parseBoolean(s)).toThrow(ValueError);
  });
});

describe('parseSignal', () => {
  it.each([
    ['SIGTERM', 15],
    ['TERM', 15],
    ['SIGKILL', 9],
    ['HUP', 1],
    ['SIGSTKFLT', 16],
    ['SIGCHLD', 17],
    ['SIGIO', 29],
    ['SIGPWR', 30],
    ['SIGSYS', 31],
    ['15', 15],
    ['1', 1],
    ['64', 64],
    [' 9', 9],
    ['+9', 9],
    // oracle 252: KillSignal=0x9 → 9 and KillSignal=010 → 8 (C integer syntax)
    ['0x9', 9],
    ['010', 8],
    ['0b1001', 9],
    ['0o11', 9],
    ['RTMIN', 34],
    ['SIGRTMIN', 34],
    ['RTMIN+0', 34],
    ['SIGRTMIN+3', 37],
    ['RTMIN+30', 64],
    ['RTMAX', 64],
    ['SIGRTMAX-0', 64],
    ['RTMAX-30', 34],
    ['SIGRTMAX-2', 62],
  ])('%s → %i', (s, n) => {
    expect(parseSignal(s)).toBe(n);
  });

  // oracle 252 (systemd-analyze verify): "Failed to parse signal name, ignoring: sigterm",
  // also for SIGRTMIN+40 and 65; RTMAX-3 was accepted.
  it.each([
    'sigterm',
    'Term',
    'SIGterm',
    'sig',
    'SIG',
    '',
    '0',
    '65',
    '-9',
    '9 ',
    'SIGRTMIN+40',
    'RTMIN+31',
    'RTMIN-1',
    'RTMIN+',
    'RTMINX',
    'RTMAX+1',
    'RTMAX-31',
    'SIGIOT',
    'SIGPOLL',
    'KILL9',
  ])('%j is refused', (s) => {
    expect(() => parseSignal(s)).toThrow(ValueError);
  });

  it('signalName gives names for logs', () => {
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(34)).toBe('SIGRTMIN+0');
    expect(signalName(37)).toBe('SIGRTMIN+3');
    expect(signalName(64)).toBe('SIGRTMIN+30');
    expect(signalName(0)).toBe('0');
    expect(signalName(99)).toBe('99');
  });

  it('round-trips every signal through its name', () => {
    for (let n = 1; n <= 64; n++) {
      if (n === 32 || n === 33) continue; // reserved by glibc, no name: digits only
      expect(parseSignal(signalName(n))).toBe(n);
    }
    expect(signalName(32)).toBe('32');
  });
});

const SEC = 1_000_000n;

describe('parseTimespan', () => {
  it.each([
    ['90', 90n * SEC],
    ['0', 0n],
    ['1min 30s', 90n * SEC],
    ['1min30s', 90n * SEC],
    ['  2 min  ', 120n * SEC],
    ['500ms', 500_000n],
    ['500 msec', 500_000n],
    ['2h', 7200n * SEC],
    ['1d', 86400n * SEC],
    ['5us', 5n],
    ['5usec', 5n],
    ['5\u00b5s', 5n],
    ['5\u03bcs', 5n],
    ['1.5s', 1_500_000n],
    ['1.5', 1_500_000n],
    ['.5s', 500_000n],
    ['0.001', 1000n],
    ['1.25min', 75n * SEC],
    ['2 seconds', 2n * SEC],
    ['1 second', SEC],
    ['3sec', 3n * SEC],
    ['2minutes', 120n * SEC],
    ['1minute', 60n * SEC],
    ['5m', 300n * SEC],
    ['1hours', 3600n * SEC],
    ['1hour', 3600n * SEC],
    ['1hr', 3600n * SEC],
    ['2days', 172800n * SEC],
    ['1day', 86400n * SEC],
    ['1w', 604800n * SEC],
    ['1week', 604800n * SEC],
    ['2weeks', 1209600n * SEC],
    ['1M', 2629800n * SEC],
    ['1month', 2629800n * SEC],
    ['1months', 2629800n * SEC],
    ['1y', 31557600n * SEC],
    ['1year', 31557600n * SEC],
    ['2years', 63115200n * SEC],
    ['1h 1min 1s 1ms 1us', 3661n * SEC + 1001n],
    ['5 6', 11n * SEC],
    ['+5s', 5n * SEC],
    ['1s+2', 3n * SEC],
    ['12.34 .56', 12_900_000n],
    ['12.34s.56', 12_900_000n],
    ['infinity', USEC_INFINITY],
    ['  infinity  ', USEC_INFINITY],
  ])('%j → %s µs', (s, us) => {
    expect(parseTimespan(s)).toBe(us);
  });

  it('uses the default unit for bare numbers', () => {
    expect(parseTimespan('5', 'ms')).toBe(5000n);
    expect(parseTimespan('5', 'us')).toBe(5n);
    expect(parseTimespan('5s 3', 'ms')).toBe(5_003_000n);
    expect(() => parseTimespan('5', 'fortnight')).toThrow(TypeError);
  });

  // oracle 252: "5.", "1.2.3", "" ("Failed to parse sec value") and "-1" ("Failed to parse time value") refused
  it.each(['', '   ', '5.', '1.2.3', '-1', '-0', '3.sec', '5x', 'x', '1s x', 'infinity 5', 'infinityx', 'inf', '1 .', '+'])(
    '%j is refused',
    (s) => {
      expect(() => parseTimespan(s)).toThrow(ValueError);
    },
  );

  it('reports overflow as ERANGE', () => {
    try {
      parseTimespan('99999999999999999y');
      expect.unreachable();
    } catch (err) {
      expect((err as ValueError).code).toBe('ERANGE');
    }
    expect(() => parseTimespan('18446744073709551615us')).toThrow(ValueError);
  });
});

describe('parseExitStatusSet', () => {
  it('numbers are statuses, names are signals', () => {
    expect(parseExitStatusSet('1 2 SIGKILL 143').set).toEqual({ statuses: [1, 2, 143], signals: [9] });
  });

  it('accepts systemd/LSB/BSD status names and signal names without SIG', () => {
    const r = parseExitStatusSet('TEMPFAIL  KILL\tEXCEPTION NOTINSTALLED SUCCESS TERM');
    expect(r.set).toEqual({ statuses: [0, 5, 75, 255], signals: [9, 15] });
    expect(r.warnings).toEqual([]);
  });

  it('skips bad words with a warning and keeps the rest, sorted and without duplicates', () => {
    const r = parseExitStatusSet('256 7 bogus 7 SIGUSR1 3');
    expect(r.set).toEqual({ statuses: [3, 7], signals: [10] });
    expect(r.warnings).toEqual(['Failed to parse value, ignoring: 256', 'Failed to parse value, ignoring: bogus']);
  });

  it('empty gives the empty set', () => {
    expect(parseExitStatusSet('').set).toEqual({ statuses: [], signals: [] });
  });

  it('status names are case-sensitive and do not take an EXIT_ prefix', () => {
    expect(() => parseExitStatus('tempfail')).toThrow(ValueError);
    expect(() => parseExitStatus('EXIT_TEMPFAIL')).toThrow(ValueError);
    expect(parseExitStatus('0xff')).toBe(255);
    expect(() => parseExitStatus('-1')).toThrow(ValueError);
  });
});

describe('formatAt', () => {
  it('formats like log_syntax', () => {
    expect(formatAt({ file: '/x/a.service', line: 7 }, 'Failed to parse signal name, ignoring: x')).toBe(
      '/x/a.service:7: Failed to parse signal name, ignoring: x',
    );
  });
});
