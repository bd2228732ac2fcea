// Store-and-forward remote write for one destination: read what the TSDB holds after this destination's
// durable cursor, in bounded time steps, send it in batches, and advance the cursor only after the receiver
// acknowledged it. Nothing is kept in RAM beyond one step, so an outage of days costs disk, not memory, and a
// restart or kill -9 resumes from the cursor.
import type { Labels } from '../model/labels.ts';
import { compareLabels, LabelsBuilder } from '../model/labels.ts';
import type { Logger } from '../model/logger.ts';
import { newMatcher } from '../model/matcher.ts';
import type { CompiledRelabel } from '../model/relabel.ts';
import { relabel } from '../model/relabel.ts';
import type {
  CursorStore,
  Querier,
  Queryable,
  RecentBatch,
  RecentSamples,
  SampleIterator,
  Series,
  StepProgress,
} from '../storage/interface.ts';
import type { WriteClient, WriteResult } from './client.ts';
import type { WireMetadata, WireSeries } from './wire.ts';
import {
  encodeLabelsV1,
  encodeWriteRequestV1,
  encodeWriteRequestV2,
  RW1_HEADERS,
  RW2_HEADERS,
  snappyCompress,
} from './wire.ts';

export interface SenderOptions {
  /** Unique per destination: the cursor's key. */
  readonly name: string;
  readonly client: WriteClient;
  readonly storage: Queryable;
  /** The storage's memory of recent samples, read instead of querying once caught up; absent: always query. */
  readonly recent?: RecentSamples;
  readonly cursors: CursorStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Labels added to every series unless the series has the label already (Prometheus's rule). */
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly maxSamplesPerSend: number;
  /** How long the sender waits for new data when it has caught up. */
  readonly batchSendDeadlineMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Samples older than this are dropped (counted) instead of sent; 0 sends everything. */
  readonly sampleAgeLimitMs: number;
  /**
   * The reader stays this far behind the clock, so that every scrape round stamped before the cursor has been
   * committed (a scrape is committed at most its timeout after its timestamp).
   */
  readonly readLagMs: number;
  /** Span of stored time read per step; bounds memory. */
  readonly stepMs: number;
  /** Metric metadata by family name, sent with remote write 2.0 requests; absent: none. */
  readonly metadata?: () => ReadonlyMap<string, WireMetadata>;
  /** Estimates what is stored after a time (the backlog figures of the status page); absent: not shown. */
  readonly estimateSince?: (t: number) => { samples: number; bytes: number };
  /** write_relabel_configs, compiled; applied after external labels. A dropped series is not sent. */
  readonly writeRelabel: readonly CompiledRelabel[];
  /** Requests in flight at once; series are split over them by label hash (Prometheus's max_shards). */
  readonly shards: number;
  /** Request bytes per second on the wire, 0 for no cap: the store's link also carries payments. */
  readonly bandwidthLimit: number;
  /** The message to try first; a receiver that only speaks 1.0 is detected and 1.0 is used from then on. */
  readonly protobufMessage: 'prometheus.WriteRequest' | 'io.prometheus.write.v2.Request';
  /**
   * oldest-first: strict order, the backlog before anything newer. live-first: current data flows at once and the
   * backlog is filled in behind it, which only a receiver with an out-of-order window accepts.
   */
  readonly catchUp: 'oldest-first' | 'live-first';
  /** When a destination that is catching up may send its backlog; empty means always. */
  readonly backfillWindows: readonly DailyWindow[];
  /** Local minute of the day (0..1439) of a timestamp: the store's time zone decides backfill windows. */
  readonly minuteOfDay: (t: number) => number;
  /** Counters of the sender this one replaces (a reload), so totals and the last error survive it. */
  readonly carryOver?: SenderCounters;
}

/** The totals and last outcome of a sender, carried from one instance to the next across a reload. */
export interface SenderCounters {
  readonly lastSuccess: number | null;
  readonly lastError: string;
  readonly lastErrorTime: number | null;
  readonly samplesSent: number;
  readonly bytesSent: number;
  readonly requests: number;
  readonly retries: number;
  readonly dropped: Readonly<Record<string, number>>;
}

/**
 * A token bucket over request bytes. A request larger than one second's budget is still sent whole, after
 * waiting for its full cost, so the long-run rate stays at the cap.
 */
export class ByteRateLimiter {
  private readonly rate: number;
  private readonly now: () => number;
  private tokens: number;
  private last: number;

