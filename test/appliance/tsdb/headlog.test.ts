import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { RecordValueState } from '../../../appliance/tsdb/headlog.ts';
import {
  decodeSamplesRecord,
  encodeSamplesRecord,
  LogCorruptError,
  MapValueState,
  SegmentedLog,
} from '../../../appliance/tsdb/headlog.ts';
import { float64Bits, float64FromBits, STALE_NAN_BITS } from '../../../appliance/model/sample.ts';
import { tempDir } from './helpers.ts';

/** The writer's state keyed by the sample's series, like the TSDB keeps it on its series objects. */
function writerState(refs: number[]): RecordValueState {
  const m = new MapValueState();
  return { get: (i, out) => m.get(refs[i]!, out), set: (i, lo, hi) => m.set(refs[i]!, lo, hi) };
}

function record(refs: number[], ts: number[], bits: bigint[], state = writerState(refs)): Uint8Array {
  const values = new Float64Array(bits.length);
  const view = new DataView(values.buffer);
  bits.forEach((b, i) => view.setBigUint64(i * 8, b, true));
  return encodeSamplesRecord(refs, ts, values, refs.length, state);
}

function decode(
  payload: Uint8Array,
  state = new MapValueState(),
): { ref: number; t: number; bits: bigint }[] {
  const out: { ref: number; t: number; bits: bigint }[] = [];
  decodeSamplesRecord(payload, state, (ref, t, v) => out.push({ ref, t, bits: float64Bits(v) }));
  return out;
}

test('records round-trip bit-exactly, small and deflated, including StaleNaN and repeats', () => {
  for (const n of [3, 2000]) {
    const refs = Array.from({ length: n }, (_, i) => 1 + (i % 700));
    const ts = refs.map((_, i) => 1_700_000_000_000 + Math.floor(i / 700) * 15_000);
    const bits = refs.map((_, i) =>
      i % 5 === 0 ? STALE_NAN_BITS : float64Bits(i % 3 === 0 ? 1 : i % 3 === 1 ? i * 1.5 : -1e-300),
    );
    const got = decode(record(refs, ts, bits));
    assert.deepEqual(
      got,
      refs.map((ref, i) => ({ ref, t: ts[i], bits: bits[i] })),
    );
  }
});

test('an unchanged value costs one byte; a deflated record of constants is far below a byte per sample', () => {
  const refs = Array.from({ length: 5000 }, (_, i) => i + 1);
  const ts = refs.map(() => 1_700_000_000_000);
  const state = writerState(refs);
  record(
    refs,
    ts,
    refs.map(() => float64Bits(42)),
    state,
  );
  const second = record(
    refs,
    ts.map((t) => t + 15_000),
    refs.map(() => float64Bits(42)),
    state,
  );
  assert.ok(second.length < 5000 / 4, `second record ${second.length} bytes`);
});

test('corrupt records raise LogCorruptError, never garbage', () => {
  const good = record([1, 2], [1000, 1000], [float64Bits(1), float64Bits(2)]);
  assert.throws(() => decode(new Uint8Array()), LogCorruptError);
  assert.throws(() => decode(Uint8Array.from([9, 1, 2])), /unknown record kind/);
  assert.throws(() => decode(good.subarray(0, good.length - 3)), LogCorruptError);
  assert.throws(() => decode(Uint8Array.from([...good, 0])), /trailing bytes/);
  const badHeader = Uint8Array.from([1, 1, 2, 2, 0x7f]);
  assert.throws(() => decode(badHeader), /bad value header/);
  const notDeflate = Uint8Array.from([2, 0xff, 0xff, 0xff]);
  assert.throws(() => decode(notDeflate), /cannot inflate/);
  // A deflate bomb claiming a huge record is bounded by the inflate limit, not by memory.
  const bomb = Uint8Array.from([2, ...zlib.deflateRawSync(Buffer.alloc(1024 * 1024, 0xff))]);
  assert.throws(() => decode(bomb), LogCorruptError);
});

test('segments: replay stops at a torn or corrupted record and reports it; truncate keeps the current one', () => {
  const dir = tempDir();
  try {
    let now = 0;
    const log = new SegmentedLog(dir, () => now);
    log.openNew();
    const payloads = [1, 2, 3].map((k) => record([k], [k * 1000], [float64Bits(k)]));
    for (const p of payloads) log.append(p, 0);
    log.close();
    const file = path.join(dir, '00000001.log');
    const data = fs.readFileSync(file);
    // Flip a byte inside the last record's payload: its checksum no longer matches.
    data[data.length - 2] = data[data.length - 2]! ^ 0xff;
    fs.writeFileSync(file, data);
    const seen: string[] = [];
    const problems: string[] = [];
    new SegmentedLog(dir, () => now).replay(
      (p) => seen.push(JSON.stringify(decode(p).map((s) => s.ref))),
      (_seg, _off, reason) => problems.push(reason),
    );
    assert.deepEqual(seen, ['[1]', '[2]']);
    assert.deepEqual(problems, ['checksum mismatch']);

    const log2 = new SegmentedLog(dir, () => now);
    now = 10;
    log2.openNew();
    log2.append(payloads[0]!, 5000);
    assert.equal(
      log2.truncate(() => true),
      1,
      'the closed segment goes',
    );
    assert.equal(log2.list().length, 1, 'the current one stays');
    log2.close();
    fs.appendFileSync(path.join(dir, '00000002.log'), Buffer.from([200, 0, 0]));
    const torn: string[] = [];
    new SegmentedLog(dir, () => now).replay(
      () => {},
      (_s, _o, reason) => torn.push(reason),
    );
    assert.deepEqual(torn, ['torn record header']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('float64FromBits and float64Bits agree for every NaN payload used here', () => {
  for (const b of [STALE_NAN_BITS, 0x7ff8000000000000n, 0xfff8000000000001n]) {
    assert.equal(float64Bits(float64FromBits(b)), b);
  }
});
