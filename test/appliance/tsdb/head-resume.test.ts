// Readers resume decoding a head chunk where the previous reader stopped. Whatever the order of appends and
// reads, every read must return exactly the samples a fresh decode returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { fakeClock, openTsdb, tempDir } from './helpers.ts';

const ALL = [newMatcher('=~', '__name__', '.+')];

test('reads that resume inside the head chunk return exactly what is stored, for any range order', () => {
  const dir = tempDir();
  const T0 = Date.UTC(2026, 10, 25, 12);
  const clock = fakeClock(T0);
  const db = openTsdb(dir, clock);
  try {
    const labels = labelsFromRecord({ __name__: 'x', job: 'j' });
    const stored: { t: number; v: number }[] = [];
    let ref = 0;
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let t = T0;
    let cursor = T0 - 1;
    for (let round = 0; round < 600; round++) {
      // Append one to three samples (values repeat, jump, or are NaN-free noise).
      for (let k = rnd(3) + 1; k > 0; k--) {
        t += 1000 + (rnd(4) === 0 ? rnd(3000) : 0);
        const v = rnd(5) === 0 ? (stored.at(-1)?.v ?? 0) : rnd(1000) / 7;
        const a = db.appender();
        ref = a.append(ref, labels, t, v);
        a.commit();
        stored.push({ t, v });
      }
      // A reader like remote write: from its cursor to a point at or before the newest sample.
      const upper = t - rnd(3) * 1000;
      const ranges: [number, number][] = [[cursor + 1, upper]];
      // And a reader like a query: any range, often overlapping what was read before.
      const a = T0 + rnd(Math.max(1, t - T0));
      ranges.push([a, a + rnd(20_000)]);
      for (const [mint, maxt] of ranges) {
        const got: { t: number; v: number }[] = [];
        for (const s of db.querier().select(ALL, mint, maxt)) {
          const it = s.iterator();
          while (it.next()) got.push({ t: it.t, v: it.v });
        }
        const want = stored.filter((x) => x.t >= mint && x.t <= maxt);
        assert.deepEqual(got, want, `round ${round}: [${mint - T0}, ${maxt - T0}]`);
      }
      cursor = Math.max(cursor, upper);
    }
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a series read before more appends yields exactly the samples there were when it was selected', () => {
  const dir = tempDir();
  const T0 = Date.UTC(2026, 10, 25, 12);
  const db = openTsdb(dir, fakeClock(T0));
  try {
    const labels = labelsFromRecord({ __name__: 'x' });
    let ref = 0;
    const put = (i: number): void => {
      const a = db.appender();
      ref = a.append(ref, labels, T0 + i * 1000, i * 1.5);
      a.commit();
    };
    for (let i = 0; i < 10; i++) put(i);
    const [series] = db.querier().select(ALL, T0, T0 + 1_000_000);
    // The head chunk grows (and its buffer is reallocated) after the select, before the read.
    for (let i = 10; i < 400; i++) put(i);
    const it = series!.iterator();
    const got: number[] = [];
    while (it.next()) got.push(it.v);
    assert.deepEqual(
      got,
      Array.from({ length: 10 }, (_, i) => i * 1.5),
    );
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
