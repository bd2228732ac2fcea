import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketQuantile,
  bucketFraction,
  formatFloatPlain,
  goPow,
  kahanSumInc,
  naturalCompare,
  quantile,
  extrapolatedRate,
  doubleExponentialSmoothing,
} from '../../../appliance/promql/functions.ts';

describe('PromQL numeric kernels', () => {
  it('Kahan-Neumaier summation keeps what plain addition loses', () => {
    let sum = 0;
    let c = 0;
    for (const x of [1, 1e100, 1, -1e100]) [sum, c] = kahanSumInc(x, sum, c);
    assert.equal(sum + c, 2);
    assert.equal(1 + 1e100 + 1 - 1e100, 0, 'plain addition loses both ones');
  });

  it("follows Go's math.Pow special cases", () => {
    assert.equal(goPow(1, NaN), 1);
    assert.equal(goPow(-1, Infinity), 1);
    assert.equal(goPow(NaN, 0), 1);
    assert.equal(goPow(2, 10), 1024);
  });

  it('interpolates quantiles like Prometheus, with out-of-range and NaN parameters', () => {
    assert.equal(quantile(0.5, [1, 2, 3, 4]), 2.5);
    assert.equal(quantile(0, [3, 1]), 1);
    assert.equal(quantile(-1, [1]), -Infinity);
    assert.equal(quantile(2, [1]), Infinity);
    assert.ok(Number.isNaN(quantile(NaN, [1])));
    assert.ok(Number.isNaN(quantile(0.5, [])));
  });

  it('computes classic-histogram quantiles and flags non-monotonic buckets', () => {
    const b = [
      { upperBound: 0.1, count: 10 },
      { upperBound: 0.5, count: 20 },
      { upperBound: Infinity, count: 20 },
    ];
    assert.equal(bucketQuantile(0.5, b).value, 0.1);
    assert.ok(Math.abs(bucketQuantile(0.75, b).value - 0.3) < 1e-12);
    assert.equal(bucketQuantile(1, b).value, 0.5, 'the highest finite bound for the top quantile');
    assert.ok(Number.isNaN(bucketQuantile(0.5, b.slice(0, 2)).value), 'no +Inf bucket');
    const broken = bucketQuantile(0.5, [
      { upperBound: 1, count: 10 },
      { upperBound: 2, count: 5 },
      { upperBound: Infinity, count: 10 },
    ]);
    assert.equal(broken.forcedMonotonic, true);
  });

  it('estimates the fraction of observations between two values from classic buckets', () => {
    const b = [
      { upperBound: 0, count: 0 },
      { upperBound: 2, count: 10 },
      { upperBound: 4, count: 20 },
      { upperBound: 6, count: 30 },
      { upperBound: Infinity, count: 30 },
    ];
    assert.ok(Math.abs(bucketFraction(0, 4, b) - 2 / 3) < 1e-12);
    assert.ok(Math.abs(bucketFraction(0, 3.5, b) - 17.5 / 30) < 1e-12, 'interpolates inside a bucket');
    assert.equal(bucketFraction(0, 6, b), 1);
    assert.equal(bucketFraction(5, 1, b), 0);
    assert.ok(Number.isNaN(bucketFraction(0, 1, b.slice(0, 4))), 'needs a +Inf bucket');
  });

  it('extrapolates rates to the window edges and handles counter resets', () => {
    const ts = [15_000, 30_000, 45_000, 60_000];
    const vs = [10, 20, 5, 15];
    // Increase: 10 + (reset: 20 + 5 - 5 => +5) + 10 = 25 over 45 s, extrapolated to the 60 s window.
    const inc = extrapolatedRate(ts, vs, 0, 4, 0, 60_000, 60_000, true, false)!;
    assert.ok(inc > 25 && inc <= 25 * (60 / 45) + 1e-9);
    assert.equal(
      extrapolatedRate(ts, vs, 0, 1, 0, 60_000, 60_000, true, false),
      undefined,
      'needs two samples',
    );
  });

  it("formats floats like Go's strconv 'f' format", () => {
    assert.equal(formatFloatPlain(1e21), '1000000000000000000000');
    assert.equal(formatFloatPlain(1.5e-7), '0.00000015');
    assert.equal(formatFloatPlain(-2.5), '-2.5');
    assert.equal(formatFloatPlain(Infinity), '+Inf');
    assert.equal(formatFloatPlain(NaN), 'NaN');
  });

  it('compares label values naturally for sort_by_label', () => {
    assert.ok(naturalCompare('a2', 'a10') < 0);
    assert.ok(naturalCompare('b', 'a10') > 0);
    assert.equal(naturalCompare('x1', 'x1'), 0);
  });

  it('smooths with double exponential smoothing and needs two points', () => {
    assert.equal(doubleExponentialSmoothing([1], 0.5, 0.5), undefined);
    assert.equal(doubleExponentialSmoothing([1, 2, 3, 4], 0.5, 0.5), 4);
  });
});
