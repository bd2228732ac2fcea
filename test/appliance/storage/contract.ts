// The contract of the storage interfaces (Appender, Querier, CursorStore, RecentSamples), run against every implementation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { STALE_NAN, float64Bits, STALE_NAN_BITS } from '../../../appliance/model/sample.ts';
import type {
  Appendable,
  CursorStore,
  Queryable,
  RecentSamples,
  Series,
} from '../../../appliance/storage/interface.ts';
import { SampleError } from '../../../appliance/storage/interface.ts';

export interface StorageUnderTest {
  readonly storage: Appendable & Queryable;
  /** Simulates a restart (clean or not) and returns the reopened storage. */
  reopen?(): Appendable & Queryable;
  close(): void;
}

function collect(series: Series): { t: number; bits: bigint }[] {
  const out: { t: number; bits: bigint }[] = [];
  const it = series.iterator();
  while (it.next()) out.push({ t: it.t, bits: float64Bits(it.v) });
  return out;
}

const eq = (name: string, value: string) => newMatcher('=', name, value);

export function storageContract(impl: string, make: () => StorageUnderTest): void {
  test(`${impl}: committed samples are returned in order, bounded to the range`, () => {
    const sut = make();
    try {
      const a = sut.storage.appender();
      const l = labelsFromRecord({ __name__: 'up', job: 'pos', instance: 'a:1' });
      let ref = 0;
      for (let i = 0; i < 10; i++) {
        ref = a.append(ref, l, 1000 + i * 1000, i);
        a.commit();
      }
      const q = sut.storage.querier();
      const got = q.select([eq('__name__', 'up')], 3000, 6000);
      assert.equal(got.length, 1);
      assert.deepEqual(
        collect(got[0]!).map((s) => s.t),
        [3000, 4000, 5000, 6000],
      );
      assert.deepEqual(q.select([eq('__name__', 'up')], 20_000, 30_000), []);
    } finally {
      sut.close();
    }
  });

  test(`${impl}: rollback discards the round; an empty matcher list selects nothing`, () => {
    const sut = make();
    try {
      const a = sut.storage.appender();
      a.append(0, labelsFromRecord({ __name__: 'x' }), 1000, 1);
      a.rollback();
      const q = sut.storage.querier();
      assert.deepEqual(q.select([eq('__name__', 'x')], 0, 1e12), []);
      assert.deepEqual(q.select([], 0, 1e12), []);
    } finally {
      sut.close();
    }
  });

  test(`${impl}: out-of-order and conflicting duplicates are refused per sample; exact duplicates ignored`, () => {
    const sut = make();
    try {
      const l = labelsFromRecord({ __name__: 'm' });
      const a = sut.storage.appender();
      const ref = a.append(0, l, 5000, 1);
      a.commit();
      assert.throws(
        () => a.append(ref, l, 4000, 1),
        (e: unknown) => e instanceof SampleError && e.kind === 'out_of_order',
      );
      assert.throws(
        () => a.append(ref, l, 5000, 2),
        (e: unknown) => e instanceof SampleError && e.kind === 'duplicate_timestamp',
      );
      a.append(ref, l, 5000, 1); // same value: accepted and ignored
      a.append(ref, l, 6000, 3);
      a.commit();
      const s = sut.storage.querier().select([eq('__name__', 'm')], 0, 1e12);
      assert.deepEqual(
        collect(s[0]!).map((x) => x.t),
        [5000, 6000],
      );
    } finally {
      sut.close();
    }
  });

  test(`${impl}: all four matchers, absent labels match the empty string, results sorted by labels`, () => {
    const sut = make();
    try {
      const a = sut.storage.appender();
      const sets: Record<string, string>[] = [
        { __name__: 'node_cpu_seconds_total', cpu: '1', mode: 'idle' },
        { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'user' },
        { __name__: 'node_cpu_seconds_total', cpu: '0', mode: 'idle' },
        { __name__: 'node_load1' },
      ];
      for (const s of sets) a.append(0, labelsFromRecord(s), 1000, 1);
      a.commit();
      const q = sut.storage.querier();
      const names = (m: Parameters<typeof q.select>[0]) =>
        q.select(m, 0, 2000).map((s) => s.labels.map((l) => `${l.name}=${l.value}`).join(','));
      assert.deepEqual(names([eq('__name__', 'node_cpu_seconds_total'), eq('mode', 'idle')]), [
        '__name__=node_cpu_seconds_total,cpu=0,mode=idle',
        '__name__=node_cpu_seconds_total,cpu=1,mode=idle',
      ]);
      assert.equal(names([newMatcher('=~', '__name__', 'node_.*')]).length, 4);
      assert.equal(names([newMatcher('=~', '__name__', 'node')]).length, 0, 'regex is anchored');
      assert.deepEqual(names([newMatcher('!~', 'mode', 'idle|user'), newMatcher('=~', '__name__', '.+')]), [
        '__name__=node_load1',
      ]);
      assert.deepEqual(names([newMatcher('!=', 'cpu', '0'), newMatcher('=~', '__name__', '.+')]), [
        '__name__=node_cpu_seconds_total,cpu=1,mode=idle',
        '__name__=node_load1',
      ]);
      assert.deepEqual(names([eq('mode', ''), newMatcher('=~', '__name__', '.+')]), ['__name__=node_load1']);
      assert.deepEqual(q.labelValues('mode', 0, 2000), ['idle', 'user']);
      assert.deepEqual(q.labelNames(0, 2000), ['__name__', 'cpu', 'mode']);
    } finally {
      sut.close();
    }
  });

  test(`${impl}: staleness markers are kept bit-exactly`, () => {
    const sut = make();
    try {
      const a = sut.storage.appender();
      const l = labelsFromRecord({ __name__: 'up' });
      a.append(0, l, 1000, 1);
      a.append(0, l, 2000, STALE_NAN);
      a.append(0, l, 3000, NaN);
      a.commit();
      const s = sut.storage.querier().select([eq('__name__', 'up')], 0, 5000);
      const got = collect(s[0]!);
      assert.equal(got[1]!.bits, STALE_NAN_BITS);
      assert.notEqual(got[2]!.bits, STALE_NAN_BITS, 'an ordinary NaN is not a staleness marker');
    } finally {
      sut.close();
    }
  });

  test(`${impl}: data survives a restart`, (t) => {
    const sut = make();
    if (!sut.reopen) {
      sut.close();
      t.diagnostic('implementation has no persistence');
      return;
    }
    let storage = sut.storage;
    try {
      const a = storage.appender();
      const l = labelsFromRecord({ __name__: 'up', job: 'x' });
      for (let i = 0; i < 300; i++) {
        a.append(0, l, 1000 * (i + 1), i % 7);
        a.commit();
      }
      storage = sut.reopen();
      const s = storage.querier().select([eq('job', 'x')], 0, 1e12);
      assert.equal(s.length, 1);
      const got = collect(s[0]!);
      assert.equal(got.length, 300);
      assert.equal(got[299]!.t, 300_000);
      // The series continues after the restart; older samples are refused.
      const b = storage.appender();
      assert.throws(() => b.append(0, l, 1000, 1), SampleError);
      b.append(0, l, 301_000, 5);
      b.commit();
    } finally {
      sut.close();
    }
  });
}