  constructor(bytesPerSecond: number, now: () => number) {
    this.rate = bytesPerSecond;
    this.now = now;
    this.tokens = bytesPerSecond;
    this.last = now();
  }

  /** How long to wait before sending `bytes`; the bytes are charged at once. */
  reserve(bytes: number): number {
    const t = this.now();
    this.tokens = Math.min(this.rate, this.tokens + ((t - this.last) * this.rate) / 1000);
    this.last = t;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }

  /** Gives back what a request that never reached the wire was charged (at most a full bucket). */
  refund(bytes: number): void {
    this.tokens = Math.min(this.rate, this.tokens + bytes);
  }
}

/** What the status page shows about a destination: its counters (dropped ones by reason) and where it is. */
export interface SenderStatus extends Omit<SenderCounters, 'dropped'> {
  readonly name: string;
  readonly state: 'idle' | 'sending' | 'throttled' | 'backing_off' | 'waiting_for_window' | 'stopped';
  /** Timestamp (ms) through which everything was delivered; null before the first delivery. */
  readonly sentThrough: number | null;
  /** live-first while catching up: how far live data got; null otherwise. */
  readonly liveThrough: number | null;
  /** Stored but not yet delivered (estimated; compressed chunk bytes on disk, not wire bytes). */
  readonly backlogSamples: number | null;
  readonly backlogBytes: number | null;
  /** Samples per second delivered, smoothed over about a minute. */
  readonly drainRate: number;
  /** Seconds until caught up at the current drain rate; null when not draining or nothing is behind. */
  readonly etaSeconds: number | null;
  /** Samples dropped, by reason: http_4xx (the receiver refused them for good), too_old (sample_age_limit). */
  readonly samplesDropped: Readonly<Record<string, number>>;
}

const ALL_SERIES = [newMatcher('=~', '__name__', '.+')];
/** Further behind than this, a destination is catching up (backfill windows and live-first apply). */
const CATCH_UP_THRESHOLD_MS = 2 * 60 * 1000;
/** Stored time per step while catching up (the cursor advances per step). */
const CATCH_UP_STEP_MS = 10 * 60 * 1000;
const LIVE_SUFFIX = '#live';
const LIVE_START_SUFFIX = '#live-start';

/** A daily window in local minutes since midnight; end < start wraps past midnight. */
export interface DailyWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Stored time covered by one span reader (see {@link SpanReader}), aligned to the epoch like the TSDB's windows,
 * so a span usually maps to one window's chunks.
 */
const SPAN_MS = 2 * 60 * 60 * 1000;

/** One series of a span: its iterator carries over from step to step. */
interface SpanSeries {
  readonly series: Series;
  it: SampleIterator | null;
  /** The iterator holds a sample (it.t, it.v) that belongs to a later step. */
  pending: boolean;
  done: boolean;
  /** The labels as sent (external labels, then write relabelling); null: dropped; undefined: not computed. */
  wire: WireLabels | null | undefined;
  /** The series' shard for `shardCount` shards. */
  shard: number;
  shardCount: number;
}

/**
 * Where a step that was cut short (a crash, a stop) resumes: per shard, the position its last acknowledged
 * batch reached (see StepProgress). Series sort before it in the shard's order were delivered.
 */
interface Resume {
  readonly from: number;
  readonly end: number;
  readonly shards: number;
  readonly at: ReadonlyMap<number, { readonly labels: Labels; readonly t: number }>;
}

/** A series' labels as sent, and their remote write 1.0 encoding (see WireSeries.labelsV1). */
interface WireLabels {
  readonly labels: Labels;
  readonly v1: Uint8Array;
}

/** One request being filled: its series, and the last stored position it covers (for step progress). */
interface OpenBatch {
  series: WireSeries[];
  samples: number;
  last: { labels: Labels; t: number } | null;
}

/**
 * Reads a span of stored time in steps. The span's series are selected once, and each series' iterator
 * advances across steps, so every chunk is read from SQLite and decoded once however many steps it covers
 * (re-selecting each step read and decoded a 2-hour chunk up to 120 times while catching up). This is valid
 * because the span ends at or before the read limit: everything in it was committed when it was selected.
 * Memory is one open chunk per series, whatever the length of the backlog.
 */
class SpanReader {
  readonly to: number;
  readonly series: SpanSeries[];
  /** Where the next step must start for the reader to be reused. */
  next: number;

