// The read-only open of `storewatch query`: beside a running appliance on the same directory it sees the
// unflushed samples (replayed from the head log) and changes nothing on disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { newMatcher } from '../../../appliance/model/matcher.ts';
import { fakeClock, openTsdb, tempDir } from './helpers.ts';

function listing(dir: string): string[] {
  const out: string[] = [];
  for (const f of fs.readdirSync(path.join(dir, 'head-log')).sort()) {
    out.push(`${f}:${fs.statSync(path.join(dir, 'head-log', f)).size}`);
  }
  return out;
}

test('a read-only open beside a live TSDB sees its unflushed samples and leaves its head log alone', () => {
  const dir = tempDir('sw-ro-');
  try {
    const clock = fakeClock(1_700_000_000_000);
    const live = openTsdb(dir, clock);
    const up = labelsFromRecord({ __name__: 'up', job: 'a' });
    const app = live.appender();
    app.append(0, up, clock.now(), 1);
    app.commit();
    const before = listing(dir);
    assert.ok(before.length > 0);

    const ro = openTsdb(dir, clock, { readOnly: true });
    const series = ro.querier().select([newMatcher('=', '__name__', 'up')], 0, clock.now());
    assert.equal(series.length, 1);
    const it = series[0]!.iterator();
    assert.ok(it.next());
    assert.equal(it.v, 1);
    assert.throws(() => ro.appender(), /read-only/);
    assert.throws(() => ro.backfill(), /read-only/);
    ro.maintain({ forceFlush: true });
    ro.close();
    assert.deepEqual(listing(dir), before, 'no segment created, written or deleted');

    // The live one carries on and stops cleanly.
    const app2 = live.appender();
    app2.append(0, up, clock.now() + 15_000, 0);
    app2.commit();
    live.close();
    const again = openTsdb(dir, clock, { readOnly: true });
    assert.equal(
      again.querier().select([newMatcher('=', '__name__', 'up')], 0, clock.now() + 15_000).length,
      1,
    );
    again.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