export interface CursorsUnderTest {
  readonly cursors: CursorStore;
  /** Simulates a restart (clean or not) and returns the reopened store. */
  reopen(): CursorStore;
  close(): void;
}

export function cursorContract(impl: string, make: () => CursorsUnderTest): void {
  test(`${impl}: cursors and step progress persist; a saved cursor forgets the progress of the steps it covers`, () => {
    const sut = make();
    try {
      let c = sut.cursors;
      assert.equal(c.loadCursor('central'), null);
      assert.deepEqual(c.loadStepProgress('central'), []);
      c.saveCursor('central', 1000);
      const labels = labelsFromRecord({ __name__: 'up', job: 'pos', instance: 'till-1' });
      const step = { from: 1001, end: 5000, shards: 4 };
      c.saveStepProgress('central', { ...step, shard: 2, labels, t: 3000 });
      c.saveStepProgress('central', { ...step, shard: 0, labels, t: 2000 });
      c.saveStepProgress('central', { ...step, shard: 2, labels, t: 4000 }); // replaces shard 2's entry
      c.saveStepProgress('other', { ...step, shard: 1, labels, t: 1500 });
      c = sut.reopen();
      assert.equal(c.loadCursor('central'), 1000);
      assert.deepEqual(c.loadStepProgress('central'), [
        { ...step, shard: 0, labels, t: 2000 },
        { ...step, shard: 2, labels, t: 4000 },
      ]);
      // Saving the same cursor again (a stop in the middle of the step) keeps the step's progress.
      c.saveCursor('central', 1000);
      assert.equal(c.loadStepProgress('central').length, 2);
      c.saveCursor('central', 5000);
      assert.deepEqual(c.loadStepProgress('central'), []);
      assert.equal(c.loadStepProgress('other').length, 1, 'other destinations keep theirs');
      c.deleteCursor('other');
      assert.deepEqual(c.loadStepProgress('other'), []);
      assert.equal(c.loadCursor('other'), null);
      c = sut.reopen();
      assert.equal(c.loadCursor('central'), 5000);
      assert.deepEqual(c.loadStepProgress('central'), []);
    } finally {
      sut.close();
    }
  });
}

