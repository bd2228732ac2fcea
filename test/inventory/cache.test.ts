import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SNAPSHOT_FORMAT, SqliteInventoryStore } from '../../inventory/cache.ts';
import type { Snapshot } from '../../inventory/profiles.ts';

const snapshot: Snapshot = {
  site: { id: 2, slug: 'store-0042', name: 'S', timeZone: '', facility: '', lastUpdated: '' },
  devices: [
    {
      id: 7,
      name: 'pos-7',
      display: 'pos-7',
      status: 'active',
      tags: [],
      customFields: { lane: 1 },
      primaryIp: '127.0.0.7',
      localContext: null,
      lastUpdated: '2026-01-01T00:00:00Z',
    },
  ],
  contexts: [],
  apiVersion: '4.6',
  fullSyncAt: 5,
  deviceWatermark: '2026-01-01T00:00:00Z',
  contextWatermark: '',
};

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'sw-inv-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('SqliteInventoryStore', () => {
  it('keeps the snapshot across reopening the file', () => {
    withDir((dir) => {
      const file = join(dir, 'inventory.db');
      const a = new SqliteInventoryStore(new Database(file));
      assert.equal(a.load(), undefined);
      a.save(snapshot, 1234);
      a.close();
      const b = new SqliteInventoryStore(new Database(file));
      assert.deepEqual(b.load(), { snapshot, savedAt: 1234 });
      b.close();
    });
  });

  it('ignores a corrupt or older-format row instead of failing', () => {
    withDir((dir) => {
      const db = new Database(join(dir, 'inventory.db'));
      const s = new SqliteInventoryStore(db);
      db.prepare('INSERT INTO inventory_snapshot (id, format, saved_at, body) VALUES (1, ?, 1, ?)').run(
        SNAPSHOT_FORMAT,
        '{"devi',
      );
      assert.equal(s.load(), undefined);
      db.prepare('UPDATE inventory_snapshot SET body = ?, format = ?').run(
        JSON.stringify(snapshot),
        SNAPSHOT_FORMAT + 1,
      );
      assert.equal(s.load(), undefined);
      db.prepare('UPDATE inventory_snapshot SET body = ?, format = ?').run('{"devices": 5}', SNAPSHOT_FORMAT);
      assert.equal(s.load(), undefined);
      s.close();
    });
  });

  it('keeps only the last N diffs, newest first', () => {
    withDir((dir) => {
      const s = new SqliteInventoryStore(new Database(join(dir, 'inventory.db')), { keepDiffs: 3 });
      for (let i = 1; i <= 5; i++) s.addDiff({ at: i, added: [], removed: [], changed: [] });
      assert.deepEqual(
        s.recentDiffs(10).map((d) => d.at),
        [5, 4, 3],
      );
      assert.deepEqual(
        s.recentDiffs(2).map((d) => d.at),
        [5, 4],
      );
      s.close();
    });
  });
});