  constructor(querier: Querier, from: number, to: number) {
    this.to = to;
    this.next = from;
    this.series = querier.select(ALL_SERIES, from, to).map((series) => ({
      series,
      it: null,
      pending: false,
      done: false,
      wire: undefined,
      shard: 0,
      shardCount: 0,
    }));
  }
}

/** A copy twice as long. */
function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}

/** Resolves on the next turn of the event loop, after pending I/O and timers. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A stable shard for a stored label set (FNV-1a over names and values). The stored labels, not the labels as
 * sent, so that a config reload that changes external labels or write relabelling does not move a series to
 * another shard in the middle of a step that is resumed.
 */
function shardOf(labels: Labels, shards: number): number {
  let h = 2166136261;
  for (const l of labels) {
    for (let i = 0; i < l.name.length; i++) h = Math.imul(h ^ l.name.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0xff, 16777619);
    for (let i = 0; i < l.value.length; i++) h = Math.imul(h ^ l.value.charCodeAt(i), 16777619);
    h = Math.imul(h ^ 0xfe, 16777619);
  }
  return (h >>> 0) % shards;
}

export class RemoteSender {
  private readonly o: SenderOptions;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private cursor: number | null;
  /** Step progress found at start, per slot: the first step of that slot resumes from it, then it is gone. */
  private readonly resume: { main: Resume | null; live: Resume | null };
  private readonly rate = { value: 0, at: 0, sent: 0 };
  private readonly limiter: ByteRateLimiter | null;
  private useV2: boolean;
  /** live-first only: where live sending started, and how far it got; null when not split. */
  private live: { start: number; cursor: number } | null = null;
  /** The open span readers of the main cursor and of live-first's live cursor. */
  private readonly readers: { main: SpanReader | null; live: SpanReader | null } = { main: null, live: null };
  /** See wireLabels; weak, so series the TSDB forgets are forgotten here too. */
  private readonly wireCache = new WeakMap<Labels, WireLabels | null>();
  private st: {
    state: SenderStatus['state'];
    lastSuccess: number | null;
    lastError: string;
    lastErrorTime: number | null;
    samplesSent: number;
    bytesSent: number;
    requests: number;
    retries: number;
    dropped: Record<string, number>;
  } = {
    state: 'idle',
    lastSuccess: null,
    lastError: '',
    lastErrorTime: null,
    samplesSent: 0,
    bytesSent: 0,
    requests: 0,
    retries: 0,
    dropped: {},
  };

  constructor(o: SenderOptions) {
    this.o = o;
    this.cursor = o.cursors.loadCursor(o.name);
    this.limiter = o.bandwidthLimit > 0 ? new ByteRateLimiter(o.bandwidthLimit, o.now) : null;
    this.useV2 = o.protobufMessage === 'io.prometheus.write.v2.Request';
    if (o.carryOver) {
      const c = o.carryOver;
      this.st = { ...this.st, ...c, dropped: { ...c.dropped } };
      this.rate.sent = c.samplesSent;
    }
    const liveStart = o.cursors.loadCursor(`${o.name}${LIVE_START_SUFFIX}`);
    const liveCursor = o.cursors.loadCursor(`${o.name}${LIVE_SUFFIX}`);
    if (liveStart !== null && liveCursor !== null) this.live = { start: liveStart, cursor: liveCursor };
    this.resume = { main: this.loadResume(o.name), live: this.loadResume(`${o.name}${LIVE_SUFFIX}`) };
  }

  /** The step progress saved under a cursor key, if it is consistent (one step, one shard count). */
  private loadResume(key: string): Resume | null {
    let rows: StepProgress[];
    try {
      rows = this.o.cursors.loadStepProgress(key);
    } catch (err) {
      this.o.logger.warn(
        { destination: this.o.name, err: (err as Error).message },
        'could not load step progress',
      );
      return null;
    }
    const first = rows[0];
    if (first === undefined) return null;
    if (rows.some((r) => r.from !== first.from || r.end !== first.end || r.shards !== first.shards))
      return null;
    return {
      from: first.from,
      end: first.end,
      shards: first.shards,
      at: new Map(rows.map((r) => [r.shard, { labels: r.labels, t: r.t }])),
    };
  }