export interface RecentUnderTest {
  readonly storage: Appendable & Queryable & RecentSamples;
  /** Moves the storage's clock. */
  advance(ms: number): void;
  /** Simulates a restart and returns the reopened storage. */
  reopen(): Appendable & Queryable & RecentSamples;
  close(): void;
}

export function recentContract(impl: string, make: (start: number) => RecentUnderTest): void {
  test(`${impl}: recent samples are exactly what select returns for the range, or null`, () => {
    const T0 = Date.UTC(2026, 10, 25, 12);
    const sut = make(T0);
    let storage = sut.storage;
    const all = [newMatcher('=~', '__name__', '.+')];
    const viaSelect = (from: number, to: number) =>
      storage
        .querier()
        .select(all, from + 1, to)
        .map((s) => ({ labels: s.labels, samples: collect(s) }));
    const viaRecent = (from: number, to: number) => {
      const b = storage.recentSamples(from, to);
      if (b === null) return null;
      return b.series.map((labels, i) => {
        const samples: { t: number; bits: bigint }[] = [];
        for (let k = b.offsets[i]!; k < b.offsets[i + 1]!; k++)
          samples.push({ t: b.t[k]!, bits: float64Bits(b.v[k]!) });
        return { labels, samples };
      });
    };
    try {
      const a = storage.appender();
      // Series come and go; one ends with a staleness marker; labels arrive in no particular order.
      for (let i = 0; i < 30; i++) {
        for (let k = 19; k >= 0; k--) {
          if (k >= 15 && i < 10) continue; // these appear later
          if (k === 3 && i > 20) continue; // this one ends
          const l = labelsFromRecord({ __name__: k % 2 ? 'b_metric' : 'a_metric', k: String(k) });
          a.append(0, l, T0 + i * 1000, k === 3 && i === 20 ? STALE_NAN : i * 100 + k);
        }
        a.commit();
        sut.advance(1000);
      }
      for (const [from, to] of [
        [T0 - 1, T0 + 29_000],
        [T0 + 4_500, T0 + 12_000],
        [T0 + 19_500, T0 + 20_000],
        [T0 + 29_000, T0 + 40_000],
      ] as const) {
        const got = viaRecent(from, to);
        assert.ok(got !== null, `memory covers (${from - T0}, ${to - T0}]`);
        const want = viaSelect(from, to);
        assert.deepEqual(got, want, `(${from - T0}, ${to - T0}]`);
        got.forEach((g, i) => assert.equal(g.labels, want[i]!.labels, 'the same label objects'));
      }
      const stale = viaRecent(T0 + 19_000, T0 + 20_000)!.find((s) => s.labels.some((l) => l.value === '3'));
      assert.equal(stale?.samples[0]?.bits, STALE_NAN_BITS);

      // After a restart memory holds only what came since: older ranges are not vouched for.
      storage = sut.reopen();
      assert.equal(storage.recentSamples(T0 + 10_000, T0 + 40_000), null);
      const b = storage.appender();
      b.append(0, labelsFromRecord({ __name__: 'a_metric', k: '0' }), T0 + 31_000, 7);
      b.commit();
      assert.deepEqual(viaRecent(T0 + 29_000, T0 + 40_000), viaSelect(T0 + 29_000, T0 + 40_000));
      // Long after, the start of the range has left memory.
      sut.advance(10 * 60_000);
      const c = storage.appender();
      c.append(0, labelsFromRecord({ __name__: 'a_metric', k: '0' }), T0 + 11 * 60_000, 8);
      c.commit();
      assert.equal(storage.recentSamples(T0 + 29_000, T0 + 12 * 60_000), null);
      assert.deepEqual(
        viaRecent(T0 + 10 * 60_000, T0 + 12 * 60_000),
        viaSelect(T0 + 10 * 60_000, T0 + 12 * 60_000),
      );
    } finally {
      sut.close();
    }
  });
}
