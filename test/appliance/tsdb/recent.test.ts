import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STALE_NAN, STALE_NAN_BITS, float64Bits } from '../../../appliance/model/sample.ts';
import { RecentRing } from '../../../appliance/tsdb/recent.ts';

function push(ring: RecentRing, samples: [ref: number, t: number, v: number][], now: number): void {
  ring.push(
    samples.map((s) => s[0]),
    samples.map((s) => s[1]),
    Float64Array.from(samples.map((s) => s[2])),
    samples.length,
    now,
  );
}

test('recent ring: reads (from, to] in commit order, staleness markers bit-exact', () => {
  const ring = new RecentRing(-Infinity, 60_000, 1000, 2);
  push(
    ring,
    [
      [1, 1000, 1],
      [2, 1000, 2],
    ],
    1000,
  );
  const v = new Float64Array(1);
  v[0] = STALE_NAN; // an array literal would quiet the NaN
  ring.push([1], [2000], v, 1, 2000);
  push(ring, [[2, 2000, 3]], 2000);
  const e = ring.read(1000, 2000);
  assert.equal(e.count, 2);
  assert.deepEqual([...e.refs], [1, 2]);
  assert.equal(float64Bits(e.v[0]!), STALE_NAN_BITS);
  assert.equal(e.v[1], 3);
  assert.equal(ring.read(-Infinity, Infinity).count, 4, 'grew past its initial size');
  assert.equal(ring.coveredAfter(), -Infinity);
});

test('recent ring: expiry and the size cap drop the oldest and raise what it covers', () => {
  const ring = new RecentRing(500, 10_000, 4, 2);
  assert.equal(ring.coveredAfter(), 500);
  push(
    ring,
    [
      [1, 1000, 1],
      [1, 2000, 1],
      [1, 3000, 1],
    ],
    3000,
  );
  push(ring, [[1, 20_000, 1]], 20_000); // everything before 10 000 expires
  assert.equal(ring.length, 1);
  assert.equal(ring.coveredAfter(), 3000);
  push(
    ring,
    [
      [2, 21_000, 1],
      [2, 22_000, 1],
      [2, 23_000, 1],
      [2, 24_000, 1],
    ],
    24_000,
  ); // cap 4: 20 000 goes
  assert.equal(ring.length, 4);
  assert.equal(ring.coveredAfter(), 20_000);
  assert.deepEqual([...ring.read(20_000, 30_000).t], [21_000, 22_000, 23_000, 24_000]);
});