  /** The counters to hand to a replacement (see SenderOptions.carryOver). */
  counters(): SenderCounters {
    const { state: _state, dropped, ...rest } = this.st;
    return { ...rest, dropped: { ...dropped } };
  }

  status(): SenderStatus {
    const { dropped, ...counters } = this.counters();
    return {
      name: this.o.name,
      state: this.st.state,
      sentThrough: this.cursor,
      liveThrough: this.live?.cursor ?? null,
      ...this.backlog(),
      ...counters,
      samplesDropped: dropped,
    };
  }

  private backlog(): Pick<SenderStatus, 'backlogSamples' | 'backlogBytes' | 'drainRate' | 'etaSeconds'> {
    const now = this.o.now();
    // Smooth the delivery rate over about a minute: an EWMA updated whenever the status is read.
    const dt = (now - this.rate.at) / 1000;
    if (dt >= 1) {
      const inst = (this.st.samplesSent - this.rate.sent) / dt;
      const alpha = Math.min(1, dt / 60);
      this.rate.value = this.rate.value * (1 - alpha) + inst * alpha;
      this.rate.at = now;
      this.rate.sent = this.st.samplesSent;
    }
    const est = this.o.estimateSince && this.cursor !== null ? this.o.estimateSince(this.cursor) : null;
    const behind = est !== null && est.samples > 0 && this.cursor! < now - CATCH_UP_THRESHOLD_MS;
    return {
      backlogSamples: est?.samples ?? null,
      backlogBytes: est?.bytes ?? null,
      drainRate: this.rate.value,
      etaSeconds: behind && this.rate.value > 0 ? est.samples / this.rate.value : null,
    };
  }

  start(): void {
    this.running ??= this.run().catch((err: unknown) => {
      this.o.logger.error({ destination: this.o.name, err: (err as Error).message }, 'remote write stopped');
    });
  }

