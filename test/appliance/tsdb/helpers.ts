// Shared helpers for TSDB tests: real SQLite files in temporary directories and a controllable clock.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../../appliance/model/logger.ts';
import { Tsdb } from '../../../appliance/tsdb/db.ts';
import type { TsdbOptions } from '../../../appliance/tsdb/db.ts';

export function tempDir(prefix = 'sw-tsdb-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface FakeClock {
  now: () => number;
  set(t: number): void;
  advance(ms: number): void;
}

export function fakeClock(start: number): FakeClock {
  let t = start;
  return {
    now: () => t,
    set: (x) => {
      t = x;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export function openTsdb(dir: string, clock: FakeClock, extra: Partial<TsdbOptions> = {}): Tsdb {
  return Tsdb.open({
    dir,
    openDatabase: (file) => new Database(file),
    now: clock.now,
    logger: silentLogger,
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
    ...extra,
  });
}
