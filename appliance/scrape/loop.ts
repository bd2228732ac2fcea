// One scrape loop per target: fetch on a fixed schedule, turn the body into series, append them with the
// synthetic series Prometheus writes, and mark vanished series stale. A failing target is data (up=0 and a
// reason), never an exception that reaches another loop.
import type { Labels } from '../model/labels.ts';
import { LabelsBuilder, labelsKey, METRIC_NAME } from '../model/labels.ts';
import type { Logger } from '../model/logger.ts';
import type { CompiledRelabel } from '../model/relabel.ts';
import { relabel } from '../model/relabel.ts';
import { STALE_NAN } from '../model/sample.ts';
import type { Appendable, Appender, SeriesRef } from '../storage/interface.ts';
import { SampleError, StorageError } from '../storage/interface.ts';
import type { Target } from './targets.ts';

/** A sample as a scraper returns it: labels sorted with `__name__`, an optional own timestamp. */
export interface ScrapedSample {
  readonly labels: Labels;
  readonly value: number;
  readonly timestamp?: number;
}

/** What one successful fetch produced. */
export interface ScrapeOutcome {
  readonly samples: readonly ScrapedSample[];
  /** Bytes received (after decompression), for the status page and self-monitoring. */
  readonly bytes: number;
  /** # TYPE / # HELP / # UNIT of the families in the response, keyed by family name. */
  readonly metadata?: ReadonlyMap<string, FamilyMetadata>;
}

/** What a scrape said about one metric family. */
export interface FamilyMetadata {
  readonly type: string;
  readonly help: string;
  readonly unit: string;
}

/**
 * Fetches and parses one target. Contract: resolves with every sample of one complete, valid response, or
 * rejects with an error whose message says why (it becomes the target's lastError, so it must never contain a
 * secret). It must stop work promptly when `signal` aborts (the scrape timeout or a shutdown).
 */
export interface Scraper {
  scrape(signal: AbortSignal): Promise<ScrapeOutcome>;
  /** Releases sockets and other resources; called once when the loop stops for good. */
  close?(): void;
}

/** Per-scrape limits; 0 means none. */
export interface ScrapeLimits {
  readonly sample_limit: number;
  readonly label_limit: number;
  readonly label_name_length_limit: number;
  readonly label_value_length_limit: number;
}

/** Timers and clocks, injected so tests and benchmarks can drive time. */
export interface LoopClock {
  /** Wall-clock milliseconds since the epoch: sample timestamps. */
  now(): number;
  /** Monotonic milliseconds: durations. */
  monotonic(): number;
  /** Resolves after `ms`, or early when `signal` aborts. The timer must not keep the process alive. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: LoopClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const t = setTimeout(done, Math.max(0, ms));
      t.unref();
      function done(): void {
        signal.removeEventListener('abort', done);
        clearTimeout(t);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** Why a scrape failed, as a short machine-readable reason for metrics. */
export type FailureReason = string;

/** The status of one loop, as the page and /api/v1/targets show it. */
export interface LoopStatus {
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  /** Wall-clock start of the last scrape (ms), 0 before the first. */
  readonly lastScrape: number;
  readonly lastDurationSeconds: number;
  readonly lastSamples: number;
}

/** Told after every round, for self-monitoring. */
export interface RoundReport {
  readonly ok: boolean;
  readonly reason: FailureReason;
  readonly durationSeconds: number;
  readonly samplesScraped: number;
  readonly samplesRefused: number;
  readonly storageError: StorageError | null;
}

export interface ScrapeLoopOptions {
  readonly target: Target;
  readonly scraper: Scraper;
  readonly storage: Appendable;
  readonly limits: ScrapeLimits;
  readonly honorLabels: boolean;
  readonly honorTimestamps: boolean;
  readonly trackTimestampsStaleness: boolean;
  /** metric_relabel_configs, compiled. */
  readonly metricRelabel: readonly CompiledRelabel[];
  readonly clock: LoopClock;
  readonly logger: Logger;
  /** Classifies a scrape error into a short reason label (timeout, connection_refused, parse ...). */
  readonly classify: (err: unknown) => FailureReason;
  readonly onRound?: (report: RoundReport) => void;
  /** Told the metadata of every successful scrape (remote write 2.0 sends it with the series). */
  readonly onMetadata?: (metadata: ReadonlyMap<string, FamilyMetadata>) => void;
}

interface CacheEntry {
  /** Null when metric_relabel_configs dropped the series: it is skipped without relabelling again. */
  readonly labels: Labels | null;
  ref: SeriesRef;
  /** Round in which the series was last seen; older entries were marked stale and are dropped. */
  seen: number;
  /** False for samples with their own timestamp: Prometheus does not mark those stale. */
  tracked: boolean;
}

const SYNTHETIC = [
  'up',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  'scrape_samples_post_metric_relabeling',
  'scrape_series_added',
] as const;

/** Raised inside a round for a response the limits refuse; the whole scrape fails, as in Prometheus. */
class LimitError extends Error {
  override readonly name = 'LimitError';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

/** A stable offset in [0, interval) so that targets spread over the interval instead of firing together. */
export function scrapeOffset(target: Target, intervalMs: number): number {
  let h = 2166136261;
  const s = target.url + labelsKey(target.labels);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h % intervalMs;
}

export class ScrapeLoop {
  readonly target: Target;
  private readonly o: ScrapeLoopOptions;
  private readonly abort = new AbortController();
  private readonly appender: Appender;
  private readonly cache = new Map<string, CacheEntry>();
  /** Cache keys created in the current round. */
  private readonly newKeys: string[] = [];
  private readonly synthetic: { labels: Labels; ref: SeriesRef }[];
  private round = 0;
  private running: Promise<void> | null = null;
  private status: LoopStatus = {
    health: 'unknown',
    lastError: '',
    lastScrape: 0,
    lastDurationSeconds: 0,
    lastSamples: 0,
  };

