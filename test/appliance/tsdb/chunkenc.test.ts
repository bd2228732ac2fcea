import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkError,
  XorChunkEncoder,
  XorChunkIterator,
  chunkSampleCount,
  decodeChunk,
} from '../../../appliance/tsdb/chunkenc.ts';
import { STALE_NAN_BITS, float64Bits, float64FromBits } from '../../../appliance/model/sample.ts';

/** Values as raw bits, so the test itself never quiets a NaN payload. */
function roundTrip(ts: number[], bits: bigint[]): void {
  const enc = new XorChunkEncoder();
  for (let i = 0; i < ts.length; i++) enc.append(ts[i]!, float64FromBits(bits[i]!));
  const bytes = enc.bytes();
  assert.equal(chunkSampleCount(bytes), ts.length);
  const it = new XorChunkIterator(bytes);
  for (let i = 0; i < ts.length; i++) {
    assert.ok(it.next(), `sample ${i} present`);
    assert.equal(it.t, ts[i], `timestamp ${i}`);
    assert.equal(float64Bits(it.v), bits[i], `value bits ${i}`);
  }
  assert.equal(it.next(), false);
}

test('special values survive bit-exactly, StaleNaN included', () => {
  const specials = [1, 1, 1.5, -2, 1e300, NaN, Infinity, -Infinity, -0, 0, 123456.789, 5e-324, 2 ** 53 + 2];
  const bits = specials.map(float64Bits);
  bits.push(STALE_NAN_BITS, 0x7ff8000000000001n, STALE_NAN_BITS, 0xfff0000000000002n);
  const ts = bits.map((_, i) => 1_700_000_000_000 + i * 15_000);
  roundTrip(ts, bits);
});

test('every timestamp delta-of-delta bucket and its edges', () => {
  const dods = [
    0,
    1,
    -1,
    8191,
    -8192,
    8192,
    -8193,
    65535,
    -65536,
    65536,
    524287,
    -524288,
    524288,
    2 ** 40,
    -(2 ** 40),
  ];
  const ts = [-5_000_000_000_000, -5_000_000_000_000 + 1_000_000_000_000]; // negative times (before 1970) too
  let delta = 1_000_000_000_000;
  for (const d of dods) {
    delta += d;
    if (delta <= 0) delta = 1 + Math.abs(d);
    ts.push(ts[ts.length - 1]! + delta);
  }
  roundTrip(
    ts,
    ts.map((_, i) => float64Bits(i * 0.1)),
  );
});

test('random walks of many shapes round-trip', () => {
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let shape = 0; shape < 50; shape++) {
    const ts: number[] = [];
    const bits: bigint[] = [];
    let t = Math.floor(rnd() * 2e12);
    let v = rnd() * 1000;
    const n = 1 + Math.floor(rnd() * 300);
    for (let i = 0; i < n; i++) {
      t += 1 + Math.floor(rnd() * (shape % 2 ? 30_000 : 2));
      if (shape % 3 === 0) v += Math.floor(rnd() * 100);
      else if (shape % 3 === 1) v = Math.round(rnd() * 1000) / 10;
      else v = rnd() * 1e-5;
      ts.push(t);
      bits.push(float64Bits(v));
    }
    roundTrip(ts, bits);
  }
});

test('a constant series with a regular interval costs about one bit per sample', () => {
  const enc = new XorChunkEncoder();
  for (let i = 0; i < 240; i++) enc.append(1e12 + i * 15_000, 1);
  // 3 header bytes + 16 bytes for the first sample + 17-bit first delta + 238 one-bit samples.
  assert.ok(enc.byteLength <= 3 + 16 + 8 + 30, `got ${enc.byteLength} bytes`);
});

test('corrupt and truncated chunks raise ChunkError, never garbage', () => {
  const enc = new XorChunkEncoder();
  for (let i = 0; i < 50; i++) enc.append(1000 + i * 1000, Math.sin(i));
  const good = enc.bytes();
  assert.throws(() => new XorChunkIterator(new Uint8Array([1])), ChunkError);
  assert.throws(() => new XorChunkIterator(new Uint8Array([9, 0, 1])), /unknown chunk encoding/);
  const truncated = good.slice(0, good.length - 20);
  assert.throws(() => decodeChunk(truncated), ChunkError);
  const lying = good.slice();
  lying[1] = 0xff; // claims 65k samples
  assert.throws(() => decodeChunk(lying), ChunkError);
});

test('seek moves forward only and finds the first sample at or after t', () => {
  const enc = new XorChunkEncoder();
  for (let i = 0; i < 10; i++) enc.append(i * 10, i);
  const it = new XorChunkIterator(enc.bytes());
  assert.ok(it.seek(35));
  assert.equal(it.t, 40);
  assert.ok(it.seek(10));
  assert.equal(it.t, 40);
  assert.equal(it.seek(1000), false);
});
