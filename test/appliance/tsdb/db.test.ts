import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { float64Bits, STALE_NAN, STALE_NAN_BITS } from '../../../appliance/model/sample.ts';
import type { Tsdb } from '../../../appliance/tsdb/db.ts';
import { CHUNK_MAX_SAMPLES, WINDOW_MS } from '../../../appliance/tsdb/db.ts';
import { cursorContract, recentContract, storageContract } from '../storage/contract.ts';
import { fakeClock, openTsdb, tempDir } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 0, 0, 0);

/** A TSDB in a fresh directory, restarted cleanly or after a simulated crash: what every contract suite needs. */
function underTest(restart: 'clean' | 'crash', start = T0) {
  const dir = tempDir();
  const clock = fakeClock(start);
  let db: Tsdb = openTsdb(dir, clock);
  return {
    get storage(): Tsdb {
      return db;
    },
    get cursors(): Tsdb {
      return db;
    },
    advance: (ms: number): void => clock.advance(ms),
    reopen(): Tsdb {
      if (restart === 'clean') db.close();
      else db.abandonForTest();
      db = openTsdb(dir, clock);
      return db;
    },
    close(): void {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

for (const restart of ['clean', 'crash'] as const) {
  storageContract(`tsdb (${restart} restart)`, () => underTest(restart));
  cursorContract(`tsdb (${restart} restart)`, () => underTest(restart));
  recentContract(`tsdb (${restart} restart)`, (start) => underTest(restart, start));
}

const up = labelsFromRecord({ __name__: 'up', job: 'pos' });
const all = [newMatcher('=~', '__name__', '.+')];

function values(db: Tsdb, mint = 0, maxt = Number.MAX_SAFE_INTEGER): { t: number; v: number }[] {
  const out: { t: number; v: number }[] = [];
  for (const s of db.querier().select(all, mint, maxt)) {
    const it = s.iterator();
    while (it.next()) out.push({ t: it.t, v: it.v });
  }
  return out;
}

test('samples move from head to chunks to sealed windows and stay queryable; the log is truncated', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  const db = openTsdb(dir, clock);
  try {
    const a = db.appender();
    // 8 hours at 15 s: crosses four windows and cuts many chunks.
    const n = (8 * 3600) / 15;
    for (let i = 0; i < n; i++) {
      clock.set(T0 + i * 15_000);
      a.append(0, up, clock.now(), i);
      a.commit();
      if (i % 40 === 0) db.maintain();
    }
    clock.advance(WINDOW_MS);
    db.maintain({ forceFlush: true });
    const got = values(db);
    assert.equal(got.length, n);
    assert.ok(got.every((s, i) => s.t === T0 + i * 15_000 && s.v === i));
    const st = db.stats();
    assert.ok(st.chunks >= n / CHUNK_MAX_SAMPLES, `chunks ${st.chunks}`);
    // Only segments holding samples that are not yet in SQLite remain.
    assert.ok(st.logBytes < 64 * 1024, `log bytes ${st.logBytes}`);
    // A sample inside a sealed window is refused as too old.
    assert.throws(
      () => db.appender().append(0, labelsFromRecord({ __name__: 'new' }), T0, 1),
      /older than the sealed/,
    );
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a crash after commit loses nothing: the head log is replayed, torn tails ignored', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  let db = openTsdb(dir, clock);
  const a = db.appender();
  for (let i = 0; i < 500; i++) {
    a.append(0, up, T0 + i * 1000, i % 2 ? STALE_NAN : i);
    a.commit();
    if (i === 250) db.maintain({ forceFlush: true });
  }
  db.abandonForTest();
  // Simulate a write torn by the crash: garbage after the last record.
  const logDir = path.join(dir, 'head-log');
  const last = fs.readdirSync(logDir).sort().pop()!;
  fs.appendFileSync(path.join(logDir, last), Buffer.from([7, 0, 0, 0, 1, 2]));
  db = openTsdb(dir, clock);
  try {
    const s = db.querier().select(all, 0, Number.MAX_SAFE_INTEGER);
    const it = s[0]!.iterator();
    let i = 0;
    while (it.next()) {
      assert.equal(it.t, T0 + i * 1000);
      if (i % 2) assert.equal(float64Bits(it.v), STALE_NAN_BITS);
      else assert.equal(it.v, i);
      i++;
    }
    assert.equal(i, 500);
    assert.ok(db.stats().logCorruptRecords >= 1);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retention by age drops whole windows; by size keeps the database under budget', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  const db = openTsdb(dir, clock, { retentionTimeMs: 6 * 3600_000 });
  try {
    const a = db.appender();
    const series = Array.from({ length: 50 }, (_, k) => labelsFromRecord({ __name__: 'g', k: String(k) }));
    for (let i = 0; i < (24 * 3600) / 60; i++) {
      clock.set(T0 + i * 60_000);
      for (const l of series) a.append(0, l, clock.now(), Math.random());
      a.commit();
      if (i % 30 === 0) db.maintain();
    }
    clock.advance(WINDOW_MS);
    db.maintain({ forceFlush: true });
    const oldest = db.stats().oldestTimestamp!;
    assert.ok(oldest >= clock.now() - 6 * 3600_000 - WINDOW_MS, `oldest ${new Date(oldest).toISOString()}`);
    assert.ok(db.stats().windowsDropped >= 6);
    assert.equal(values(db, 0, T0 + 12 * 3600_000).length, 0);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const dir2 = tempDir();
  const clock2 = fakeClock(T0);
  const budget = 400 * 1024;
  const db2 = openTsdb(dir2, clock2, { retentionSizeBytes: budget });
  try {
    const a = db2.appender();
    const series = Array.from({ length: 200 }, (_, k) => labelsFromRecord({ __name__: 'g', k: String(k) }));
    for (let i = 0; i < (24 * 3600) / 60; i++) {
      clock2.set(T0 + i * 60_000);
      for (const l of series) a.append(0, l, clock2.now(), Math.random());
      a.commit();
      if (i % 30 === 0) db2.maintain();
    }
    clock2.advance(WINDOW_MS);
    db2.maintain({ forceFlush: true });
    db2.maintain();
    const st = db2.stats();
    assert.ok(st.windowsDropped > 0, 'size budget dropped windows');
    // Recent data is still there.
    assert.ok(values(db2, clock2.now() - 3 * 3600_000).length > 0);
  } finally {
    db2.close();
    fs.rmSync(dir2, { recursive: true, force: true });
  }
});

test('a stop flushes the head: the next start replays nothing', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  let db = openTsdb(dir, clock);
  const a = db.appender();
  for (let i = 0; i < 100; i++) {
    a.append(0, up, T0 + i * 1000, i);
    a.commit();
  }
  db.close();
  assert.deepEqual(fs.readdirSync(path.join(dir, 'head-log')), []);
  db = openTsdb(dir, clock);
  try {
    assert.equal(db.stats().logReplayedSamples, 0);
    assert.equal(values(db).length, 100);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid label sets and timestamps are refused per sample', () => {
  const dir = tempDir();
  const db = openTsdb(dir, fakeClock(T0));
  try {
    const a = db.appender();
    assert.throws(() => a.append(0, [], 1000, 1), /empty label set/);
    assert.throws(
      () =>
        a.append(
          0,
          [
            { name: 'b', value: '1' },
            { name: 'a', value: '1' },
          ],
          1000,
          1,
        ),
      /not sorted/,
    );
    assert.throws(() => a.append(0, up, 1.5, 1), /invalid timestamp/);
    assert.throws(() => a.append(0, up, NaN, 1), /invalid timestamp/);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('series whose samples retention deleted are forgotten, in memory and on disk', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  let db = openTsdb(dir, clock, { retentionTimeMs: 4 * 3600_000 });
  try {
    const a = db.appender();
    const gone = labelsFromRecord({ __name__: 'pos_up', till: 'replaced' });
    const stays = labelsFromRecord({ __name__: 'pos_up', till: 'new' });
    for (let i = 0; i < (12 * 3600) / 60; i++) {
      clock.set(T0 + i * 60_000);
      if (i < 60) a.append(0, gone, clock.now(), 1); // the first hour only
      a.append(0, stays, clock.now(), 1);
      a.commit();
      if (i % 10 === 0) db.maintain();
    }
    db.maintain({ forceFlush: true });
    assert.equal(db.stats().series, 1);
    assert.equal(db.stats().seriesRemoved, 1);
    assert.deepEqual(db.querier().labelValues('till', 0, Number.MAX_SAFE_INTEGER), ['new']);
    db.close();
    db = openTsdb(dir, clock, { retentionTimeMs: 4 * 3600_000 });
    assert.equal(db.stats().series, 1, 'the series row is gone too');
    // The label set may come back later: it is simply a new series.
    const b = db.appender();
    b.append(0, gone, clock.now() + 60_000, 1);
    b.commit();
    assert.equal(db.stats().series, 2);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('retention counts the samples it deletes before remote write delivered them', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  const db = openTsdb(dir, clock, { retentionTimeMs: 4 * 3600_000 });
  try {
    db.saveCursor('central', T0 + 3600_000); // delivered through the first hour only
    const a = db.appender();
    for (let i = 0; i < (12 * 3600) / 60; i++) {
      clock.set(T0 + i * 60_000);
      a.append(0, up, clock.now(), i);
      a.commit();
      if (i % 10 === 0) db.maintain();
    }
    db.maintain({ forceFlush: true });
    const st = db.stats();
    assert.ok(st.windowsDropped >= 3, `windows dropped: ${st.windowsDropped}`);
    // Of the dropped windows' samples, only the first hour had been delivered.
    const droppedSamples = st.windowsDropped * 120;
    assert.equal(st.unsentSamplesDropped.age, droppedSamples - 60);
    assert.equal(st.unsentSamplesDropped.size, 0);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('under the size budget, low-priority series lose their oldest history first; the rest keeps every window', () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  const rule = (labels: readonly { name: string; value: string }[]) =>
    labels.some((l) => l.name === '__name__' && l.value.startsWith('ifHC')) ? 0 : null;
  let budget = 0; // measured below, then set to force eviction
  const open = () => openTsdb(dir, clock, { retentionSizeBytes: budget, evictionPriority: rule });
  let db = open();
  const ifs = Array.from({ length: 300 }, (_, k) =>
    labelsFromRecord({ __name__: 'ifHCInOctets', ifIndex: String(k) }),
  );
  const ups = Array.from({ length: 5 }, (_, k) =>
    labelsFromRecord({ __name__: 'up', instance: `till-${k}` }),
  );
  const a = db.appender();
  let counter = 0;
  for (let i = 0; i < (10 * 3600) / 60; i++) {
    clock.set(T0 + i * 60_000);
    for (const l of ifs) a.append(0, l, clock.now(), (counter += 1 + Math.floor(Math.random() * 1e6)));
    for (const l of ups) a.append(0, l, clock.now(), 1);
    a.commit();
    if (i % 10 === 0) db.maintain();
  }
  clock.advance(WINDOW_MS);
  db.maintain({ forceFlush: true });
  const count = (d: Tsdb, name: string) => {
    let n = 0;
    for (const s of d.querier().select([newMatcher('=', '__name__', name)], 0, Number.MAX_SAFE_INTEGER)) {
      const it = s.iterator();
      while (it.next()) n++;
    }
    return n;
  };
  const upBefore = count(db, 'up');
  const ifBefore = count(db, 'ifHCInOctets');
  const used = db.stats().databaseBytes;
  db.close();
  budget = Math.floor(used * 0.6);
  db = open();
  try {
    db.maintain();
    const st = db.stats();
    assert.ok(st.samplesEvictedByPriority > 0, 'low-priority samples were evicted');
    assert.equal(st.windowsDropped, 0, 'no whole window had to go');
    assert.equal(count(db, 'up'), upBefore, 'unranked series keep every sample');
    assert.equal(count(db, 'ifHCInOctets'), ifBefore - st.samplesEvictedByPriority);
    // What is left of the low-priority series is their newest history.
    const first = db
      .querier()
      .select([newMatcher('=', 'ifIndex', '0')], 0, Number.MAX_SAFE_INTEGER)[0]!
      .iterator();
    assert.ok(first.next() && first.t > T0, 'the oldest low-priority data went first');
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('labelNames and labelValues without matchers leave out series with no samples since mint', () => {
  const dir = tempDir();
  const T0 = Date.UTC(2026, 10, 25, 12);
  const clock = fakeClock(T0);
  const db = openTsdb(dir, clock);
  try {
    const a = db.appender();
    a.append(0, labelsFromRecord({ __name__: 'old', gone: 'yes', job: 'a' }), T0, 1);
    a.append(0, labelsFromRecord({ __name__: 'new', job: 'b' }), T0 + 3_600_000, 1);
    a.commit();
    const q = db.querier();
    assert.deepEqual(q.labelNames(T0 + 1_000_000, T0 + 4_000_000), ['__name__', 'job']);
    assert.deepEqual(q.labelValues('job', T0 + 1_000_000, T0 + 4_000_000), ['b']);
    assert.deepEqual(q.labelValues('job', T0, T0 + 4_000_000), ['a', 'b']);
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