  constructor(o: ScrapeLoopOptions) {
    this.o = o;
    this.target = o.target;
    this.appender = o.storage.appender();
    this.synthetic = SYNTHETIC.map((name) => ({
      labels: new LabelsBuilder(o.target.labels).set(METRIC_NAME, name).labels(),
      ref: 0,
    }));
  }

  getStatus(): LoopStatus {
    return this.status;
  }

  /** Starts the schedule: the first scrape happens at this target's offset within the interval. */
  start(): void {
    if (this.running) return;
    this.running = this.run().catch((err: unknown) => {
      this.o.logger.error({ target: this.target.url, err: (err as Error).message }, 'scrape loop crashed');
    });
  }

  /**
   * Stops the loop after the round in flight. With `markStale` (the target went away) every series it wrote
   * gets a staleness marker, so queries and remote receivers stop showing it at once.
   */
  async stop(markStale: boolean): Promise<void> {
    this.abort.abort();
    await this.running;
    if (markStale) {
      const ts = this.o.clock.now();
      this.writeStaleness(ts, -1);
      for (const s of this.synthetic) this.safeAppend(s.ref, s.labels, ts, STALE_NAN);
      try {
        this.appender.commit();
      } catch (err) {
        this.o.logger.warn(
          { target: this.target.url, err: (err as Error).message },
          'could not write staleness markers',
        );
      }
    }
    this.o.scraper.close?.();
  }

  private async run(): Promise<void> {
    const { clock } = this.o;
    const interval = this.target.intervalMs;
    const offset = scrapeOffset(this.target, interval);
    const now = clock.now();
    let next = now - (now % interval) + offset;
    if (next < now) next += interval;
    while (!this.abort.signal.aborted) {
      await clock.sleep(next - clock.now(), this.abort.signal);
      if (this.abort.signal.aborted) break;
      await this.scrapeOnce(next);
      next += interval;
      const late = clock.now() - next;
      // After a stall (suspend, overload) skip the missed rounds rather than scraping in a burst.
      if (late > 0) next += Math.ceil(late / interval) * interval;
    }
  }

  /** One round at the scheduled timestamp `ts`: the sample timestamps are snapped to the schedule. */
  async scrapeOnce(ts: number): Promise<void> {
    const { clock } = this.o;
    this.round++;
    const started = clock.monotonic();
    const timeout = new AbortController();
    const onStop = (): void => timeout.abort(new Error('scrape loop stopped'));
    this.abort.signal.addEventListener('abort', onStop, { once: true });
    void clock.sleep(this.target.timeoutMs, timeout.signal).then(() => {
      if (!timeout.signal.aborted)
        timeout.abort(new Error(`scrape timed out after ${this.target.timeoutMs}ms`));
    });
    let outcome: ScrapeOutcome | null = null;
    let error: unknown = null;
    try {
      outcome = await this.o.scraper.scrape(timeout.signal);
      if (timeout.signal.aborted) throw timeout.signal.reason;
    } catch (err) {
      // When our own deadline fired, say so rather than relaying the scraper's generic "aborted".
      error = timeout.signal.aborted && !this.abort.signal.aborted ? timeout.signal.reason : err;
    } finally {
      this.abort.signal.removeEventListener('abort', onStop);
      if (!timeout.signal.aborted) timeout.abort();
    }
    if (this.abort.signal.aborted && error !== null) return; // Stopped mid-scrape: that is not a target failure.
    const durationSeconds = (clock.monotonic() - started) / 1000;

    let scraped = 0;
    let added = 0;
    let refused = 0;
    let postRelabel = 0;
    if (outcome) {
      scraped = outcome.samples.length;
      try {
        const r = this.appendSamples(outcome.samples, ts);
        added = r.added;
        refused = r.refused;
        postRelabel = r.kept;
      } catch (err) {
        this.appender.rollback();
        // Series first seen in the refused round were never stored: forget them rather than mark them stale.
        for (const key of this.newKeys) this.cache.delete(key);
        error = err;
      }
    }
    const ok = error === null;
    if (ok && outcome?.metadata) this.o.onMetadata?.(outcome.metadata);
    if (!ok) this.writeStaleness(ts, -1);
    const values = [ok ? 1 : 0, durationSeconds, scraped, ok ? postRelabel : 0, added];
    this.synthetic.forEach((s, i) => {
      s.ref = this.safeAppend(s.ref, s.labels, ts, values[i]!);
    });
    let storageError: StorageError | null = null;
    try {
      this.appender.commit();
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      storageError = err;
    }
    const reason = ok ? '' : error instanceof LimitError ? error.reason : this.o.classify(error);
    this.status = {
      health: ok ? 'up' : 'down',
      lastError: ok ? '' : errorText(error),
      lastScrape: clock.now() - durationSeconds * 1000,
      lastDurationSeconds: durationSeconds,
      lastSamples: scraped,
    };
    this.o.onRound?.({
      ok,
      reason,
      durationSeconds,
      samplesScraped: scraped,
      samplesRefused: refused,
      storageError,
    });
  }

