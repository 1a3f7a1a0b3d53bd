import { describe, expect, it } from 'vitest';
import { splitWords } from '../../../src/units/values.js';
import { cunescapeOne, ExtractError, extractFirstWord } from '../../../src/units/words.js';

describe('splitWords (Environment= and lists)', () => {
  // oracle 252: Environment="A=1 2" B=\x41 and Environment='C=x y' D="q\"r"
  // → Environment="A=1 2" B=A "C=x y" "D=q\"r"
  it('splits like systemd for Environment=', () => {
    expect(splitWords('"A=1 2" B=\\x41')).toEqual(['A=1 2', 'B=A']);
    expect(splitWords(`'C=x y' D="q\\"r"`)).toEqual(['C=x y', 'D=q"r']);
  });

  it('coalesces blanks and accepts tabs/newlines as separators', () => {
    expect(splitWords('  a \t b\n\nc  ')).toEqual(['a', 'b', 'c']);
    expect(splitWords('')).toEqual([]);
    expect(splitWords('   ')).toEqual([]);
  });

  it('empty quotes give an empty word; quotes join with neighbours', () => {
    expect(splitWords('"" a""b \'\'')).toEqual(['', 'ab', '']);
    expect(splitWords(`a"b c"d'e f'g`)).toEqual(['ab cde fg']);
  });

  it('single quotes do not stop escapes (systemd, unlike the shell)', () => {
    expect(splitWords(`'a\\tb'`)).toEqual(['a\tb']);
    expect(splitWords(`"it's" 'say "hi"'`)).toEqual(["it's", 'say "hi"']);
  });

  it('decodes all C escapes', () => {
    expect(splitWords('\\a\\b\\f\\n\\r\\t\\v\\\\\\"\\\'\\s')).toEqual(['\x07\b\f\n\r\t\v\\"\' ']);
    expect(splitWords('\\x41\\102\\u00e9\\U0001F600')).toEqual(['ABé😀']);
    expect(splitWords('\\xe2\\x82\\xac')).toEqual(['€']);
  });

  it('keeps unknown escapes verbatim and warns', () => {
    const warnings: string[] = [];
    expect(splitWords('a\\qb \\x0 \\x00 \\000 \\400', undefined, (m) => warnings.push(m))).toEqual([
      'a\\qb',
      '\\x0',
      '\\x00',
      '\\000',
      '\\400',
    ]);
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toBe('Ignoring unknown escape sequences: "a\\qb"');
  });

  it('a trailing backslash is kept', () => {
    expect(splitWords('a\\')).toEqual(['a\\']);
  });

  it('unbalanced quoting throws', () => {
    expect(() => splitWords('"abc')).toThrow(ExtractError);
    expect(() => splitWords("a 'b")).toThrow(/Unbalanced quoting/);
  });

  it('without unquote, quotes are ordinary and a backslash just drops itself', () => {
    expect(splitWords('"a b" c\\d', {})).toEqual(['"a', 'b"', 'cd']);
  });
});

describe('extractFirstWord', () => {
  it('reports where to continue', () => {
    expect(extractFirstWord('ab  cd', 0, {})).toEqual({ word: 'ab', next: 4 });
    expect(extractFirstWord('ab  cd', 4, {})).toEqual({ word: 'cd', next: -1 });
    expect(extractFirstWord('ab  ', 0, {})).toEqual({ word: 'ab', next: -1 });
    expect(extractFirstWord('   ', 0, {})).toEqual({ word: null, next: -1 });
    expect(extractFirstWord('x', -1, {})).toEqual({ word: null, next: -1 });
  });

  it('takes other separators', () => {
    expect(extractFirstWord('a:b', 0, { separators: ':' })).toEqual({ word: 'a', next: 2 });
  });

  it('relax accepts unbalanced quotes', () => {
    expect(extractFirstWord('"ab', 0, { unquote: true, relax: true }).word).toBe('ab');
  });
});

describe('cunescapeOne', () => {
  it('refuses NUL and out-of-range values', () => {
    expect(cunescapeOne('x00', 0)).toBeNull();
    expect(cunescapeOne('000', 0)).toBeNull();
    expect(cunescapeOne('u0000', 0)).toBeNull();
    expect(cunescapeOne('U0000D800', 0)).toBeNull();
    expect(cunescapeOne('U00110000', 0)).toBeNull();
    expect(cunescapeOne('377', 0)).toEqual({ bytes: [255], length: 3 });
    expect(cunescapeOne('xfF', 0)).toEqual({ bytes: [255], length: 3 });
    expect(cunescapeOne('q', 0)).toBeNull();
  });
});