  /** Stops after the request in flight; the cursor is saved so a restart resumes exactly here. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.persist('main');
    if (this.live !== null) this.persist('live');
    this.st.state = 'stopped';
    this.o.client.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      const now = this.o.now();
      const upper = now - this.o.readLagMs;
      const behind = this.cursor !== null && this.cursor < upper - CATCH_UP_THRESHOLD_MS;
      const inWindow = this.inBackfillWindow(now);
      if (this.o.catchUp === 'live-first' && behind && this.live === null) {
        // Live data flows from the present at once; the backlog is filled in behind it.
        const startAt = upper - this.o.stepMs;
        this.live = { start: startAt, cursor: startAt - 1 };
        this.saveLiveStart();
      }
      let progressed = false;
      if (this.live !== null) {
        if (this.live.cursor < upper) {
          const c = await this.advance('live', this.live.cursor, upper, signal);
          if (c === null) return;
          // Reaching the read limit means caught up for now: wait for the deadline rather than spin.
          if (c < upper) progressed = true;
        }
        if (inWindow && this.cursor !== null && this.cursor < this.live.start - 1) {
          const c = await this.advance('main', this.cursor, this.live.start - 1, signal);
          if (c === null) return;
          progressed = true;
        }
        if (this.cursor !== null && this.cursor >= this.live.start - 1) {
          // The backlog reached where live sending started: one cursor again. Main is saved first, so a crash
          // in between leaves both, and the next start joins them here again.
          this.cursor = this.live.cursor;
          this.persist('main');
          this.live = null;
          this.deleteLive();
        }
      } else if ((this.cursor ?? -Infinity) < upper && (!behind || inWindow)) {
        const c = await this.advance('main', this.cursor ?? -Infinity, upper, signal);
        if (c === null) return; // Aborted mid-step: the cursor still points before this step.
        // Reaching the read limit means caught up for now: wait for the deadline rather than spin.
        progressed = c < upper;
      }
      if (!progressed) {
        this.st.state = behind && !inWindow ? 'waiting_for_window' : 'idle';
        await this.o.sleep(this.o.batchSendDeadlineMs, signal);
      } else {
        // Catching up: give scrapes, the web server and timers a turn between steps.
        await yieldToEventLoop();
      }
    }
  }

  private slotCursor(slot: 'main' | 'live'): number | null {
    return slot === 'main' ? this.cursor : (this.live?.cursor ?? null);
  }

  private setSlotCursor(slot: 'main' | 'live', c: number): void {
    if (slot === 'main') this.cursor = c;
    else if (this.live !== null) this.live.cursor = c;
  }

  /**
   * Sends one step of stored data after `from` (exclusive) up to `limit` and moves the slot's cursor; the new
   * cursor, or null if aborted. A step that delivered data saves the cursor at once (a crash then repeats at
   * most the batches in flight); a step that only skipped an empty stretch leaves saving to the next one.
   */
  private async advance(
    slot: 'main' | 'live',
    from: number,
    limit: number,
    signal: AbortSignal,
  ): Promise<number | null> {
    // A new destination starts at the oldest stored sample: store-and-forward means everything goes upstream.
    const start = from === -Infinity ? this.oldest(limit, Number.MIN_SAFE_INTEGER) : from + 1;
    if (start === null) {
      this.setSlotCursor(slot, limit);
      return limit;
    }
    // Caught up: the newest seconds come from the storage's memory instead of a query over every series.
    if (this.o.recent !== undefined && this.resume[slot] === null && limit - start <= CATCH_UP_THRESHOLD_MS) {
      const end = Math.min(limit, start + this.o.stepMs - 1);
      const batch = this.o.recent.recentSamples(start - 1, end);
      if (batch !== null) {
        this.readers[slot] = null;
        if (!(await this.sendRecent(batch, start, end, this.cursorKey(slot), signal))) return null;
        this.setSlotCursor(slot, end);
        if (batch.t.length > 0) this.persist(slot);
        return end;
      }
    }
    let reader = this.readers[slot];
    if (reader === null || reader.next !== start || start > reader.to) {
      const spanEnd = Math.floor(start / SPAN_MS) * SPAN_MS + SPAN_MS - 1;
      reader = new SpanReader(this.o.storage.querier(), start, Math.min(limit, spanEnd));
      this.readers[slot] = reader;
    }
    if (reader.series.length === 0) {
      // A gap (appliance down, or data retention already removed): jump to the next stored sample.
      this.readers[slot] = null;
      const next = this.oldest(limit, reader.to + 1);
      const c = next === null ? limit : next - 1;
      this.setSlotCursor(slot, c);
      return c;
    }
    // Far behind, longer steps put more samples of a series into one request: its labels are sent once per
    // request, so this is what makes catching up cheaper on the wire. Memory does not grow (batches stream).
    const stepMs =
      limit - start > CATCH_UP_THRESHOLD_MS ? Math.max(this.o.stepMs, CATCH_UP_STEP_MS) : this.o.stepMs;
    let end = Math.min(reader.to, start + stepMs - 1);
    // A step cut short by a crash or a stop is repeated with the same end and shard count, so that the
    // progress its shards saved still says exactly what was delivered.
    let resume = this.resume[slot];
    this.resume[slot] = null;
    if (resume !== null && (resume.from !== start || resume.end > reader.to)) resume = null;
    if (resume !== null) end = resume.end;
    if (!(await this.sendRange(reader, start, end, this.cursorKey(slot), resume, signal))) {
      this.readers[slot] = null;
      return null;
    }
    reader.next = end + 1;
    this.setSlotCursor(slot, end);
    this.persist(slot);
    return end;
  }

  private cursorKey(slot: 'main' | 'live'): string {
    return slot === 'main' ? this.o.name : `${this.o.name}${LIVE_SUFFIX}`;
  }

  private inBackfillWindow(now: number): boolean {
    const windows = this.o.backfillWindows;
    if (windows.length === 0) return true;
    const m = this.o.minuteOfDay(now);
    // A window whose end is before its start wraps past midnight (22:00-06:00).
    return windows.some((w) => (w.start <= w.end ? m >= w.start && m < w.end : m >= w.start || m < w.end));
  }

  /** Saves a slot's cursor. A failed save only means more duplicates after a crash; sending goes on. */
  private persist(slot: 'main' | 'live'): void {
    const c = this.slotCursor(slot);
    if (c === null || c === -Infinity) return;
    this.guard('could not save cursor', () => this.o.cursors.saveCursor(this.cursorKey(slot), c));
  }