  private appendSamples(
    samples: readonly ScrapedSample[],
    ts: number,
  ): { added: number; refused: number; kept: number } {
    const { limits } = this.o;
    const round = this.round;
    this.newKeys.length = 0;
    let added = 0;
    let refused = 0;
    let kept = 0;
    for (const s of samples) {
      const key = labelsKey(s.labels);
      let e = this.cache.get(key);
      if (e && e.seen === round) {
        refused++; // The same series twice in one response: keep the first, as Prometheus does.
        continue;
      }
      if (!e) {
        // As in Prometheus: target labels first, then metric_relabel_configs, then the label limits.
        const labels = relabel(this.mergeLabels(s.labels), this.o.metricRelabel);
        if (labels !== null) this.checkLabelLimits(labels);
        e = { labels, ref: 0, seen: round, tracked: labels !== null };
        this.cache.set(key, e);
        this.newKeys.push(key);
        if (labels !== null) added++;
      }
      e.seen = round;
      if (e.labels === null) continue;
      // The limit counts what survives relabelling, as in Prometheus.
      if (limits.sample_limit > 0 && ++kept > limits.sample_limit) {
        throw new LimitError(
          'sample_limit',
          `sample limit exceeded: more than ${limits.sample_limit} samples`,
        );
      }
      if (limits.sample_limit === 0) kept++;
      const own = this.o.honorTimestamps && s.timestamp !== undefined;
      e.tracked = !own || this.o.trackTimestampsStaleness;
      try {
        e.ref = this.appender.append(e.ref, e.labels, own ? s.timestamp : ts, s.value);
      } catch (err) {
        if (!(err instanceof SampleError)) throw err;
        refused++;
      }
    }
    this.writeStaleness(ts, round);
    return { added, refused, kept };
  }

  /** Marks every cached series not seen in `round` stale at `ts` and forgets it. */
  private writeStaleness(ts: number, round: number): void {
    for (const [key, e] of this.cache) {
      if (e.seen === round) continue;
      if (e.tracked && e.labels !== null) this.safeAppend(e.ref, e.labels, ts, STALE_NAN);
      this.cache.delete(key);
    }
  }

  private safeAppend(ref: SeriesRef, labels: Labels, ts: number, v: number): SeriesRef {
    try {
      return this.appender.append(ref, labels, ts, v);
    } catch (err) {
      if (err instanceof SampleError) return ref;
      throw err;
    }
  }

  /** Attaches the target's labels. On a clash the scraped label becomes exported_<name>, unless honor_labels. */
  private mergeLabels(scraped: Labels): Labels {
    const b = new LabelsBuilder(scraped);
    for (const l of this.target.labels) {
      const existing = b.get(l.name);
      if (existing !== '') {
        if (this.o.honorLabels) continue;
        let name = 'exported_' + l.name;
        while (b.has(name)) name = 'exported_' + name;
        b.set(name, existing);
      }
      b.set(l.name, l.value);
    }
    return b.labels();
  }

  private checkLabelLimits(labels: Labels): void {
    const { limits } = this.o;
    if (limits.label_limit > 0 && labels.length > limits.label_limit) {
      throw new LimitError(
        'label_limit',
        `label_limit exceeded (metric: ${metricName(labels)}, number of labels: ${labels.length}, limit: ${limits.label_limit})`,
      );
    }
    for (const l of labels) {
      if (limits.label_name_length_limit > 0 && l.name.length > limits.label_name_length_limit) {
        throw new LimitError(
          'label_limit',
          `label_name_length_limit exceeded (metric: ${metricName(labels)}, label name: ${l.name.slice(0, 64)}, length: ${l.name.length}, limit: ${limits.label_name_length_limit})`,
        );
      }
      if (limits.label_value_length_limit > 0 && l.value.length > limits.label_value_length_limit) {
        throw new LimitError(
          'label_limit',
          `label_value_length_limit exceeded (metric: ${metricName(labels)}, label name: ${l.name}, length: ${l.value.length}, limit: ${limits.label_value_length_limit})`,
        );
      }
    }
  }
}

function metricName(labels: Labels): string {
  for (const l of labels) if (l.name === METRIC_NAME) return l.value.slice(0, 128);
  return '';
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
