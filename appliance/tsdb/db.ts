// The SQLite-backed TSDB: series index, compressed chunks, an in-memory head per series, the head log for
// crash safety, time windows for cheap retention. The schema and the reasons behind it are in SCHEMA.md.
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Labels } from '../model/labels.ts';
import {
  compareLabels,
  labelsFromRecord,
  labelsKey,
  labelsToRecord,
  labelsToString,
  METRIC_NAME,
} from '../model/labels.ts';
import type { Logger } from '../model/logger.ts';
import type { Matcher } from '../model/matcher.ts';
import type {
  Appendable,
  Appender,
  CursorStore,
  Querier,
  Queryable,
  SampleIterator,
  RecentBatch,
  RecentSamples,
  Series,
  SeriesRef,
  StepProgress,
} from '../storage/interface.ts';
import { SampleError, StorageError } from '../storage/interface.ts';
import type { XorDecodeState } from './chunkenc.ts';
import { RecentRing } from './recent.ts';
import { XorChunkEncoder, XorChunkIterator } from './chunkenc.ts';
import type { LogValueState, RecordValueState, SegmentInfo } from './headlog.ts';
import {
  decodeSamplesRecord,
  encodeSamplesRecord,
  LogCorruptError,
  LogWriteError,
  MapValueState,
  SegmentedLog,
} from './headlog.ts';

/** Chunks never span a window boundary, so a window can be indexed once and dropped whole (like a block). */
export const WINDOW_MS = 2 * 60 * 60 * 1000;
/** A head chunk is cut at this many samples (Prometheus cuts at 120; larger chunks amortise SQLite's row overhead). */
export const CHUNK_MAX_SAMPLES = 480;
/** ... or at this many bytes (Prometheus's MaxBytesPerXORChunk is 1024). */
export const CHUNK_MAX_BYTES = 2048;
/** A window is sealed this long after it ended: late scrapes of the old window still land in it. */
export const SEAL_GRACE_MS = 10 * 60 * 1000;
/** Cut chunks are written to SQLite at most this often: batching keeps bytes written per sample low. */
export const FLUSH_INTERVAL_MS = 60 * 1000;
/** The head log starts a new segment after this long or this many bytes, so old ones can be deleted. */
export const LOG_SEGMENT_MAX_AGE_MS = 15 * 60 * 1000;
export const LOG_SEGMENT_MAX_BYTES = 32 * 1024 * 1024;
/** Deleting head log segments needs a pass over every series, so it runs at most this often. */
export const LOG_TRUNCATE_INTERVAL_MS = 60 * 1000;
/** How often maintenance (flush, seal, log truncation, retention) runs. */
export const MAINTENANCE_INTERVAL_MS = 10 * 1000;

const SCHEMA_VERSION = 1;
/**
 * How far back the recent-samples ring reaches: a caught-up remote-write sender reads a few seconds behind
 * its read lag (the longest scrape timeout), so 90 s leaves room for a slow request or two.
 */
const RECENT_SPAN_MS = 90 * 1000;
/** At most this many samples (20 bytes each) in the ring; a busier store falls back to queries sooner. */
const RECENT_MAX_ENTRIES = 1 << 20;

export interface TsdbOptions {
  /** The data directory; it holds storewatch.db and the head log directory. */
  readonly dir: string;
  /** Opens a SQLite file (the composition root passes the native-addon-aware opener). */
  readonly openDatabase: (file: string) => BetterSqlite3.Database;
  readonly now: () => number;
  readonly logger: Logger;
  /** Samples older than this are deleted, a window at a time; 0 keeps everything. */
  readonly retentionTimeMs: number;
  /** The database is kept under this many bytes by dropping the oldest windows; 0 means no budget. */
  readonly retentionSizeBytes: number;
  /**
   * Eviction priority of a series under the size budget (lower goes first); null = never evicted by priority,
   * only with its whole window. Absent: no priorities.
   */
  readonly evictionPriority?: (labels: Labels) => number | null;
  /**
   * Open for queries only (`storewatch query`, possibly beside a running appliance on the same directory): the
   * head log is replayed into memory so unflushed samples are visible, but no log segment is created, written
   * or deleted, nothing is flushed or sealed, appending is refused, and close() only closes the files.
   */
  readonly readOnly?: boolean;
}

/** What the status page and /metrics show about storage. */
export interface TsdbStats {
  readonly path: string;
  readonly databaseBytes: number;
  readonly logBytes: number;
  readonly series: number;
  readonly chunks: number;
  readonly headChunks: number;
  readonly samplesAppended: number;
  readonly samplesOutOfOrder: number;
  readonly oldestTimestamp: number | null;
  readonly newestTimestamp: number | null;
  readonly retentionTimeMs: number;
  readonly retentionSizeBytes: number;
  readonly ingestion: 'ok' | 'paused';
  readonly ingestionError: string;
  readonly commits: number;
  readonly commitFailures: number;
  readonly flushFailures: number;
  readonly windowsDropped: number;
  readonly logReplayedSamples: number;
  readonly logCorruptRecords: number;
  readonly seriesRemoved: number;
  /** Samples deleted by priority eviction under the size budget. */
  readonly samplesEvictedByPriority: number;
  /** Samples retention deleted before every remote-write destination had delivered them, by reason. */
  readonly unsentSamplesDropped: { readonly age: number; readonly size: number };
}

interface RecentChunk {
  /** SQLite row id once flushed, 0 while pending. */
  id: number;
  readonly window: number;
  readonly mint: number;
  readonly maxt: number;
  readonly samples: number;
  /** The bytes while pending; dropped after the flush. */
  data: Uint8Array | null;
}

interface MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  head: XorChunkEncoder | null;
  /**
   * Where the last reader of the head chunk stopped decoding, for that head chunk only. Remote write reads the
   * newest few seconds of every series every few seconds; resuming here decodes those samples instead of the
   * whole head chunk (up to 480 samples) each time.
   */
  headResume: HeadResume | null;
  headWindow: number;
  /** Largest timestamp stored for the series (head, pending or flushed), -Infinity when none. */
  lastT: number;
  lastLo: number;
  lastHi: number;
  /** Largest timestamp staged in an uncommitted appender. */
  stagedT: number;
  stagedLo: number;
  stagedHi: number;
  /** Previous value in the current log segment (valid when logEpoch matches the log's epoch). */
  logEpoch: number;
  logLo: number;
  logHi: number;
  /** Chunks of unsealed windows, oldest first. */
  readonly recent: RecentChunk[];
  /** Newest sealed window holding chunks of the series; series whose data retention removed are forgotten. */
  lastSealedWindow: number;
  /** Position in label order among all series (see Tsdb.ordered); valid while that order is cached. */
  rank: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function windowOf(t: number): number {
  return Math.floor(t / WINDOW_MS);
}

function encodeIds(ids: readonly number[]): Uint8Array {
  const out: number[] = [];
  let prev = 0;
  for (const id of ids) {
    let d = id - prev;
    prev = id;
    while (d >= 0x80) {
      out.push((d % 0x80) | 0x80);
      d = Math.floor(d / 0x80);
    }
    out.push(d);
  }
  return Uint8Array.from(out);
}

function decodeIds(buf: Uint8Array): number[] {
  const ids: number[] = [];
  let prev = 0;
  let x = 0;
  let mul = 1;
  for (const b of buf) {
    x += (b & 0x7f) * mul;
    if (b < 0x80) {
      prev += x;
      ids.push(prev);
      x = 0;
      mul = 1;
    } else mul *= 0x80;
  }
  return ids;
}

function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT' || code === 'EFBIG';
}

