// The last good NetBox snapshot and the recent inventory diffs, kept in SQLite so the appliance boots and
// monitors its store while NetBox is unreachable. The snapshot (what NetBox said), not the inventory (what we
// made of it), is stored: a changed profile or allowed network applies to cached data on the next boot too.
// Schema: inventory/SCHEMA.md.

import type Database from 'better-sqlite3';
import type { InventoryDiff } from './diff.ts';
import type { Snapshot } from './profiles.ts';

/** Bumped when the stored JSON's shape changes; an older row is ignored (a full sync replaces it). */
export const SNAPSHOT_FORMAT = 1;

export interface CachedSnapshot {
  readonly snapshot: Snapshot;
  /** Milliseconds since the epoch when it was saved. */
  readonly savedAt: number;
}

/** Where the discoverer keeps its state between runs. */
export interface InventoryStore {
  load(): CachedSnapshot | undefined;
  save(snapshot: Snapshot, at: number): void;
  addDiff(diff: InventoryDiff): void;
  /** Newest first. */
  recentDiffs(limit: number): InventoryDiff[];
  close(): void;
}

/** The SQLite-backed store; the database handle is opened by the caller (main.ts uses native.ts's openSqlite). */
export class SqliteInventoryStore implements InventoryStore {
  private readonly db: Database.Database;
  private readonly keepDiffs: number;

  constructor(db: Database.Database, opts: { keepDiffs?: number } = {}) {
    this.db = db;
    this.keepDiffs = opts.keepDiffs ?? 100;
    db.pragma('journal_mode = WAL');
    db.exec(`
      CREATE TABLE IF NOT EXISTS inventory_snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        format INTEGER NOT NULL,
        saved_at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS inventory_diff (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
    `);
  }

  load(): CachedSnapshot | undefined {
    const row = this.db
      .prepare('SELECT format, saved_at, body FROM inventory_snapshot WHERE id = 1')
      .get() as { format: number; saved_at: number; body: string } | undefined;
    if (!row || row.format !== SNAPSHOT_FORMAT) return undefined;
    try {
      const snapshot = JSON.parse(row.body) as Snapshot;
      if (typeof snapshot !== 'object' || snapshot === null || !Array.isArray(snapshot.devices))
        return undefined;
      return { snapshot, savedAt: row.saved_at };
    } catch {
      return undefined;
    }
  }

  save(snapshot: Snapshot, at: number): void {
    this.db
      .prepare(
        `INSERT INTO inventory_snapshot (id, format, saved_at, body) VALUES (1, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET format = excluded.format, saved_at = excluded.saved_at, body = excluded.body`,
      )
      .run(SNAPSHOT_FORMAT, at, JSON.stringify(snapshot));
  }

  addDiff(diff: InventoryDiff): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO inventory_diff (at, body) VALUES (?, ?)')
        .run(diff.at, JSON.stringify(diff));
      this.db
        .prepare('DELETE FROM inventory_diff WHERE seq <= (SELECT MAX(seq) FROM inventory_diff) - ?')
        .run(this.keepDiffs);
    });
    tx();
  }

  recentDiffs(limit: number): InventoryDiff[] {
    const rows = this.db.prepare('SELECT body FROM inventory_diff ORDER BY seq DESC LIMIT ?').all(limit) as {
      body: string;
    }[];
    return rows.map((r) => JSON.parse(r.body) as InventoryDiff);
  }

  close(): void {
    this.db.close();
  }
}

/** A store in memory, for tools and tests that need no persistence. */
export class MemoryInventoryStore implements InventoryStore {
  private snap: CachedSnapshot | undefined;
  private diffs: InventoryDiff[] = [];
  load(): CachedSnapshot | undefined {
    return this.snap;
  }
  save(snapshot: Snapshot, at: number): void {
    this.snap = { snapshot, savedAt: at };
  }
  addDiff(diff: InventoryDiff): void {
    this.diffs.unshift(diff);
    this.diffs.length = Math.min(this.diffs.length, 100);
  }
  recentDiffs(limit: number): InventoryDiff[] {
    return this.diffs.slice(0, limit);
  }
  close(): void {}
}
