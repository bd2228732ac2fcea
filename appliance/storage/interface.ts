// The storage stage's role interfaces. Scraping depends on Appendable; the page, remote write and PromQL
// depend on Queryable. The SQLite TSDB (appliance/tsdb) implements both.
import type { Labels } from '../model/labels.ts';
import type { Matcher } from '../model/matcher.ts';

/** A reference to a series that an Appender handed out; 0 means "not known yet". */
export type SeriesRef = number;

/**
 * Collects the samples of one scrape round and makes them durable together.
 *
 * Contract:
 * - `append` validates and stages one sample and returns the series' reference, which the caller may pass
 *   back on the next round to skip the label lookup. It throws a {@link SampleError} for a sample the storage
 *   refuses (out of order, duplicate timestamp with another value, too old); the caller counts it and goes on.
 *   An exact duplicate (same timestamp, same value bits) is accepted and ignored.
 * - `commit` makes every staged sample durable against a process crash (`kill -9`) before it returns, and
 *   visible to queriers. It throws a {@link StorageError} when nothing could be written (for example a full
 *   disk); then nothing of the round was stored and the appender is empty again.
 * - `rollback` discards the staged samples. After `commit` or `rollback` the appender may be reused.
 * - Samples of one series must be appended in timestamp order; staleness markers are ordinary values
 *   (see model/sample.ts) and are kept bit-exact.
 */
export interface Appender {
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef;
  commit(): void;
  rollback(): void;
}

/** Hands out appenders. Each scrape loop owns one appender at a time. */
export interface Appendable {
  appender(): Appender;
}

/**
 * Iterates the samples of one series in timestamp order. Start with `next()` or `seek()`; read `t` and `v`
 * only after one of them returned true.
 */
export interface SampleIterator {
  next(): boolean;
  /** Advances to the first sample with timestamp >= t (never moves backwards). */
  seek(t: number): boolean;
  readonly t: number;
  readonly v: number;
}

/** One series of a query result. */
export interface Series {
  readonly labels: Labels;
  iterator(): SampleIterator;
}

/**
 * Reads a consistent view of the storage over [mint, maxt] (milliseconds, both inclusive).
 *
 * Contract: `select` returns every series that has at least one sample in the range and satisfies all
 * matchers (a matcher on an absent label sees ''), sorted by label set; iterators yield only samples inside
 * the range. An empty matcher list selects nothing. `labelNames` and `labelValues` return sorted, unique
 * strings of series that have samples in the range (and match the matchers, when given); without matchers an
 * implementation may also count series whose samples all lie after `maxt` (block granularity, as Prometheus).
 */
export interface Querier {
  select(matchers: readonly Matcher[], mint: number, maxt: number): Series[];
  labelNames(mint: number, maxt: number, matchers?: readonly Matcher[]): string[];
  labelValues(name: string, mint: number, maxt: number, matchers?: readonly Matcher[]): string[];
}

/** Hands out queriers. */
export interface Queryable {
  querier(): Querier;
}

/** Samples of several series: series `i` holds `t` and `v` from `offsets[i]` to `offsets[i + 1]`. */
export interface RecentBatch {
  readonly series: readonly Labels[];
  readonly offsets: readonly number[];
  readonly t: Float64Array;
  /** A Float64Array, so that staleness markers keep their bits. */
  readonly v: Float64Array;
}

/**
 * The samples committed in the last minutes, from memory: remote write reads them once it has caught up
 * instead of querying every series every few seconds.
 *
 * Contract: `recentSamples(from, to)` returns exactly what `select` over every series would return for the
 * range (from, to] (series in label order, the same label objects, samples in timestamp order, staleness
 * markers bit-exact), or null when it cannot vouch for that (the range starts before what memory covers).
 */
export interface RecentSamples {
  recentSamples(from: number, to: number): RecentBatch | null;
}

/**
 * Where one shard of a remote-write destination got to inside a step it had not finished (see
 * remote/sender.ts): the shard, which sends the step's series in label order, delivered every series of its
 * own that sorts before `labels` through `end`, and `labels` itself through `t`. Shards are assigned by a
 * hash of the stored label set modulo `shards`.
 */
export interface StepProgress {
  /** The step: stored time from `from` through `end`, both inclusive; the cursor was at `from - 1`. */
  readonly from: number;
  readonly end: number;
  readonly shards: number;
  readonly shard: number;
  readonly labels: Labels;
  readonly t: number;
}

/**
 * Durable per-destination cursors for remote write, kept by the storage so that the cursor and the data it
 * points into live in the same file. Contract: every save is durable against a process crash when it returns;
 * `loadCursor` returns the last saved value, or null for a name never saved. `saveCursor` forgets, in the same
 * transaction, the step progress of the steps it covers (those starting at or before the new cursor: a
 * finished step needs none), and `deleteCursor` deletes both.
 */
export interface CursorStore {
  /** The timestamp (ms) through which every sample was delivered, or null for a new destination. */
  loadCursor(name: string): number | null;
  saveCursor(name: string, sentThrough: number): void;
  deleteCursor(name: string): void;
  /** The progress of each shard in the step after the cursor; one entry per shard that delivered anything. */
  loadStepProgress(name: string): StepProgress[];
  /** Replaces the progress of `p.shard`. */
  saveStepProgress(name: string, p: StepProgress): void;
}

/** Why the storage refused one sample. */
export type SampleErrorKind = 'out_of_order' | 'duplicate_timestamp' | 'too_old' | 'invalid_labels';

/** The storage refused one sample; the rest of the round is unaffected. */
export class SampleError extends Error {
  override readonly name = 'SampleError';
  readonly kind: SampleErrorKind;
  constructor(kind: SampleErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Why a commit failed. */
export type StorageErrorKind = 'disk_full' | 'io' | 'closed';

/** A commit failed as a whole; nothing of the round was stored. */
export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly kind: StorageErrorKind;
  constructor(kind: StorageErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}
