import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseByteSize, parseDuration } from '../../../appliance/config/duration.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it('parses every unit and combinations in Prometheus order', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['0s', 0],
      ['1ms', 1],
      ['15s', 15 * S],
      ['1m', M],
      ['1h30m', H + 30 * M],
      ['15d', 15 * D],
      ['1w', 7 * D],
      ['1y', 365 * D],
      ['1y2w3d4h5m6s7ms', 365 * D + 14 * D + 3 * D + 4 * H + 5 * M + 6 * S + 7],
      ['90m', 90 * M],
    ];
    for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  });

  it('rejects what Prometheus rejects', () => {
    const bad = [
      '',
      '1',
      '10',
      '1.5s',
      '-1s',
      '+1s',
      '1m1h',
      '1s1s',
      ' 1s',
      '1s ',
      '1S',
      '1sec',
      's',
      'ms',
      '1h 30m',
      '∞',
    ];
    for (const text of bad) assert.throws(() => parseDuration(text), RangeError, JSON.stringify(text));
  });

  it('hints at a missing unit and quotes the input', () => {
    assert.throws(() => parseDuration('15'), /not a valid duration string: "15" \(missing unit/);
    assert.throws(() => parseDuration(''), /empty duration string/);
  });

  it('refuses values beyond exact integer milliseconds', () => {
    assert.throws(() => parseDuration('99999999999999999999y'), /out of range/);
    assert.throws(() => parseDuration(`${Number.MAX_SAFE_INTEGER}ms1`), RangeError);
  });
});

describe('formatDuration', () => {
  it('prints like Prometheus', () => {
    const cases: [number, string][] = [
      [0, '0s'],
      [1, '1ms'],
      [1500, '1s500ms'],
      [M, '1m'],
      [H + 30 * M, '1h30m'],
      [14 * D, '2w'],
      [90 * D, '90d'], // not 12w6d: weeks and years only when exact
      [365 * D, '1y'],
      [366 * D, '366d'],
      [15 * D + 1, '15d1ms'],
    ];
    for (const [ms, text] of cases) assert.equal(formatDuration(ms), text, String(ms));
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 61_001, 3 * H, 7 * D, 8 * D + 1, 730 * D, 123_456_789_012]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });

  it('refuses negative, fractional and non-finite input', () => {
    for (const ms of [-1, 0.5, NaN, Infinity]) assert.throws(() => formatDuration(ms), RangeError);
  });
});

describe('parseByteSize', () => {
  it('reads Go base-2 units, old and new style', () => {
    const cases: [string | number, number][] = [
      [0, 0],
      ['0', 0],
      [1024, 1024],
      ['100B', 100],
      ['512KB', 512 * 1024],
      ['512KiB', 512 * 1024],
      ['10MB', 10 * 1024 ** 2],
      ['10MiB', 10 * 1024 ** 2],
      ['1GB', 1024 ** 3],
      ['1GiB', 1024 ** 3],
      ['2TB', 2 * 1024 ** 4],
      ['1.5KB', 1536],
      ['.5KB', 512],
      ['1GB512MB', 1024 ** 3 + 512 * 1024 ** 2],
    ];
    for (const [input, bytes] of cases) assert.equal(parseByteSize(input), bytes, String(input));
  });

  it('rejects sizes without units, unknown units, signs and garbage', () => {
    const bad = [
      '',
      '10',
      '10XB',
      'KB',
      '-1KB',
      '+1KB',
      '1 KB',
      '10kb',
      '10kB',
      '1.5',
      'ten MB',
      '1e3KB',
      '9999999999EB',
    ];
    for (const text of bad) assert.throws(() => parseByteSize(text), RangeError, JSON.stringify(text));
    for (const n of [-1, 1.5, NaN, Infinity, 2 ** 60])
      assert.throws(() => parseByteSize(n), RangeError, String(n));
  });

  it('names the bad unit', () => {
    assert.throws(() => parseByteSize('10XB'), /unknown unit "XB"/);
    assert.throws(() => parseByteSize('10'), /missing unit/);
  });
});