/** The SQLite TSDB. Open it with {@link Tsdb.open}; run {@link Tsdb.start} for background maintenance. */
export class Tsdb implements Appendable, Queryable, CursorStore, RecentSamples {
  readonly dir: string;
  private readonly opts: TsdbOptions;
  private readonly db: BetterSqlite3.Database;
  private readonly log: SegmentedLog;
  private readonly logger: Logger;
  private readonly byRef = new Map<number, MemSeries>();
  /**
   * Every series in label order, each with its rank, or null after a series came or went. Queries return series
   * in label order; sorting each result by label comparisons cost remote write, which selects every series every
   * few seconds, as much CPU as the scrapes. Ranks make that a numeric sort, and selecting everything a filter.
   */
  private sortedAll: MemSeries[] | null = null;
  /** The samples committed in the last minutes (see recentSamples); null while loading and when read-only. */
  private recent: RecentRing | null = null;
  private readonly byKey = new Map<string, MemSeries>();
  private readonly postings = new Map<string, Map<string, number[]>>();
  private nextRef = 1;
  private sealedThrough = -Infinity;
  /** Sealed windows that hold chunks, ascending: queries visit only these. */
  private sealedWindows: number[] = [];
  private logEpoch = 0;
  private pending: { s: MemSeries; c: RecentChunk }[] = [];
  private lastFlush = 0;
  private lastTruncate = 0;
  private readonly encodeState = new CommitLogState();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private chunkCount = 0;
  private headChunks = 0;
  private newestT = -Infinity;
  private oldestCache: number | null | undefined;
  private ingestionError = '';
  /** Samples deleted by retention before every remote-write destination had delivered them (estimated). */
  private readonly unsentDropped = { age: 0, size: 0 };
  private readonly counters = {
    samplesAppended: 0,
    samplesOutOfOrder: 0,
    commits: 0,
    commitFailures: 0,
    flushFailures: 0,
    windowsDropped: 0,
    logReplayedSamples: 0,
    logCorruptRecords: 0,
    seriesRemoved: 0,
    samplesEvicted: 0,
  };
  private readonly stmt: {
    insertSeries: BetterSqlite3.Statement;
    insertChunk: BetterSqlite3.Statement;
    upsertWindow: BetterSqlite3.Statement;
    indexLookup: BetterSqlite3.Statement;
    chunkMeta: BetterSqlite3.Statement;
    chunkData: BetterSqlite3.Statement;
    insertIndex: BetterSqlite3.Statement;
    setLastWindow: BetterSqlite3.Statement;
    deleteSeries: BetterSqlite3.Statement;
    setMeta: BetterSqlite3.Statement;
  };