  private saveLiveStart(): void {
    const live = this.live;
    if (live === null) return;
    this.guard('could not save live cursor', () => {
      this.o.cursors.saveCursor(`${this.o.name}${LIVE_START_SUFFIX}`, live.start);
      this.o.cursors.saveCursor(`${this.o.name}${LIVE_SUFFIX}`, live.cursor);
    });
  }

  private deleteLive(): void {
    this.guard('could not delete live cursor', () => {
      this.o.cursors.deleteCursor(`${this.o.name}${LIVE_START_SUFFIX}`);
      this.o.cursors.deleteCursor(`${this.o.name}${LIVE_SUFFIX}`);
    });
  }

  private guard(what: string, f: () => void): void {
    try {
      f();
    } catch (err) {
      this.o.logger.warn({ destination: this.o.name, err: (err as Error).message }, what);
    }
  }

  /** The first stored timestamp in [from, upper], or null; one pass over every series. */
  private oldest(upper: number, from: number): number | null {
    let min: number | null = null;
    for (const s of this.o.storage.querier().select(ALL_SERIES, from, upper)) {
      const it = s.iterator();
      if (it.next() && (min === null || it.t < min)) min = it.t;
    }
    return min;
  }

  /**
   * Sends every sample of the reader's next step, (from - 1, end], in batches; false when aborted. Batches are
   * sent while the step is still being read (at most two waiting per shard), so memory is a few batches however
   * long the step is. After each acknowledged batch the shard's position is saved (see StepProgress), so a
   * crash repeats only the batches in flight; a step resumed from such progress skips what was delivered.
   */
  private async sendRange(
    reader: SpanReader,
    from: number,
    end: number,
    key: string,
    resume: Resume | null,
    signal: AbortSignal,
  ): Promise<boolean> {
    const step = this.stepBatcher(from, end, key, resume?.shards ?? Math.max(1, this.o.shards), signal);
    let ts: Float64Array = new Float64Array(64);
    let vs: Float64Array = new Float64Array(64);
    let visited = 0;
    for (const s of reader.series) {
      // Reading is synchronous work; let scrapes run every few hundred series, and let the shards drain.
      if (++visited % 500 === 0) await yieldToEventLoop();
      if (signal.aborted) return false;
      if (s.done) continue;
      s.wire ??= this.wireLabels(s.series.labels);
      const it = (s.it ??= s.series.iterator());
      if (s.shardCount !== step.shards) {
        s.shard = step.shardOf(s.series.labels);
        s.shardCount = step.shards;
      }
      // Resuming: what this shard delivered before the crash is read past, not sent again.
      let skipThrough = -Infinity;
      const at = resume?.at.get(s.shard);
      if (at !== undefined) {
        const c = compareLabels(s.series.labels, at.labels);
        skipThrough = c < 0 ? Infinity : c === 0 ? at.t : -Infinity;
      }
      let n = 0;
      for (;;) {
        if (!s.pending) {
          if (!it.next()) {
            s.done = true;
            break;
          }
          s.pending = true;
        }
        if (it.t > end) break;
        s.pending = false;
        // A series that write_relabel_configs drops is still read, so that its iterator keeps pace.
        if (s.wire === null || it.t <= skipThrough) continue;
        if (n === ts.length) {
          ts = grow(ts);
          vs = grow(vs);
        }
        ts[n] = it.t;
        vs[n++] = it.v;
      }
      if (n > 0 && !(await step.add(s.shard, s.wire!, s.series.labels, ts, vs, n))) return false;
    }
    return step.finish();
  }

  /**
   * Sends a step that memory still holds (see RecentSamples): the same order and batches as sendRange, without
   * a query. A resumed step never comes here (after a restart memory holds nothing older than the restart).
   */
  private async sendRecent(batch: RecentBatch, from: number, end: number, key: string, signal: AbortSignal) {
    const step = this.stepBatcher(from, end, key, Math.max(1, this.o.shards), signal);
    for (let i = 0; i < batch.series.length; i++) {
      if (signal.aborted) return false;
      const labels = batch.series[i]!;
      const wire = this.wireLabels(labels);
      if (wire === null) continue;
      const lo = batch.offsets[i]!;
      const n = batch.offsets[i + 1]! - lo;
      const ts = batch.t.subarray(lo, lo + n);
      const vs = batch.v.subarray(lo, lo + n);
      if (!(await step.add(step.shardOf(labels), wire, labels, ts, vs, n))) return false;
    }
    return step.finish();
  }

