// The conformance runner must be able to fail: wrong expectations, missing errors and unexpected warnings.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../../appliance/promql/engine.ts';
import { runFile, expandValues, parseSeriesDesc, almostEqual } from './promqltest.ts';

const engine = new Engine({ maxSamples: 1_000_000, timeoutMs: 60_000, lookbackDeltaMs: 300_000 });

const FILE = `
load 1m
  m{a="x"} 1+1x4
  m{a="y"} 10 _ stale 13

eval instant at 2m m
  m{a="x"} 3

eval instant at 2m m
  m{a="x"} 3
  m{a="y"} 10

eval instant at 2m m{a="x"}
  m{a="x"} 4

eval range from 0 to 4m step 1m m{a="y"}
  m{a="y"} 10 10 _ 13 13

eval instant at 0 1 / 0
  +Inf

eval instant at 0 sum(
  expect fail

eval instant at 0 vector(1)
  expect fail

eval range from 0 to 2m step 1m sort(m)
  m{a="x"} 1 2 3
  m{a="y"} 10 10

eval range from 0 to 2m step 1m sort(m)
  expect warn
  m{a="x"} 1 2 3
  m{a="y"} 10 10
`;

describe('promqltest runner', () => {
  it('passes right expectations and fails wrong ones', async () => {
    const results = await runFile('selftest', FILE, engine);
    assert.deepEqual(
      results.map((r) => r.status),
      ['pass', 'fail', 'fail', 'pass', 'pass', 'pass', 'fail', 'fail', 'pass'],
      results.map((r) => `${r.c.line}: ${r.status} ${r.reason}`).join('\n'),
    );
    assert.match(results[1]!.reason, /got 1 series, expected 2/, 'the staleness marker at 2m hides m{a="y"}');
    assert.match(results[2]!.reason, /value 3, expected 4/);
    assert.match(results[6]!.reason, /expected an error/);
    assert.match(results[7]!.reason, /unexpected warnings/);
  });

  it('works the same on sealed SQLite storage', async () => {
    const results = await runFile('selftest', FILE, engine, 'sealed');
    assert.deepEqual(
      results.map((r) => r.status),
      ['pass', 'fail', 'fail', 'pass', 'pass', 'pass', 'fail', 'fail', 'pass'],
    );
  });

  it('expands the series notation', () => {
    const v = expandValues('1+2x2 _x2 stale 5-1x1 3x1 {{count:1}}x1 -Inf');
    assert.deepEqual(
      v.map((x) => (x.kind === 'num' ? x.v : x.kind)),
      [1, 3, 5, 'gap', 'gap', 'stale', 5, 4, 3, 3, 'histogram', 'histogram', -Infinity],
    );
  });

  it('parses series descriptions with quoted names and escapes', () => {
    assert.deepEqual(parseSeriesDesc('foo{a="b\\"c", "d e"="f"}'), [
      { name: '__name__', value: 'foo' },
      { name: 'a', value: 'b"c' },
      { name: 'd e', value: 'f' },
    ]);
    assert.deepEqual(parseSeriesDesc('{"utf8.name", x="1"}'), [
      { name: '__name__', value: 'utf8.name' },
      { name: 'x', value: '1' },
    ]);
  });

  it("compares floats with Prometheus's tolerance", () => {
    assert.ok(almostEqual(1, 1 + 1e-9));
    assert.ok(!almostEqual(1, 1.0001));
    assert.ok(almostEqual(NaN, NaN));
    assert.ok(!almostEqual(0, 1e-300));
  });
});
