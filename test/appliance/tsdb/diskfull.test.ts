// Disk full on a real (small tmpfs) filesystem: ingestion pauses with a clear status, nothing corrupts, and it
// resumes once space is back. Needs root for mount(8), as CI and the dev machines have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { StorageError } from '../../../appliance/storage/interface.ts';
import { fakeClock, openTsdb, tempDir } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 12);

test('a full disk pauses ingestion without corruption, and ingestion resumes when space returns', (t) => {
  const mnt = tempDir('sw-diskfull-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', mnt]);
  } catch (err) {
    throw new Error(`this test mounts a small tmpfs and must run as root: ${(err as Error).message}`);
  }
  t.after(() => {
    execFileSync('umount', ['-l', mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  const clock = fakeClock(T0);
  const dir = path.join(mnt, 'data');
  let db = openTsdb(dir, clock);
  const series = Array.from({ length: 500 }, (_, k) => labelsFromRecord({ __name__: 'g', k: String(k) }));
  // Leave about 600 KB free for the database, the WAL and the head log.
  const filler = path.join(mnt, 'filler');
  const free = (): number => fs.statfsSync(mnt).bavail * fs.statfsSync(mnt).bsize;
  fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 600 * 1024)));
  const a = db.appender();
  let committed = 0;
  let failure: StorageError | null = null;
  for (let i = 0; i < 5000 && !failure; i++) {
    clock.set(T0 + i * 15_000);
    for (const l of series) a.append(0, l, clock.now(), Math.random());
    try {
      a.commit();
      committed = i + 1;
    } catch (err) {
      assert.ok(err instanceof StorageError, `typed error, got ${String(err)}`);
      failure = err;
    }
    if (i % 20 === 0) db.maintain();
  }
  assert.ok(failure, 'the disk filled up');
  assert.equal(failure.kind, 'disk_full');
  assert.equal(db.stats().ingestion, 'paused');
  assert.match(db.stats().ingestionError, /disk full/);
  // Space comes back: the next round is stored and the status clears.
  fs.rmSync(filler);
  clock.advance(15_000);
  for (const l of series) a.append(0, l, clock.now(), 1);
  a.commit();
  assert.equal(db.stats().ingestion, 'ok');
  const resumedAt = clock.now();
  // Nothing committed was lost, across a crash-style reopen too.
  db.abandonForTest();
  db = openTsdb(dir, clock);
  try {
    const got = db.querier().select([newMatcher('=', 'k', '7')], 0, Number.MAX_SAFE_INTEGER);
    const it = got[0]!.iterator();
    const ts: number[] = [];
    while (it.next()) ts.push(it.t);
    assert.equal(ts.length, committed + 1);
    assert.equal(ts.at(-1), resumedAt);
  } finally {
    db.close();
  }
});