  /**
   * The requests of one step: series are added in label order, each to its shard; a shard's batch goes out as
   * soon as it is full, and each shard sends its batches in order, so the samples of a series stay in timestamp
   * order while shards send in parallel. After each acknowledged batch the shard's place is saved.
   */
  private stepBatcher(from: number, end: number, key: string, shards: number, signal: AbortSignal) {
    const limit = this.o.maxSamplesPerSend;
    const chains: Promise<boolean>[] = Array.from({ length: shards }, () => Promise.resolve(true));
    const waiting = new Array<number>(shards).fill(0);
    const newBatch = (): OpenBatch => ({ series: [], samples: 0, last: null });
    const open: OpenBatch[] = Array.from({ length: shards }, newBatch);
    const ageCutoff = this.o.sampleAgeLimitMs > 0 ? this.o.now() - this.o.sampleAgeLimitMs : -Infinity;
    let outstanding = 0;
    let readingDone = false;
    const dispatch = (shard: number): void => {
      const b = open[shard]!;
      if (b.samples === 0) return;
      open[shard] = newBatch();
      waiting[shard]!++;
      outstanding++;
      chains[shard] = chains[shard]!.then(async (ok) => {
        const sent = ok && (await this.send(b.series, b.samples, signal));
        waiting[shard]!--;
        outstanding--;
        // The batch that completes the step needs no progress: the cursor is saved right after it.
        if (sent && b.last !== null && !(readingDone && outstanding === 0)) {
          const p = { from, end, shards, shard, labels: b.last.labels, t: b.last.t };
          this.guard('could not save step progress', () => this.o.cursors.saveStepProgress(key, p));
        }
        return sent;
      });
    };
    return {
      shards,
      shardOf: (labels: Labels): number => (shards === 1 ? 0 : shardOf(labels, shards)),
      /**
       * Adds the first `n` samples of `ts`/`vs` (copied) of one series; false when aborted. Waits while the
       * shard has two full batches waiting (backpressure), so reading never runs far ahead of sending.
       */
      add: async (
        shard: number,
        wire: WireLabels,
        stored: Labels,
        ts: Float64Array,
        vs: Float64Array,
        n: number,
      ): Promise<boolean> => {
        let i = 0;
        if (ts[0]! < ageCutoff) {
          while (i < n && ts[i]! < ageCutoff) i++;
          this.count('too_old', i);
        }
        while (i < n) {
          const batch = open[shard]!;
          const take = Math.min(n - i, limit - batch.samples);
          batch.series.push({
            labels: wire.labels,
            labelsV1: wire.v1,
            timestamps: ts.slice(i, i + take),
            values: vs.slice(i, i + take),
          });
          batch.samples += take;
          i += take;
          batch.last = { labels: stored, t: ts[i - 1]! };
          if (batch.samples >= limit) {
            dispatch(shard);
            if (waiting[shard]! >= 2 && !(await chains[shard]!)) return false;
          }
        }
        return !signal.aborted;
      },
      finish: async (): Promise<boolean> => {
        if (signal.aborted) return false;
        readingDone = true;
        for (let i = 0; i < shards; i++) dispatch(i);
        const results = await Promise.all(chains);
        return results.every(Boolean) && !signal.aborted;
      },
    };
  }

  /**
   * The labels as sent: external labels, then write relabelling (null: dropped). Cached by label-set identity:
   * the TSDB hands out the same label object for a series every time, so caught-up sending, which opens a new
   * span every few seconds, does not rebuild and encode 50,000 label sets per request.
   */
  private wireLabels(labels: Labels): WireLabels | null {
    let w = this.wireCache.get(labels);
    if (w === undefined) {
      const sent = relabel(this.withExternalLabels(labels), this.o.writeRelabel);
      w = sent === null ? null : { labels: sent, v1: encodeLabelsV1(sent) };
      this.wireCache.set(labels, w);
    }
    return w;
  }