  private constructor(opts: TsdbOptions) {
    this.opts = opts;
    this.dir = opts.dir;
    this.logger = opts.logger;
    fs.mkdirSync(opts.dir, { recursive: true });
    this.db = opts.openDatabase(path.join(opts.dir, 'storewatch.db'));
    this.initSchema();
    this.stmt = {
      insertSeries: this.db.prepare('INSERT INTO series (id, labels) VALUES (?, ?)'),
      insertChunk: this.db.prepare('INSERT INTO chunks (series_id, mint, maxt, data) VALUES (?, ?, ?, ?)'),
      upsertWindow: this.db.prepare(
        `INSERT INTO windows (window, min_chunk_id, max_chunk_id, chunks, samples, bytes) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(window) DO UPDATE SET min_chunk_id = min(min_chunk_id, excluded.min_chunk_id),
           max_chunk_id = max(max_chunk_id, excluded.max_chunk_id), chunks = chunks + excluded.chunks,
           samples = samples + excluded.samples, bytes = bytes + excluded.bytes`,
      ),
      indexLookup: this.db
        .prepare('SELECT chunk_ids FROM chunk_index WHERE window = ? AND series_id = ?')
        .pluck(),
      chunkMeta: this.db.prepare('SELECT mint, maxt FROM chunks WHERE id = ?'),
      chunkData: this.db.prepare('SELECT data FROM chunks WHERE id = ?').pluck(),
      insertIndex: this.db.prepare('INSERT INTO chunk_index (window, series_id, chunk_ids) VALUES (?, ?, ?)'),
      setLastWindow: this.db.prepare('UPDATE series SET last_window = ? WHERE id = ?'),
      deleteSeries: this.db.prepare('DELETE FROM series WHERE id = ?'),
      setMeta: this.db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
    this.log = new SegmentedLog(path.join(opts.dir, 'head-log'), opts.now);
  }

  /** Opens (or creates) the TSDB in `opts.dir` and replays the head log of an unclean stop. */
  static open(opts: TsdbOptions): Tsdb {
    const db = new Tsdb(opts);
    try {
      db.load();
    } catch (err) {
      db.db.close();
      db.log.close();
      throw err;
    }
    return db;
  }

  private initSchema(): void {
    const db = this.db;
    // page_size and auto_vacuum only take effect before the first table exists; WAL must come after them.
    db.pragma('page_size = 8192');
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('temp_store = MEMORY');
    db.pragma('cache_size = -8192');
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS series (
        id INTEGER PRIMARY KEY, labels TEXT NOT NULL, last_window INTEGER);
      CREATE TABLE IF NOT EXISTS chunks (
        id INTEGER PRIMARY KEY, series_id INTEGER NOT NULL, mint INTEGER NOT NULL, maxt INTEGER NOT NULL,
        data BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS chunk_index (
        window INTEGER NOT NULL, series_id INTEGER NOT NULL, chunk_ids BLOB NOT NULL,
        PRIMARY KEY (window, series_id)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS windows (
        window INTEGER PRIMARY KEY, min_chunk_id INTEGER NOT NULL, max_chunk_id INTEGER NOT NULL,
        chunks INTEGER NOT NULL, samples INTEGER NOT NULL, bytes INTEGER NOT NULL,
        sealed INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS remote_cursors (name TEXT PRIMARY KEY, sent_through INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS remote_progress (
        name TEXT NOT NULL, shard INTEGER NOT NULL, step_from INTEGER NOT NULL, step_end INTEGER NOT NULL,
        shards INTEGER NOT NULL, labels TEXT NOT NULL, t INTEGER NOT NULL,
        PRIMARY KEY (name, shard)) WITHOUT ROWID;
    `);
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get() as
      number | undefined;
    if (version === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(SCHEMA_VERSION);
    } else if (version !== SCHEMA_VERSION) {
      throw new StorageError(
        'io',
        `unsupported storage schema version ${version} (expected ${SCHEMA_VERSION})`,
      );
    }
  }

  private load(): void {
    const db = this.db;
    const sealed = db.prepare("SELECT value FROM meta WHERE key = 'sealed_through'").pluck().get() as
      number | undefined;
    this.sealedThrough = sealed ?? -Infinity;
    for (const row of db.prepare('SELECT id, labels, last_window FROM series').iterate() as Iterable<{
      id: number;
      labels: string;
      last_window: number | null;
    }>) {
      const rec = JSON.parse(row.labels) as Record<string, string>;
      const labels: Labels = Object.entries(rec).map(([name, value]) => ({ name, value }));
      const s = this.newSeries(row.id, labels);
      s.lastSealedWindow = row.last_window ?? -Infinity;
      this.addSeries(s);
      if (row.id >= this.nextRef) this.nextRef = row.id + 1;
    }
    this.sealedWindows = db
      .prepare('SELECT window FROM windows WHERE sealed = 1 ORDER BY window')
      .pluck()
      .all() as number[];
    this.chunkCount =
      (db.prepare('SELECT coalesce(sum(chunks), 0) FROM windows').pluck().get() as number) ?? 0;
    const firstOpen = db.prepare('SELECT min(min_chunk_id) FROM windows WHERE sealed = 0').pluck().get() as
      number | null;
    if (firstOpen !== null) {
      const rows = db
        .prepare('SELECT id, series_id, mint, maxt, length(data) AS n FROM chunks WHERE id >= ? ORDER BY id')
        .iterate(firstOpen) as Iterable<{ id: number; series_id: number; mint: number; maxt: number }>;
      for (const r of rows) {
        const w = windowOf(r.mint);
        if (w <= this.sealedThrough) continue;
        const s = this.byRef.get(r.series_id);
        if (!s) continue;
        s.recent.push({ id: r.id, window: w, mint: r.mint, maxt: r.maxt, samples: 0, data: null });
        if (r.maxt > s.lastT) s.lastT = r.maxt;
        if (r.maxt > this.newestT) this.newestT = r.maxt;
      }
      for (const s of this.byRef.values()) s.recent.sort((a, b) => a.mint - b.mint);
    }
    this.replayLog();
    if (this.opts.readOnly) return;
    // From here on every commit passes through the ring; what was stored before is at or before newestT.
    this.recent = new RecentRing(this.newestT, RECENT_SPAN_MS, RECENT_MAX_ENTRIES);
    this.log.openNew();
    this.logEpoch++;
    this.lastFlush = this.opts.now();
  }

  private replayLog(): void {
    // Values are XOR-ed against the previous value of the same series in the same segment only.
    let currentSeg: SegmentInfo | null = null;
    let replayState: LogValueState = new MapValueState();
    this.log.replay(
      (payload, seg) => {
        if (seg !== currentSeg) {
          currentSeg = seg;
          replayState = new MapValueState();
        }
        try {
          decodeSamplesRecord(payload, replayState, (ref, t, v) => {
            if (t > seg.maxT) seg.maxT = t;
            const s = this.byRef.get(ref);
            if (!s || windowOf(t) <= this.sealedThrough || t <= s.lastT) return;
            f64[0] = v;
            this.applySample(s, t, v, u32[0]!, u32[1]!);
            this.counters.logReplayedSamples++;
          });
        } catch (err) {
          if (!(err instanceof LogCorruptError)) throw err;
          this.counters.logCorruptRecords++;
          this.logger.warn({ segment: seg.file, err: err.message }, 'skipping corrupt head log record');
        }
      },
      (seg, offset, reason) => {
        this.counters.logCorruptRecords++;
        this.logger.warn(
          { segment: seg.file, offset, reason },
          'head log ends in a torn record (unclean stop)',
        );
      },
    );
    if (this.counters.logReplayedSamples > 0) {
      this.logger.info({ samples: this.counters.logReplayedSamples }, 'replayed head log');
    }
  }

  private newSeries(ref: number, labels: Labels): MemSeries {
    return {
      ref,
      labels,
      head: null,
      headResume: null,
      headWindow: 0,
      lastT: -Infinity,
      lastLo: 0,
      lastHi: 0,
      stagedT: -Infinity,
      stagedLo: 0,
      stagedHi: 0,
      logEpoch: -1,
      logLo: 0,
      logHi: 0,
      recent: [],
      lastSealedWindow: -Infinity,
      rank: 0,
    };
  }

  private addSeries(s: MemSeries): void {
    this.sortedAll = null;
    this.byRef.set(s.ref, s);
    this.byKey.set(labelsKey(s.labels), s);
    for (const l of s.labels) {
      let values = this.postings.get(l.name);
      if (!values) this.postings.set(l.name, (values = new Map<string, number[]>()));
      const refs = values.get(l.value);
      if (refs) refs.push(s.ref);
      else values.set(l.value, [s.ref]);
    }
  }

  /** Adds one sample to the series' head chunk, cutting the chunk when it is full or the window changes. */
  private applySample(s: MemSeries, t: number, v: number, lo: number, hi: number): void {
    const w = windowOf(t);
    if (
      s.head &&
      (s.headWindow !== w || s.head.count >= CHUNK_MAX_SAMPLES || s.head.byteLength >= CHUNK_MAX_BYTES)
    ) {
      this.cutHead(s);
    }
    if (!s.head) {
      s.head = new XorChunkEncoder();
      s.headWindow = w;
      this.headChunks++;
    }
    s.head.append(t, v);
    s.lastT = t;
    s.lastLo = lo;
    s.lastHi = hi;
    if (t > this.newestT) this.newestT = t;
  }

  private cutHead(s: MemSeries): void {
    const h = s.head;
    if (!h) return;
    s.head = null;
    this.headChunks--;
    if (h.count === 0) return;
    const c: RecentChunk = {
      id: 0,
      window: s.headWindow,
      mint: h.mint,
      maxt: h.maxt,
      samples: h.count,
      data: h.bytes(),
    };
    s.recent.push(c);
    this.pending.push({ s, c });
  }

  appender(): Appender {
    if (this.opts.readOnly) throw new StorageError('closed', 'storage is open read-only');
    return new TsdbAppender(this);
  }

  querier(): Querier {
    return new TsdbQuerier(this);
  }

  // ---- used by TsdbAppender ----

  /** @internal */
  lookupForAppend(ref: SeriesRef, labels: Labels): MemSeries | undefined {
    if (ref !== 0) {
      const s = this.byRef.get(ref);
      if (s) return s;
    }
    return this.byKey.get(labelsKey(labels));
  }

  /** @internal */
  allocateSeries(labels: Labels): MemSeries {
    return this.newSeries(this.nextRef++, labels);
  }

  /** @internal */
  checkAppend(s: MemSeries, t: number, lo: number, hi: number): boolean {
    if (this.closed) throw new StorageError('closed', 'storage is closed');
    const last = s.stagedT > s.lastT ? s.stagedT : s.lastT;
    if (t < last) {
      this.counters.samplesOutOfOrder++;
      throw new SampleError('out_of_order', `out of order sample for ${seriesName(s)}`);
    }
    if (t === last) {
      const sameStaged = s.stagedT === t && s.stagedLo === lo && s.stagedHi === hi;
      const sameStored = s.lastT === t && s.lastLo === lo && s.lastHi === hi;
      if (sameStaged || sameStored) return false;
      throw new SampleError('duplicate_timestamp', `duplicate sample for timestamp ${t} of ${seriesName(s)}`);
    }
    if (windowOf(t) <= this.sealedThrough) {
      throw new SampleError('too_old', `sample at ${t} is older than the sealed storage windows`);
    }
    return true;
  }

  /** @internal Makes one round durable and visible; see Appender.commit. */
  commitRound(
    newSeries: readonly MemSeries[],
    staged: readonly MemSeries[],
    refs: readonly number[],
    ts: readonly number[],
    values: Float64Array,
    n: number,
  ): void {
    if (this.closed) throw new StorageError('closed', 'storage is closed');
    try {
      if (newSeries.length > 0) {
        const insert = this.stmt.insertSeries;
        this.db.transaction(() => {
          for (const s of newSeries) insert.run(s.ref, JSON.stringify(labelsToRecord(s.labels)));
        })();
        for (const s of newSeries) this.addSeries(s);
      }
      if (n === 0) return;
      this.maybeRotateLog();
      const state = this.encodeState;
      state.begin(staged, this.logEpoch);
      let maxT = -Infinity;
      for (let i = 0; i < n; i++) if (ts[i]! > maxT) maxT = ts[i]!;
      const record = encodeSamplesRecord(refs, ts, values, n, state);
      try {
        this.log.append(record, maxT);
      } catch (err) {
        state.undo();
        throw err;
      }
      for (let i = 0; i < n; i++) {
        const s = staged[i]!;
        const v = values[i]!;
        f64[0] = v;
        this.applySample(s, ts[i]!, v, u32[0]!, u32[1]!);
      }
      this.recent?.push(refs, ts, values, n, this.opts.now());
      this.counters.samplesAppended += n;
      this.counters.commits++;
      this.ingestionError = '';
    } catch (err) {
      this.counters.commitFailures++;
      if (err instanceof StorageError) throw err;
      const full = isDiskFull(err) || (err instanceof LogWriteError && isDiskFull(err));
      const kind = full ? 'disk_full' : 'io';
      this.ingestionError = full
        ? 'disk full: ingestion paused'
        : `storage write failed: ${(err as Error).message}`;
      throw new StorageError(kind, this.ingestionError, { cause: err });
    }
  }

  private maybeRotateLog(): void {
    const cur = this.log.current();
    if (!cur) return;
    const now = this.opts.now();
    if (cur.size >= LOG_SEGMENT_MAX_BYTES || now - cur.createdAt >= LOG_SEGMENT_MAX_AGE_MS) {
      this.log.openNew();
      this.logEpoch++;
    }
  }

  // ---- maintenance ----

  /** Starts background maintenance; it stops when `signal` aborts or on close(). */
  start(signal?: AbortSignal): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.maintainSafely(), MAINTENANCE_INTERVAL_MS);
    this.timer.unref();
    signal?.addEventListener('abort', () => this.stopTimer(), { once: true });
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private maintainSafely(): void {
    try {
      this.maintain();
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'storage maintenance failed');
    }
  }

  /**
   * One maintenance pass: flush cut chunks, seal finished windows, delete head log segments whose samples
   * are all in SQLite, and apply retention. Safe to call at any time; tests call it directly.
   */
  maintain(opts: { forceFlush?: boolean } = {}): void {
    if (this.closed || this.opts.readOnly) return;
    const now = this.opts.now();
    const target = windowOf(now - SEAL_GRACE_MS) - 1;
    if (target > this.sealedThrough) {
      for (const s of this.byRef.values()) if (s.head && s.headWindow <= target) this.cutHead(s);
    }
    const flushDue =
      now - this.lastFlush >= FLUSH_INTERVAL_MS ||
      this.pending.length >= 50_000 ||
      target > this.sealedThrough;
    if (opts.forceFlush || (this.pending.length > 0 && flushDue)) this.flush();
    if (target > this.sealedThrough && this.pending.length === 0) this.seal(target);
    this.truncateLog();
    this.applyRetention(now);
  }

  /** Writes every pending chunk to SQLite in one transaction. On failure they stay pending (and in the log). */
  flush(): void {
    this.lastFlush = this.opts.now();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const perWindow = new Map<
      number,
      { min: number; max: number; chunks: number; samples: number; bytes: number }
    >();
    try {
      this.db.transaction(() => {
        for (const { s, c } of batch) {
          const id = Number(this.stmt.insertChunk.run(s.ref, c.mint, c.maxt, c.data).lastInsertRowid);
          c.id = id;
          let agg = perWindow.get(c.window);
          if (!agg) perWindow.set(c.window, (agg = { min: id, max: id, chunks: 0, samples: 0, bytes: 0 }));
          agg.min = Math.min(agg.min, id);
          agg.max = Math.max(agg.max, id);
          agg.chunks++;
          agg.samples += c.samples;
          agg.bytes += c.data!.length;
        }
        for (const [w, a] of perWindow)
          this.stmt.upsertWindow.run(w, a.min, a.max, a.chunks, a.samples, a.bytes);
      })();
    } catch (err) {
      for (const { c } of batch) c.id = 0;
      this.counters.flushFailures++;
      if (isDiskFull(err)) this.ingestionError = 'disk full: chunks cannot be written';
      this.logger.error(
        { err: (err as Error).message, chunks: batch.length },
        'chunk flush failed; will retry',
      );
      return;
    }
    for (const { c } of batch) c.data = null;
    this.chunkCount += batch.length;
    this.pending = [];
  }

  /** Writes the chunk index of every window up to `through` and forgets their chunk lists in memory. */
  private seal(through: number): void {
    const rows: { w: number; ref: number; ids: number[] }[] = [];
    const refs = [...this.byRef.keys()].sort((a, b) => a - b);
    for (const ref of refs) {
      const s = this.byRef.get(ref)!;
      let byWindow: Map<number, number[]> | null = null;
      for (const c of s.recent) {
        if (c.window > through) continue;
        byWindow ??= new Map();
        const ids = byWindow.get(c.window);
        if (ids) ids.push(c.id);
        else byWindow.set(c.window, [c.id]);
      }
      if (byWindow) for (const [w, ids] of byWindow) rows.push({ w, ref, ids });
    }
    rows.sort((a, b) => a.w - b.w || a.ref - b.ref);
    // One small update per series and window: it lets retention forget series whose data is gone.
    const lastWindow = new Map<number, number>();
    for (const r of rows) lastWindow.set(r.ref, r.w);
    this.db.transaction(() => {
      for (const r of rows) this.stmt.insertIndex.run(r.w, r.ref, encodeIds(r.ids));
      for (const [ref, w] of lastWindow) this.stmt.setLastWindow.run(w, ref);
      this.db.prepare('UPDATE windows SET sealed = 1 WHERE window <= ?').run(through);
      this.stmt.setMeta.run('sealed_through', through);
    })();
    this.sealedThrough = through;
    for (const [ref, w] of lastWindow) this.byRef.get(ref)!.lastSealedWindow = w;
    this.sealedWindows = this.db
      .prepare('SELECT window FROM windows WHERE sealed = 1 ORDER BY window')
      .pluck()
      .all() as number[];
    for (const s of this.byRef.values()) {
      if (s.recent.length > 0 && s.recent[0]!.window <= through) {
        const keep = s.recent.filter((c) => c.window > through);
        s.recent.length = 0;
        s.recent.push(...keep);
      }
    }
  }

  private truncateLog(): void {
    const now = this.opts.now();
    if (this.log.list().length < 2 || now - this.lastTruncate < LOG_TRUNCATE_INTERVAL_MS) return;
    this.lastTruncate = now;
    let minHead = Infinity;
    for (const s of this.byRef.values())
      if (s.head && s.head.count > 0 && s.head.mint < minHead) minHead = s.head.mint;
    if (this.pending.length > 0) {
      for (const { c } of this.pending) if (c.mint < minHead) minHead = c.mint;
    }
    this.log.truncate((seg) => seg.maxT < minHead);
  }

  private applyRetention(now: number): void {
    const drop: number[] = [];
    if (this.opts.retentionTimeMs > 0) {
      const cutoff = now - this.opts.retentionTimeMs;
      const old = this.db
        .prepare('SELECT window FROM windows WHERE sealed = 1 AND (window + 1) * ? <= ? ORDER BY window')
        .pluck()
        .all(WINDOW_MS, cutoff) as number[];
      drop.push(...old);
    }
    for (const w of drop) this.dropWindow(w, 'age');
    if (this.opts.retentionSizeBytes > 0) {
      // Declared priorities first: low-priority series lose their history before anyone loses a window.
      if (this.usedDatabaseBytes() > this.opts.retentionSizeBytes) this.evictByPriority();
      while (this.usedDatabaseBytes() > this.opts.retentionSizeBytes) {
        const w = this.db.prepare('SELECT min(window) FROM windows WHERE sealed = 1').pluck().get() as
          number | null;
        if (w === null) break;
        this.dropWindow(w, 'size');
        drop.push(w);
      }
    }
    if (drop.length > 0) this.forgetDeadSeries();
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    if (free > 256 && free > total / 4) this.db.pragma(`incremental_vacuum(${free})`);
  }

  /**
   * Under the size budget, deletes the sealed chunks of the lowest-priority series, oldest window first, then
   * the next priority, until the database fits. Each window's index rows and totals are updated with it.
   */
  private evictByPriority(): void {
    const priorityOf = this.opts.evictionPriority;
    if (!priorityOf) return;
    const byPriority = new Map<number, number[]>();
    for (const s of this.byRef.values()) {
      const p = priorityOf(s.labels);
      if (p === null) continue;
      const refs = byPriority.get(p);
      if (refs) refs.push(s.ref);
      else byPriority.set(p, [s.ref]);
    }
    const levels = [...byPriority.keys()].sort((a, b) => a - b);
    const budget = this.opts.retentionSizeBytes;
    for (const p of levels) {
      const refs = byPriority.get(p)!;
      for (const w of [...this.sealedWindows]) {
        if (this.usedDatabaseBytes() <= budget) return;
        let chunks = 0;
        let samples = 0;
        let bytes = 0;
        this.db.transaction(() => {
          for (const ref of refs) {
            const blob = this.stmt.indexLookup.get(w, ref) as Uint8Array | undefined;
            if (!blob) continue;
            for (const id of decodeIds(blob)) {
              const data = this.stmt.chunkData.get(id) as Uint8Array | undefined;
              if (!data) continue;
              samples += (data[1]! << 8) | data[2]!;
              bytes += data.length;
              chunks++;
              this.db.prepare('DELETE FROM chunks WHERE id = ?').run(id);
            }
            this.db.prepare('DELETE FROM chunk_index WHERE window = ? AND series_id = ?').run(w, ref);
          }
          this.db
            .prepare(
              'UPDATE windows SET chunks = chunks - ?, samples = samples - ?, bytes = bytes - ? WHERE window = ?',
            )
            .run(chunks, samples, bytes, w);
        })();
        if (chunks === 0) continue;
        this.chunkCount -= chunks;
        this.counters.samplesEvicted += samples;
        this.logger.warn(
          { window: new Date(w * WINDOW_MS).toISOString(), priority: p, samples },
          'size budget: evicted low-priority series from a storage window',
        );
      }
    }
  }

  /**
   * Removes series that no longer hold any sample: no head, no chunk in an unsealed window, and none in a
   * sealed window that retention kept. Without this, label churn (a POS terminal replaced, a pid label) would
   * grow memory and the series table forever. A scrape loop holding a forgotten ref simply creates the series
   * again on its next sample.
   */
  private forgetDeadSeries(): void {
    const oldestKept = this.sealedWindows[0] ?? Infinity;
    const dead: MemSeries[] = [];
    for (const s of this.byRef.values()) {
      if (
        s.head === null &&
        s.recent.length === 0 &&
        s.stagedT === -Infinity &&
        s.lastSealedWindow < oldestKept
      ) {
        dead.push(s);
      }
    }
    if (dead.length === 0) return;
    this.db.transaction(() => {
      for (const s of dead) this.stmt.deleteSeries.run(s.ref);
    })();
    const gone = new Set<number>();
    for (const s of dead) {
      gone.add(s.ref);
      this.sortedAll = null;
      this.byRef.delete(s.ref);
      this.byKey.delete(labelsKey(s.labels));
    }
    for (const [name, values] of this.postings) {
      for (const [value, refs] of values) {
        const kept = refs.filter((r) => !gone.has(r));
        if (kept.length === 0) values.delete(value);
        else if (kept.length !== refs.length) values.set(value, kept);
      }
      if (values.size === 0) this.postings.delete(name);
    }
    this.counters.seriesRemoved += dead.length;
    this.logger.info({ series: dead.length }, 'forgot series whose samples retention deleted');
  }

  private usedDatabaseBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const total = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (total - free) * pageSize;
  }

  /** Deletes one sealed window: its chunks, its index rows and its bookkeeping row, in one transaction. */
  private dropWindow(w: number, reason: 'age' | 'size'): void {
    const row = this.db
      .prepare('SELECT min_chunk_id, max_chunk_id, chunks, samples FROM windows WHERE window = ?')
      .get(w) as { min_chunk_id: number; max_chunk_id: number; chunks: number; samples: number } | undefined;
    if (!row) return;
    // Data some remote-write destination has not delivered yet is lost here: count it, never silently.
    const cursor = this.db.prepare('SELECT min(sent_through) FROM remote_cursors').pluck().get() as
      number | null;
    const start = w * WINDOW_MS;
    const end = (w + 1) * WINDOW_MS;
    let unsent = 0;
    if (cursor !== null && cursor < end) {
      unsent = cursor < start ? row.samples : Math.round((row.samples * (end - cursor)) / WINDOW_MS);
    }
    this.db.transaction(() => {
      this.db
        .prepare('DELETE FROM chunks WHERE id BETWEEN ? AND ? AND mint >= ? AND mint < ?')
        .run(row.min_chunk_id, row.max_chunk_id, w * WINDOW_MS, (w + 1) * WINDOW_MS);
      this.db.prepare('DELETE FROM chunk_index WHERE window = ?').run(w);
      this.db.prepare('DELETE FROM windows WHERE window = ?').run(w);
    })();
    this.chunkCount -= row.chunks;
    this.sealedWindows = this.sealedWindows.filter((x) => x !== w);
    this.counters.windowsDropped++;
    this.oldestCache = undefined;
    if (unsent > 0) {
      this.unsentDropped[reason] += unsent;
      this.logger.warn(
        { window: new Date(start).toISOString(), reason, samples: unsent },
        'retention deleted samples that remote write had not delivered yet',
      );
    } else {
      this.logger.info(
        { window: new Date(start).toISOString(), reason },
        'retention dropped a storage window',
      );
    }
  }

  // ---- reading ----

  /** @internal Series matching all matchers, sorted by labels. */
  matchSeries(matchers: readonly Matcher[]): MemSeries[] {
    if (matchers.length === 0) return [];
    let candidates: number[] | null = null;
    for (const m of matchers) {
      if (m.type !== '=' || m.value === '') continue;
      const refs = this.postings.get(m.name)?.get(m.value) ?? [];
      candidates = candidates === null ? refs : intersect(candidates, refs);
      if (candidates.length === 0) return [];
    }
    const all = this.ordered();
    const out: MemSeries[] = [];
    if (candidates === null) {
      // A matcher that rejects the empty string needs the label to be present: union its postings, unless the
      // label has so many values that filtering every series in order is cheaper.
      const m = matchers.find((x) => !x.matches(''));
      const values = m ? this.postings.get(m.name) : undefined;
      if (m && !values) return [];
      if (m && values && values.size < all.length / 4) {
        for (const [value, refs] of values) {
          if (!m.matches(value)) continue;
          for (const ref of refs) {
            const s = this.byRef.get(ref);
            if (s && matchers.every((x) => x === m || x.matches(labelValue(s.labels, x.name)))) out.push(s);
          }
        }
        return out.sort((a, b) => a.rank - b.rank);
      }
      for (const s of all) if (matchers.every((x) => x.matches(labelValue(s.labels, x.name)))) out.push(s);
      return out;
    }
    for (const ref of candidates) {
      const s = this.byRef.get(ref);
      if (!s) continue;
      if (matchers.every((m) => m.matches(labelValue(s.labels, m.name)))) out.push(s);
    }
    return out.sort((a, b) => a.rank - b.rank);
  }

  /**
   * The samples committed with from < t <= to, straight from memory, grouped by series in label order, each
   * series' samples in timestamp order: what select over every series would return, for a range near now.
   * Null when memory may not hold all of them (the range starts too far back, or before this start).
   */
  recentSamples(from: number, to: number): RecentBatch | null {
    const ring = this.recent;
    if (ring === null || from < ring.coveredAfter()) return null;
    const e = ring.read(from, to);
    const all = this.ordered();
    // Counting sort by series rank: stable, so each series keeps commit order, which is timestamp order.
    const counts = new Uint32Array(all.length + 1);
    const rank = new Int32Array(e.count);
    for (let i = 0; i < e.count; i++) {
      const s = this.byRef.get(e.refs[i]!);
      // A series created after the ranks were taken cannot be in the ring yet; one forgotten since is skipped.
      rank[i] = s === undefined || all[s.rank] !== s ? -1 : s.rank;
      if (rank[i]! >= 0) counts[rank[i]! + 1]!++;
    }
    for (let r = 0; r < all.length; r++) counts[r + 1]! += counts[r]!;
    const kept = counts[all.length]!;
    const t = new Float64Array(kept);
    const v = new Float64Array(kept);
    const at = counts.slice(0, all.length);
    for (let i = 0; i < e.count; i++) {
      const r = rank[i]!;
      if (r < 0) continue;
      const k = at[r]!++;
      t[k] = e.t[i]!;
      v[k] = e.v[i]!;
    }
    const series: Labels[] = [];
    const offsets: number[] = [];
    for (let r = 0; r < all.length; r++) {
      if (counts[r + 1]! > counts[r]!) {
        series.push(all[r]!.labels);
        offsets.push(counts[r]!);
      }
    }
    offsets.push(kept);
    return { series, offsets, t, v };
  }

  /** Every series in label order (see sortedAll). */
  private ordered(): MemSeries[] {
    if (this.sortedAll === null) {
      const all = [...this.byRef.values()].sort((a, b) => compareLabels(a.labels, b.labels));
      for (let i = 0; i < all.length; i++) all[i]!.rank = i;
      this.sortedAll = all;
    }
    return this.sortedAll;
  }

  /** @internal The chunk sources of one series overlapping [mint, maxt], oldest first. */
  sources(s: MemSeries, mint: number, maxt: number): ChunkSource[] {
    const out: ChunkSource[] = [];
    const wFrom = windowOf(mint);
    // Windows after the series' newest sealed one hold none of its chunks (reads of recent data skip SQLite).
    const wTo = Math.min(windowOf(maxt), this.sealedThrough, s.lastSealedWindow);
    const windows = this.sealedWindows;
    // sealedWindows is ascending: start at the first window >= wFrom instead of walking every kept window.
    let lo = 0;
    let hi = windows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (windows[mid]! < wFrom) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < windows.length; k++) {
      const w = windows[k]!;
      if (w > wTo) break;
      const blob = this.stmt.indexLookup.get(w, s.ref) as Uint8Array | undefined;
      if (!blob) continue;
      for (const id of decodeIds(blob)) {
        const meta = this.stmt.chunkMeta.get(id) as { mint: number; maxt: number } | undefined;
        if (meta && meta.maxt >= mint && meta.mint <= maxt) out.push({ id, data: null });
      }
    }
    for (const c of s.recent) {
      if (c.maxt >= mint && c.mint <= maxt)
        out.push(c.data ? { id: 0, data: c.data } : { id: c.id, data: null });
    }
    const h = s.head;
    if (h && h.count > 0 && h.maxt >= mint && h.mint <= maxt) {
      // No copy: the reader decodes only the samples there are now (see XorChunkEncoder.view).
      const v = h.view();
      out.push({ id: 0, data: v.data, count: v.count, series: s, head: h });
    }
    return out;
  }

  /** @internal */
  chunkData(id: number): Uint8Array {
    const data = this.stmt.chunkData.get(id) as Uint8Array | undefined;
    // A chunk deleted by retention between select and iteration reads as empty rather than failing the query.
    return data ?? new Uint8Array([1, 0, 0]);
  }

  /** @internal */
  postingsIndex(): ReadonlyMap<string, ReadonlyMap<string, readonly number[]>> {
    return this.postings;
  }

  /** @internal */
  seriesByRef(ref: number): MemSeries | undefined {
    return this.byRef.get(ref);
  }

  /** @internal */
  allSeries(): Iterable<MemSeries> {
    return this.byRef.values();
  }

  stats(): TsdbStats {
    let dbBytes = 0;
    for (const f of ['storewatch.db', 'storewatch.db-wal']) {
      try {
        dbBytes += fs.statSync(path.join(this.dir, f)).size;
      } catch {
        // The WAL file may not exist between checkpoints.
      }
    }
    return {
      path: this.dir,
      databaseBytes: dbBytes,
      logBytes: this.log.totalBytes(),
      series: this.byRef.size,
      chunks: this.chunkCount + this.pending.length,
      headChunks: this.headChunks,
      samplesAppended: this.counters.samplesAppended,
      samplesOutOfOrder: this.counters.samplesOutOfOrder,
      oldestTimestamp: this.oldestTimestamp(),
      newestTimestamp: this.newestT === -Infinity ? null : this.newestT,
      retentionTimeMs: this.opts.retentionTimeMs,
      retentionSizeBytes: this.opts.retentionSizeBytes,
      ingestion: this.ingestionError === '' ? 'ok' : 'paused',
      ingestionError: this.ingestionError,
      commits: this.counters.commits,
      commitFailures: this.counters.commitFailures,
      flushFailures: this.counters.flushFailures,
      windowsDropped: this.counters.windowsDropped,
      logReplayedSamples: this.counters.logReplayedSamples,
      logCorruptRecords: this.counters.logCorruptRecords,
      seriesRemoved: this.counters.seriesRemoved,
      samplesEvictedByPriority: this.counters.samplesEvicted,
      unsentSamplesDropped: { ...this.unsentDropped },
    };
  }

  private oldestTimestamp(): number | null {
    if (this.oldestCache !== undefined && this.oldestCache !== null) return this.oldestCache;
    const row = this.db
      .prepare('SELECT min_chunk_id, max_chunk_id FROM windows ORDER BY window LIMIT 1')
      .get() as { min_chunk_id: number; max_chunk_id: number } | undefined;
    let oldest: number | null = null;
    if (row) {
      oldest = this.db
        .prepare('SELECT min(mint) FROM chunks WHERE id BETWEEN ? AND ?')
        .pluck()
        .get(row.min_chunk_id, row.max_chunk_id) as number | null;
    }
    for (const s of this.byRef.values()) {
      const first = s.recent[0]?.mint ?? (s.head && s.head.count > 0 ? s.head.mint : null);
      if (first !== null && (oldest === null || first < oldest)) oldest = first;
    }
    this.oldestCache = oldest;
    return oldest;
  }

  /** Remote write's durable cursor of one destination (see remote/sender.ts), or null for a new one. */
  loadCursor(name: string): number | null {
    const v = this.db.prepare('SELECT sent_through FROM remote_cursors WHERE name = ?').pluck().get(name) as
      number | undefined;
    return v ?? null;
  }

  saveCursor(name: string, sentThrough: number): void {
    if (this.closed) return;
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO remote_cursors (name, sent_through) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET sent_through = excluded.sent_through',
        )
        .run(name, sentThrough);
      this.db.prepare('DELETE FROM remote_progress WHERE name = ? AND step_from <= ?').run(name, sentThrough);
    })();
  }

  loadStepProgress(name: string): StepProgress[] {
    const rows = this.db
      .prepare(
        'SELECT shard, step_from, step_end, shards, labels, t FROM remote_progress WHERE name = ? ORDER BY shard',
      )
      .all(name) as {
      shard: number;
      step_from: number;
      step_end: number;
      shards: number;
      labels: string;
      t: number;
    }[];
    return rows.map((r) => ({
      from: r.step_from,
      end: r.step_end,
      shards: r.shards,
      shard: r.shard,
      labels: labelsFromRecord(JSON.parse(r.labels) as Record<string, string>),
      t: r.t,
    }));
  }

  saveStepProgress(name: string, p: StepProgress): void {
    if (this.closed) return;
    this.db
      .prepare(
        `INSERT INTO remote_progress (name, shard, step_from, step_end, shards, labels, t) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(name, shard) DO UPDATE SET step_from = excluded.step_from, step_end = excluded.step_end,
           shards = excluded.shards, labels = excluded.labels, t = excluded.t`,
      )
      .run(name, p.shard, p.from, p.end, p.shards, JSON.stringify(labelsToRecord(p.labels)), p.t);
  }

  /**
   * Roughly how much is stored after `t`: whole windows from the windows table, a share of the window that
   * holds `t`, plus the samples still in head chunks. For the backlog figures of remote write; not exact.
   */
  estimateSince(t: number): { samples: number; bytes: number } {
    const rows = this.db
      .prepare('SELECT window, samples, bytes FROM windows WHERE (window + 1) * ? > ?')
      .all(WINDOW_MS, t) as { window: number; samples: number; bytes: number }[];
    let samples = 0;
    let bytes = 0;
    for (const r of rows) {
      const start = r.window * WINDOW_MS;
      const share = t <= start ? 1 : (start + WINDOW_MS - t) / WINDOW_MS;
      samples += r.samples * share;
      bytes += r.bytes * share;
    }
    for (const s of this.byRef.values()) {
      const h = s.head;
      if (h && h.count > 0 && h.maxt > t) {
        samples += h.count;
        bytes += h.byteLength;
      }
    }
    for (const { c } of this.pending) {
      if (c.maxt > t) {
        samples += c.samples;
        bytes += c.data?.length ?? 0;
      }
    }
    return { samples: Math.round(samples), bytes: Math.round(bytes) };
  }

  deleteCursor(name: string): void {
    if (this.closed) return;
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM remote_cursors WHERE name = ?').run(name);
      this.db.prepare('DELETE FROM remote_progress WHERE name = ?').run(name);
    })();
  }

  // ---- backfill (see BackfillWriter) ----

  /**
   * Starts a bulk import of historical samples in one SQLite transaction. Only one may run at a time, and
   * nothing may be appended meanwhile (see {@link BackfillWriter}).
   */
  backfill(): BackfillWriter {
    if (this.closed) throw new StorageError('closed', 'storage is closed');
    if (this.opts.readOnly) throw new StorageError('closed', 'storage is open read-only');
    return new BackfillWriter(this, this.db, this.stmt.insertChunk);
  }

  /** @internal */
  insertSeriesRow(s: MemSeries): void {
    this.stmt.insertSeries.run(s.ref, JSON.stringify(labelsToRecord(s.labels)));
  }

  /** @internal */
  upsertWindowRow(w: number, chunkId: number, samples: number, bytes: number): void {
    this.stmt.upsertWindow.run(w, chunkId, chunkId, 1, samples, bytes);
  }

  /** @internal Refuses a backfill into a window where an existing series already holds data. */
  checkBackfillWindow(s: MemSeries, w: number): void {
    const where = `the window starting ${new Date(w * WINDOW_MS).toISOString()}`;
    const conflict = (): never => {
      throw new BackfillConflictError(
        `series ${labelsToString(s.labels)} already has samples in ${where}; import does not merge overlapping data`,
      );
    };
    if (w <= this.sealedThrough && this.stmt.indexLookup.get(w, s.ref) !== undefined) conflict();
    if (s.recent.some((c) => c.window === w)) conflict();
    if (s.head && s.head.count > 0 && s.headWindow <= w) conflict();
  }

  /** @internal Writes the index rows of sealed windows, inside the backfill's transaction. */
  finishBackfill(states: readonly BackfillSeriesState[]): void {
    const sealedNow = new Set<number>();
    for (const st of states) {
      let last = -Infinity;
      for (const [w, ids] of st.ids) {
        if (w > this.sealedThrough) continue;
        this.stmt.insertIndex.run(w, st.s.ref, encodeIds(ids));
        sealedNow.add(w);
        if (w > last) last = w;
      }
      if (last > st.s.lastSealedWindow) this.stmt.setLastWindow.run(last, st.s.ref);
    }
    const mark = this.db.prepare('UPDATE windows SET sealed = 1 WHERE window = ?');
    for (const w of sealedNow) mark.run(w);
  }

  /** @internal Makes a committed backfill visible in memory. */
  applyBackfill(states: readonly BackfillSeriesState[]): void {
    for (const st of states) {
      const s = st.s;
      if (st.isNew) this.addSeries(s);
      for (const w of st.ids.keys())
        if (w <= this.sealedThrough && w > s.lastSealedWindow) s.lastSealedWindow = w;
      const open = st.recent.filter((c) => c.window > this.sealedThrough);
      if (open.length > 0) {
        s.recent.push(...open);
        s.recent.sort((a, b) => a.mint - b.mint);
      }
      this.chunkCount += st.recent.length;
      if (st.lastT > s.lastT) {
        f64[0] = st.lastV;
        s.lastT = st.lastT;
        s.lastLo = u32[0]!;
        s.lastHi = u32[1]!;
      }
      if (st.lastT > this.newestT) this.newestT = st.lastT;
    }
    this.oldestCache = undefined;
    this.sealedWindows = this.db
      .prepare('SELECT window FROM windows WHERE sealed = 1 ORDER BY window')
      .pluck()
      .all() as number[];
  }

  /**
   * Stops maintenance, writes every head chunk to SQLite and removes the head log, so the next start needs
   * no replay. If the final flush fails, the log is kept and replayed next time: nothing is lost.
   */
  close(): void {
    if (this.closed) return;
    if (this.opts.readOnly) {
      this.closed = true;
      this.stopTimer();
      this.log.close();
      this.db.close();
      return;
    }
    this.stopTimer();
    for (const s of this.byRef.values()) this.cutHead(s);
    this.flush();
    this.closed = true;
    if (this.pending.length === 0) this.log.removeAll();
    else this.log.close();
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'final checkpoint failed');
    }
    this.db.close();
  }

  /** Closes files without flushing: what a crash leaves behind. For crash-recovery tests only. */
  abandonForTest(): void {
    this.stopTimer();
    this.closed = true;
    this.log.close();
    this.db.close();
  }
}

function seriesName(s: MemSeries): string {
  return labelValue(s.labels, METRIC_NAME) || '{}';
}

function labelValue(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/**
 * A reader's stopping point in a head chunk: every sample up to `coveredThrough` lies before the decoder's
 * `state`; when `current` is set, the sample the state stands on was decoded but not consumed.
 */
interface HeadResume {
  readonly head: XorChunkEncoder;
  readonly state: XorDecodeState;
  readonly coveredThrough: number;
  readonly current: boolean;
}

interface ChunkSource {
  readonly id: number;
  readonly data: Uint8Array | null;
  /** Samples to read when `data` is a view of a live head chunk (its header's count may have grown since). */
  readonly count?: number;
  /** Set for a series' head chunk, so that readers can resume where the last one stopped. */
  readonly series?: MemSeries;
  readonly head?: XorChunkEncoder;
}

/**
 * The head log writer's per-series previous values, kept on the series themselves and valid only within one
 * segment (epoch). It remembers what it changed so that a failed write can be undone.
 */
class CommitLogState implements RecordValueState {
  private staged: readonly MemSeries[] = [];
  private epoch = 0;
  private readonly undoLog: (MemSeries | number)[] = [];

  begin(staged: readonly MemSeries[], epoch: number): void {
    this.staged = staged;
    this.epoch = epoch;
    this.undoLog.length = 0;
  }

  get(i: number, out: Uint32Array): boolean {
    const s = this.staged[i]!;
    if (s.logEpoch !== this.epoch) return false;
    out[0] = s.logLo;
    out[1] = s.logHi;
    return true;
  }

  set(i: number, lo: number, hi: number): void {
    const s = this.staged[i]!;
    this.undoLog.push(s, s.logEpoch, s.logLo, s.logHi);
    s.logEpoch = this.epoch;
    s.logLo = lo;
    s.logHi = hi;
  }

  /** Restores the values changed since begin(), newest first. */
  undo(): void {
    const u = this.undoLog;
    for (let i = u.length - 4; i >= 0; i -= 4) {
      const s = u[i] as MemSeries;
      s.logEpoch = u[i + 1] as number;
      s.logLo = u[i + 2] as number;
      s.logHi = u[i + 3] as number;
    }
    u.length = 0;
  }
}

class TsdbAppender implements Appender {
  private readonly db: Tsdb;
  private staged: MemSeries[] = [];
  private refs: number[] = [];
  private ts: number[] = [];
  private values = new Float64Array(256);
  private n = 0;
  private newSeries: MemSeries[] = [];
  private readonly newByKey = new Map<string, MemSeries>();

  constructor(db: Tsdb) {
    this.db = db;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    if (!Number.isFinite(t) || !Number.isInteger(t)) {
      throw new SampleError('invalid_labels', `invalid timestamp ${t}`);
    }
    let s = this.db.lookupForAppend(ref, labels);
    if (!s) {
      const key = labelsKey(labels);
      s = this.newByKey.get(key);
      if (!s) {
        validateLabels(labels);
        s = this.db.allocateSeries(labels);
        this.newByKey.set(key, s);
        this.newSeries.push(s);
      }
    }
    f64[0] = v;
    const lo = u32[0]!;
    const hi = u32[1]!;
    if (!this.db.checkAppend(s, t, lo, hi)) return s.ref;
    if (this.n === this.values.length) {
      const next = new Float64Array(this.values.length * 2);
      next.set(this.values);
      this.values = next;
    }
    this.staged.push(s);
    this.refs.push(s.ref);
    this.ts.push(t);
    this.values[this.n++] = v;
    s.stagedT = t;
    s.stagedLo = lo;
    s.stagedHi = hi;
    return s.ref;
  }

  commit(): void {
    try {
      this.db.commitRound(this.newSeries, this.staged, this.refs, this.ts, this.values, this.n);
    } finally {
      this.reset();
    }
  }

  rollback(): void {
    this.reset();
  }

  private reset(): void {
    for (const s of this.staged) s.stagedT = -Infinity;
    this.staged = [];
    this.refs = [];
    this.ts = [];
    this.n = 0;
    this.newSeries = [];
    this.newByKey.clear();
  }
}

function validateLabels(labels: Labels): void {
  if (labels.length === 0) throw new SampleError('invalid_labels', 'empty label set');
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l.name === '' || l.value === '') throw new SampleError('invalid_labels', 'empty label name or value');
    if (i > 0 && labels[i - 1]!.name >= l.name) {
      throw new SampleError('invalid_labels', `labels not sorted or duplicated at ${JSON.stringify(l.name)}`);
    }
  }
}

class TsdbQuerier implements Querier {
  private readonly db: Tsdb;
  constructor(db: Tsdb) {
    this.db = db;
  }

  select(matchers: readonly Matcher[], mint: number, maxt: number): Series[] {
    const out: Series[] = [];
    for (const s of this.db.matchSeries(matchers)) {
      const sources = this.db.sources(s, mint, maxt);
      if (sources.length === 0) continue;
      const db = this.db;
      const labels = s.labels;
      out.push({
        labels,
        iterator: () => new ChainIterator(db, sources, mint, maxt),
      });
    }
    return out;
  }

  labelNames(mint: number, maxt: number, matchers?: readonly Matcher[]): string[] {
    const names = new Set<string>();
    if (matchers && matchers.length > 0) {
      for (const s of this.select(matchers, mint, maxt)) for (const l of s.labels) names.add(l.name);
    } else {
      // Without matchers, a series counts when it has samples at or after mint (its newest timestamp is kept in
      // memory); a series whose data all lies after maxt still counts, as with Prometheus's block granularity.
      for (const s of this.db.allSeries()) if (s.lastT >= mint) for (const l of s.labels) names.add(l.name);
    }
    return [...names].sort();
  }

  labelValues(name: string, mint: number, maxt: number, matchers?: readonly Matcher[]): string[] {
    const values = new Set<string>();
    if (matchers && matchers.length > 0) {
      for (const s of this.select(matchers, mint, maxt)) {
        const v = labelValue(s.labels, name);
        if (v !== '') values.add(v);
      }
    } else {
      for (const [v, refs] of this.db.postingsIndex().get(name) ?? []) {
        if (refs.some((ref) => (this.db.seriesByRef(ref)?.lastT ?? -Infinity) >= mint)) values.add(v);
      }
    }
    return [...values].sort();
  }
}

/** Iterates the chunks of one series in order, bounded to [mint, maxt]. Chunk bytes are read lazily. */
class ChainIterator implements SampleIterator {
  private readonly db: Tsdb;
  private readonly sources: readonly ChunkSource[];
  private readonly mint: number;
  private readonly maxt: number;
  private idx = -1;
  private cur: XorChunkIterator | null = null;
  private done = false;
  t = 0;
  v = 0;

  constructor(db: Tsdb, sources: readonly ChunkSource[], mint: number, maxt: number) {
    this.db = db;
    this.sources = sources;
    this.mint = mint;
    this.maxt = maxt;
  }

  next(): boolean {
    while (!this.done) {
      if (this.cur && this.cur.next()) {
        const t = this.cur.t;
        if (t < this.mint) continue;
        if (t > this.maxt) {
          this.done = true;
          this.remember(this.maxt, true);
          return false;
        }
        this.t = t;
        this.v = this.cur.v;
        return true;
      }
      if (this.cur) this.remember(this.cur.t, false);
      this.idx++;
      const src = this.sources[this.idx];
      if (!src) {
        this.done = true;
        return false;
      }
      const data = src.data ?? this.db.chunkData(src.id);
      // A head chunk whose last reader stopped before this range starts is decoded from there on.
      const r = src.series?.headResume;
      this.cur =
        r && r.head === src.head && r.coveredThrough < this.mint
          ? new XorChunkIterator(data, r.state, r.current, src.count)
          : new XorChunkIterator(data, undefined, false, src.count);
    }
    return false;
  }

  /** Leaves the head chunk's decoding position on the series for the next reader. */
  private remember(coveredThrough: number, current: boolean): void {
    const src = this.sources[this.idx];
    if (!src?.series || !src.head || !this.cur) return;
    const state = this.cur.state();
    if (state !== null) src.series.headResume = { head: src.head, state, coveredThrough, current };
  }

  seek(t: number): boolean {
    if (this.idx >= 0 && !this.done && this.t >= t && this.cur) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }
}

// ---- backfill (bulk import of historical samples) ----

/** Why a backfill was refused: it would overlap data the storage already holds for a series. */
export class BackfillConflictError extends Error {
  override readonly name = 'BackfillConflictError';
}

/** What one backfill wrote. */
export interface BackfillSummary {
  readonly series: number;
  readonly newSeries: number;
  readonly samples: number;
  readonly chunks: number;
  /** Smallest and largest timestamp written (ms), null when nothing was. */
  readonly minT: number | null;
  readonly maxT: number | null;
}

interface BackfillSeriesState {
  readonly s: MemSeries;
  readonly isNew: boolean;
  enc: XorChunkEncoder | null;
  window: number;
  lastT: number;
  lastV: number;
  /** Chunk ids written per window, in time order (ids grow, so each list is ascending). */
  readonly ids: Map<number, number[]>;
  /** Chunks written in unsealed windows: they join `recent` on commit. */
  readonly recent: RecentChunk[];
}

/**
 * Writes historical samples straight into chunks, bypassing the head and the head log (the import of
 * `storewatch tsdb import`, like promtool's block creation). Everything happens in ONE SQLite transaction
 * that `commit` ends and `abort` rolls back, so an import either lands whole or not at all; in-memory state
 * changes only after the commit.
 *
 * Contract: samples of one series come in strictly increasing timestamp order (the caller checks and
 * reports with line numbers); series may interleave. A (series, window) pair that already holds data — a
 * sealed index row, an unsealed chunk or the live head — is refused with {@link BackfillConflictError},
 * because the chunk lists of a window must stay in time order and overlaps are not merged. Sealed windows
 * get their index rows at once; unsealed ones are indexed by the next regular seal. The storage must not
 * ingest concurrently (the CLI runs it on a data directory the appliance is not using).
 */
export class BackfillWriter {
  private readonly db: Tsdb;
  private readonly sql: BetterSqlite3.Database;
  private readonly insertChunk: BetterSqlite3.Statement;
  private readonly bySeries = new Map<string, BackfillSeriesState>();
  private done = false;
  private samples = 0;
  private chunks = 0;
  private minT = Infinity;
  private maxT = -Infinity;

  /** @internal Use {@link Tsdb.backfill}. */
  constructor(db: Tsdb, sql: BetterSqlite3.Database, insertChunk: BetterSqlite3.Statement) {
    this.db = db;
    this.sql = sql;
    this.insertChunk = insertChunk;
    this.sql.exec('BEGIN IMMEDIATE');
  }

  /**
   * Adds one sample; `key` is labelsKey(labels) when the caller has it already. Throws
   * BackfillConflictError, SampleError (bad labels or timestamp) or an I/O error; then call abort().
   */
  add(labels: Labels, t: number, v: number, key: string = labelsKey(labels)): void {
    if (this.done) throw new StorageError('closed', 'backfill already finished');
    if (!Number.isSafeInteger(t)) throw new SampleError('invalid_labels', `invalid timestamp ${t}`);
    let st = this.bySeries.get(key);
    if (!st) {
      const existing = this.db.lookupForAppend(0, labels);
      let s: MemSeries;
      if (existing) s = existing;
      else {
        validateLabels(labels);
        s = this.db.allocateSeries(labels);
        this.db.insertSeriesRow(s);
      }
      st = {
        s,
        isNew: !existing,
        enc: null,
        // NaN: the first sample always counts as entering a new window (window 0 is 1970).
        window: Number.NaN,
        lastT: -Infinity,
        lastV: 0,
        ids: new Map(),
        recent: [],
      };
      this.bySeries.set(key, st);
    }
    if (t <= st.lastT) {
      throw new SampleError('out_of_order', `out of order sample for ${seriesName(st.s)} at ${t}`);
    }
    const w = windowOf(t);
    if (
      st.enc &&
      (st.window !== w || st.enc.count >= CHUNK_MAX_SAMPLES || st.enc.byteLength >= CHUNK_MAX_BYTES)
    ) {
      this.cut(st);
    }
    if (!st.enc) {
      if (!st.isNew && st.window !== w) this.db.checkBackfillWindow(st.s, w);
      st.enc = new XorChunkEncoder();
      st.window = w;
    }
    st.enc.append(t, v);
    st.lastT = t;
    st.lastV = v;
    this.samples++;
    if (t < this.minT) this.minT = t;
    if (t > this.maxT) this.maxT = t;
  }

  private cut(st: BackfillSeriesState): void {
    const enc = st.enc;
    if (!enc || enc.count === 0) return;
    st.enc = null;
    const data = enc.bytes();
    const id = Number(this.insertChunk.run(st.s.ref, enc.mint, enc.maxt, data).lastInsertRowid);
    this.db.upsertWindowRow(st.window, id, enc.count, data.length);
    this.chunks++;
    const list = st.ids.get(st.window);
    if (list) list.push(id);
    else st.ids.set(st.window, [id]);
    st.recent.push({ id, window: st.window, mint: enc.mint, maxt: enc.maxt, samples: enc.count, data: null });
  }

  /** Writes the last chunks and index rows and commits; the data is then visible to queriers. */
  commit(): BackfillSummary {
    if (this.done) throw new StorageError('closed', 'backfill already finished');
    try {
      for (const st of this.bySeries.values()) this.cut(st);
      this.db.finishBackfill([...this.bySeries.values()]);
      this.sql.exec('COMMIT');
    } catch (err) {
      this.abort();
      throw err;
    }
    this.done = true;
    this.db.applyBackfill([...this.bySeries.values()]);
    let newSeries = 0;
    for (const st of this.bySeries.values()) if (st.isNew) newSeries++;
    return {
      series: this.bySeries.size,
      newSeries,
      samples: this.samples,
      chunks: this.chunks,
      minT: this.samples > 0 ? this.minT : null,
      maxT: this.samples > 0 ? this.maxT : null,
    };
  }

  /** Rolls everything back; nothing of the backfill stays. Safe to call more than once. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    // New series rows were part of the transaction, and memory changes only on commit: nothing else to undo.
    if (this.sql.inTransaction) this.sql.exec('ROLLBACK');
  }
}
