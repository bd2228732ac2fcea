// openSqlite in development mode: unbundled, not a single executable, so better-sqlite3 loads its own prebuild.
// The single-executable path (SEA asset → extracted file → dlopen) is covered by test/integration/binary.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadEmbeddedAddon, openSqlite, SQLITE_ADDON_ASSET } from '../../appliance/native.ts';

void describe('openSqlite (development mode)', () => {
  let dir = '';
  let cacheDir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'storewatch-native-'));
    cacheDir = path.join(dir, 'cache');
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  void it('creates a real database file, writes and reads it back', () => {
    const file = path.join(dir, 'rw.sqlite');
    const db = openSqlite(file, { cacheDir });
    try {
      db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v REAL)');
      db.prepare('INSERT INTO t VALUES (?, ?)').run('a', 1.5);
      db.prepare('INSERT INTO t VALUES (?, ?)').run('b', Number.MAX_VALUE);
      assert.equal(db.readonly, false);
    } finally {
      db.close();
    }
    assert.ok(fs.statSync(file).size > 0);

    const again = openSqlite(file, { cacheDir });
    try {
      const rows = again.prepare('SELECT k, v FROM t ORDER BY k').all();
      assert.deepEqual(rows, [
        { k: 'a', v: 1.5 },
        { k: 'b', v: Number.MAX_VALUE },
      ]);
    } finally {
      again.close();
    }
  });

  void it('opens read-only when asked and refuses writes', () => {
    const file = path.join(dir, 'ro.sqlite');
    const rw = openSqlite(file, { cacheDir });
    rw.exec('CREATE TABLE t (x)');
    rw.close();

    const ro = openSqlite(file, { cacheDir, readonly: true });
    try {
      assert.equal(ro.readonly, true);
      assert.deepEqual(ro.prepare('SELECT count(*) AS n FROM t').get(), { n: 0 });
      assert.throws(() => ro.exec('INSERT INTO t VALUES (1)'), /readonly/);
    } finally {
      ro.close();
    }
  });

  void it('does not touch the cache directory outside a single executable', () => {
    assert.equal(loadEmbeddedAddon(SQLITE_ADDON_ASSET, cacheDir), undefined);
    assert.equal(fs.existsSync(cacheDir), false);
  });

  void it('rejects a garbage file instead of treating it as a database', () => {
    const file = path.join(dir, 'garbage.sqlite');
    fs.writeFileSync(file, Buffer.from('this is not an SQLite database, just 64 bytes of text padding!!!'));
    assert.throws(() => {
      const db = openSqlite(file, { cacheDir });
      try {
        db.prepare('SELECT * FROM sqlite_master').all();
      } finally {
        db.close();
      }
    }, /not a database/);
  });

  void it('rejects a truncated database file', () => {
    const file = path.join(dir, 'full.sqlite');
    const db = openSqlite(file, { cacheDir });
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(10000));');
    db.close();
    const cut = path.join(dir, 'cut.sqlite');
    fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 50));
    assert.throws(() => {
      const broken = openSqlite(cut, { cacheDir, readonly: true });
      try {
        broken.prepare('SELECT * FROM t').all();
      } finally {
        broken.close();
      }
    }, /not a database|malformed|no such table/);
  });

  void it('fails when the directory does not exist, and read-only refuses to create a file', () => {
    assert.throws(
      () => openSqlite(path.join(dir, 'missing', 'x.sqlite'), { cacheDir }),
      /directory does not exist/,
    );
    assert.throws(() => openSqlite(path.join(dir, 'absent.sqlite'), { cacheDir, readonly: true }));
    assert.equal(fs.existsSync(path.join(dir, 'absent.sqlite')), false);
  });
});
