import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileRegex,
  translateRe2,
  expandTemplate,
  RegexSyntaxError,
} from '../../../appliance/promql/regex.ts';

describe('RE2 to JavaScript regular expressions', () => {
  const matches: [string, string, boolean][] = [
    ['foo', 'foo', true],
    ['foo', 'foobar', false], // anchored at both ends
    ['a.c', 'a\nc', true], // dot matches newline, like Prometheus's (?s:...)
    ['(?i)abc', 'ABC', true],
    ['x(?i)abc', 'xABC', true],
    ['x(?i)abc', 'XABC', false], // the flag applies only after it
    ['(?i:a)b', 'Ab', true],
    ['(?i:a)b', 'AB', false],
    ['(?P<name>a+)b', 'aab', true],
    ['\\Qa.b*\\E', 'a.b*', true],
    ['\\Qa.b*\\E', 'axbb', false],
    ['[[:alpha:]]+', 'abcXYZ', true],
    ['[[:digit:]]+', '12a', false],
    ['a{', 'a{', true], // a brace that is no repetition is a literal in RE2
    ['a{2}', 'aa', true],
    ['a\\-b', 'a-b', true], // RE2 lets any punctuation be escaped
    ['[\\-a]+', 'a-a', true],
    ['\\pL+', 'héllo', true],
    ['a\\z', 'a', true],
    ['é+', 'éé', true],
    ['', '', true],
    ['a|b', 'b', true],
  ];
  for (const [re, s, want] of matches) {
    it(`${JSON.stringify(re)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(s)}`, () => {
      assert.equal(compileRegex(re).test(s), want);
    });
  }

  const rejected = [
    '(?=a)',
    '(?!a)',
    '(?<=a)b',
    '(?<!a)b',
    '(a)\\1',
    '\\k<x>',
    '(?U)a+',
    '(?>a)',
    'a)',
    '(a',
    '[a',
    '\\',
    'a{1001}',
  ];
  for (const re of rejected) {
    it(`rejects ${JSON.stringify(re)} as RE2 would (or as unsupported)`, () => {
      assert.throws(() => compileRegex(re), RegexSyntaxError);
    });
  }

  it('translates without changing plain patterns', () => {
    assert.equal(translateRe2('abc.*[0-9]+'), 'abc.*[0-9]+');
  });
});

describe("Go's Regexp.Expand templates (label_replace)", () => {
  const m = /^(?<first>a+)(b*)$/u.exec('aabb')!;
  it('expands numbered and named groups', () => {
    assert.equal(expandTemplate('$1-$2', m), 'aa-bb');
    assert.equal(expandTemplate('${1}x', m), 'aax');
    assert.equal(expandTemplate('$first', m), 'aa');
    assert.equal(expandTemplate('${first}_', m), 'aa_');
  });
  it('treats $1x as the (absent) group named "1x", like Go', () => {
    assert.equal(expandTemplate('$1x', m), '');
  });
  it('keeps $$ and a lone $ literal', () => {
    assert.equal(expandTemplate('$$1', m), '$1');
    assert.equal(expandTemplate('cost: $', m), 'cost: $');
    assert.equal(expandTemplate('$9', m), '');
  });
});

describe('RE2 escapes that differ in JavaScript', () => {
  it('\\s matches ASCII whitespace only, as in RE2', () => {
    assert.ok(compileRegex('a\\sb').test('a b'));
    assert.ok(compileRegex('a\\sb').test('a\tb'));
    assert.ok(!compileRegex('a\\sb').test('a\u00a0b'));
    assert.ok(compileRegex('a\\Sb').test('a\u00a0b'));
    assert.ok(compileRegex('[\\s,]+').test(' ,\n'));
  });
  it('\\x{...} is a code point', () => {
    assert.ok(compileRegex('\\x{e9}').test('é'));
    assert.ok(compileRegex('\\x41').test('A'));
  });
  it('rejects \\C', () => {
    assert.throws(() => compileRegex('a\\Cb'), RegexSyntaxError);
  });
});
