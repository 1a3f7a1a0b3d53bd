import { describe, expect, it } from 'vitest';
import { fnmatch } from '../../../src/util/fnmatch.js';

describe('fnmatch', () => {
  it.each([
    ['*.service', 'foo.service', true],
    ['*.service', 'foo.socket', false],
    ['f*', 'foo.service', true],
    ['f?o.service', 'foo.service', true],
    ['f?o.service', 'fo.service', false],
    ['[a-c]*', 'bar', true],
    ['[!a-c]*', 'bar', false],
    ['[!a-c]*', 'dar', true],
    ['foo\\*', 'foo*', true],
    ['foo\\*', 'foox', false],
    ['*', '', true],
    ['', '', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['[', '[', true],
    ['getty@*.service', 'getty@tty1.service', true],
  ])('%s vs %s', (pattern, text, expected) => {
    expect(fnmatch(pattern, text)).toBe(expected);
  });
});