  private withExternalLabels(labels: Labels): Labels {
    const ext = Object.entries(this.o.externalLabels);
    if (ext.length === 0) return labels;
    const b = new LabelsBuilder(labels);
    for (const [k, v] of ext) if (!b.has(k)) b.set(k, v);
    return b.labels();
  }

  private count(reason: string, n: number): void {
    this.st.dropped[reason] = (this.st.dropped[reason] ?? 0) + n;
  }

  /**
   * Sends one batch until the receiver takes it, refuses it for good, or the samples pass the age limit.
   * Returns false only when aborted.
   */
  private async send(batch: readonly WireSeries[], samples: number, signal: AbortSignal): Promise<boolean> {
    let v2 = this.useV2;
    let body = snappyCompress(
      v2 ? encodeWriteRequestV2(batch, this.o.metadata?.()) : encodeWriteRequestV1(batch),
    );
    let backoff = this.o.minBackoffMs;
    for (;;) {
      if (signal.aborted) return false;
      const throttle = this.limiter?.reserve(body.length) ?? 0;
      if (throttle > 0) {
        this.st.state = 'throttled';
        await this.o.sleep(throttle, signal);
        if (signal.aborted) return false;
      }
      this.st.state = 'sending';
      this.st.requests++;
      const r: WriteResult = await this.o.client.store(body, v2 ? RW2_HEADERS : RW1_HEADERS, signal);
      if (signal.aborted) return false;
      // The link's budget pays for bytes on the wire, not for attempts that found the receiver unreachable:
      // otherwise a long outage would leave the first requests after it throttled for nothing.
      if ((r.kind === 'retryable' && !r.connected) || (r.kind === 'failure' && r.status === 0))
        this.limiter?.refund(body.length);
      // Remote write 2.0 negotiation: a 415, or a 2xx without the written-count header (a 1.0 receiver that
      // decoded the body as an empty 1.0 request and stored nothing), means "speak 1.0" from now on.
      if (
        v2 &&
        ((r.kind === 'success' && r.samplesWritten === null) ||
          (r.kind === 'failure' && r.unsupportedMediaType))
      ) {
        this.o.logger.warn(
          { destination: this.o.name, status: r.status },
          'receiver does not speak remote write 2.0; using 1.0',
        );
        this.useV2 = v2 = false;
        body = snappyCompress(encodeWriteRequestV1(batch));
        continue;
      }
      if (r.kind === 'success') {
        this.st.samplesSent += samples;
        this.st.bytesSent += body.length;
        this.st.lastSuccess = this.o.now();
        return true;
      }
      this.st.lastError = r.kind === 'failure' ? `HTTP ${r.status}: ${r.message}` : r.message;
      this.st.lastErrorTime = this.o.now();
      if (r.kind === 'failure' && r.status === 0) {
        // Nothing reached the receiver (unreadable TLS files, a bad URL or header): dropping would lose data
        // that a fixed config and a reload would deliver. Wait and try again.
        this.st.state = 'backing_off';
        await this.o.sleep(this.o.maxBackoffMs, signal);
        continue;
      }
      if (r.kind === 'failure') {
        // The spec: never retry a 4xx (other than 429). Log the receiver's text as is, count, move on.
        this.o.logger.warn(
          { destination: this.o.name, status: r.status, receiver: r.message, samples },
          'remote write batch refused; dropped',
        );
        this.count('http_4xx', samples);
        return true;
      }
      if (this.o.sampleAgeLimitMs > 0) {
        let newest = -Infinity;
        for (const s of batch) newest = Math.max(newest, s.timestamps[s.timestamps.length - 1] ?? -Infinity);
        if (newest < this.o.now() - this.o.sampleAgeLimitMs) {
          // A receiver that answers 5xx for samples it will never take (Prometheus's "too old") must not
          // block fresh data forever.
          this.count('too_old', samples);
          return true;
        }
      }
      this.st.state = 'backing_off';
      this.st.retries++;
      const jitter = backoff * (0.5 + Math.random() / 2);
      const wait = r.retryAfterMs !== null ? Math.max(r.retryAfterMs, jitter) : jitter;
      await this.o.sleep(Math.min(wait, this.o.maxBackoffMs), signal);
      backoff = Math.min(backoff * 2, this.o.maxBackoffMs);
    }
  }
}
