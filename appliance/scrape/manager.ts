// The scrape manager: one loop per target, built from the config's jobs and from discovered jobs (NetBox
// profiles), reconciled on reload and on every inventory change so that unchanged targets keep their loops,
// their schedule and their caches.
import os from 'node:os';
import type { Config, ScrapeConfig } from '../config/schema.ts';
import { HOST_JOB_NAME } from '../config/defaults.ts';
import { formatDuration } from '../config/duration.ts';
import { scrapeConfigFingerprint, staticTargetGroups } from '../config/load.ts';
import type { Labels } from '../model/labels.ts';
import { compileRelabel } from '../model/relabel.ts';
import { labelsFromRecord, labelsKey, labelsToRecord } from '../model/labels.ts';
import type { Logger } from '../model/logger.ts';
import type { Appendable } from '../storage/interface.ts';
import type { HostCollector } from './host.ts';
import type { HttpScrapeClient } from './http.ts';
import { ScrapeHttpError } from './http.ts';
import type {
  FailureReason,
  FamilyMetadata,
  LoopClock,
  RoundReport,
  ScrapeOutcome,
  Scraper,
} from './loop.ts';
import { ScrapeLoop } from './loop.ts';
import type { TargetGroup } from '../model/target.ts';
import type { DroppedTarget, ScrapeKind, Target } from './targets.ts';
import { buildTargets } from './targets.ts';
import { formatFromContentType, parseExposition, ParseError, SCRAPE_ACCEPT_HEADER } from './textparse.ts';

/** The job name of the appliance's own host metrics (reserved by the config). */
export const HOST_JOB = HOST_JOB_NAME;

/** Fetches over HTTP and parses the body; one per target, sharing its job's client (and sockets). */
export class HttpTargetScraper implements Scraper {
  private readonly client: HttpScrapeClient;
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly bodySizeLimit: number;
  private readonly userAgent: string;

  constructor(client: HttpScrapeClient, target: Target, bodySizeLimit: number, userAgent: string) {
    this.client = client;
    this.url = target.url;
    this.timeoutMs = target.timeoutMs;
    this.bodySizeLimit = bodySizeLimit;
    this.userAgent = userAgent;
  }

  async scrape(signal: AbortSignal): Promise<ScrapeOutcome> {
    const res = await this.client.scrape(this.url, {
      accept: SCRAPE_ACCEPT_HEADER,
      timeoutMs: this.timeoutMs,
      bodySizeLimit: this.bodySizeLimit,
      userAgent: this.userAgent,
      signal,
    });
    const parsed = parseExposition(res.body, formatFromContentType(res.contentType));
    return { samples: parsed.samples, bytes: res.body.length, metadata: parsed.metadata };
  }
}

/** The appliance's own host as a target. */
export class HostScraper implements Scraper {
  private readonly collector: Pick<HostCollector, 'collect'>;
  constructor(collector: Pick<HostCollector, 'collect'>) {
    this.collector = collector;
  }
  async scrape(signal: AbortSignal): Promise<ScrapeOutcome> {
    const c = await this.collector.collect(signal);
    return { samples: c.samples, bytes: 0, metadata: c.metadata };
  }
}

/** Turns any scrape error into a short reason for metrics. */
export function classifyScrapeError(err: unknown): FailureReason {
  if (err instanceof ScrapeHttpError) return err.kind;
  // Other collectors (TCP probe, SNMP) type their errors with a short `kind` as well.
  if (err instanceof Error && 'kind' in err && typeof err.kind === 'string') return err.kind;
  if (err instanceof ParseError) return 'parse';
  if (err instanceof Error && err.message.includes('timed out')) return 'timeout';
  return 'other';
}

/** Per-job totals for self-monitoring; they survive reloads. */
export interface JobStats {
  scrapes: number;
  failures: Map<FailureReason, number>;
  samplesScraped: number;
  samplesRefused: number;
  storageFailures: number;
}

/** A target as the web stage shows it (Prometheus's /api/v1/targets shape is built from this). */
export interface TargetView {
  readonly job: string;
  readonly target: Target;
  readonly health: 'up' | 'down' | 'unknown';
  readonly lastError: string;
  readonly lastScrape: number;
  readonly lastDurationSeconds: number;
  readonly lastSamples: number;
}

export interface ScrapeManagerOptions {
  readonly storage: Appendable;
  readonly clock: LoopClock;
  readonly logger: Logger;
  /** Builds the HTTP client of one job (the composition root decides how). */
  readonly httpClient: (sc: ScrapeConfig) => HttpScrapeClient;
  /** The host collector; absent when host metrics are disabled. */
  readonly hostCollector: Pick<HostCollector, 'collect'> | null;
  readonly userAgent: string;
  /** The host's name for the host target's instance label. */
  readonly hostname?: string;
  /** Told when a commit fails (disk full ...) so the status can say ingestion is paused. */
  readonly onStorageError?: (err: Error) => void;
  /**
   * Builds the scraper of a target whose job is not plain HTTP. A kind without a factory leaves its targets
   * listed as dropped ("no collector"), never silently ignored.
   */
  readonly scrapers?: Partial<
    Record<Exclude<ScrapeKind, 'http'>, (target: Target, sc: ScrapeConfig) => Scraper>
  >;
}

/** A scrape job: its settings and its target groups, from the config file or from discovery. */
export interface JobSpec {
  readonly sc: ScrapeConfig;
  readonly groups: readonly TargetGroup[];
  readonly kind: ScrapeKind;
}

interface Pool {
  readonly fingerprint: string;
  readonly spec: JobSpec | null;
  readonly client: HttpScrapeClient | null;
  readonly loops: Map<string, ScrapeLoop>;
  dropped: DroppedTarget[];
}

export class ScrapeManager {
  private readonly o: ScrapeManagerOptions;
  private readonly pools = new Map<string, Pool>();
  private readonly stats = new Map<string, JobStats>();
  /** The latest metadata per metric family, from every target (the newest scrape wins). */
  private readonly meta = new Map<string, FamilyMetadata>();
  private stopped = false;

  constructor(o: ScrapeManagerOptions) {
    this.o = o;
  }

  /**
   * Reconciles the running loops with the config and the discovered jobs. A job whose settings changed restarts
   * all its loops; within an unchanged job, targets that persist keep their loops, new ones start and vanished
   * ones stop with their series marked stale. A discovered job named like a configured one is ignored (the
   * file wins) and listed as dropped.
   */
  async apply(config: Config, discovered: readonly JobSpec[] = []): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, { spec: JobSpec | null; fingerprint: string }>();
    for (const sc of config.scrape_configs) {
      const spec: JobSpec = { sc, groups: staticTargetGroups(sc), kind: sc.collector };
      wanted.set(sc.job_name, { spec, fingerprint: scrapeConfigFingerprint(sc) });
    }
    if (config.host.enabled && this.o.hostCollector) {
      wanted.set(HOST_JOB, { spec: null, fingerprint: `host:${config.host.scrape_interval}` });
    }
    const shadowed: string[] = [];
    for (const spec of discovered) {
      if (wanted.has(spec.sc.job_name)) {
        shadowed.push(spec.sc.job_name);
        continue;
      }
      wanted.set(spec.sc.job_name, {
        spec,
        fingerprint: `${spec.kind}:${scrapeConfigFingerprint(spec.sc)}`,
      });
    }
    if (shadowed.length > 0) {
      this.o.logger.warn(
        { jobs: shadowed },
        'discovered jobs ignored: the configuration has jobs of that name',
      );
    }
    const stops: Promise<void>[] = [];
    const built = new Map<string, { targets: Target[]; dropped: DroppedTarget[] }>();
    for (const [job, w] of wanted) built.set(job, this.targetsFor(job, w.spec, config));
    for (const [job, pool] of this.pools) {
      const next = wanted.get(job);
      if (next?.fingerprint === pool.fingerprint) continue;
      const survivors = new Set((built.get(job)?.targets ?? []).map(targetKey));
      for (const [key, loop] of pool.loops) stops.push(loop.stop(!survivors.has(key)));
      pool.client?.close();
      this.pools.delete(job);
    }
    for (const [job, w] of wanted) {
      const { targets, dropped } = built.get(job)!;
      const sc = w.spec?.sc ?? null;
      let pool = this.pools.get(job);
      if (!pool) {
        const client = w.spec?.kind === 'http' ? this.o.httpClient(w.spec.sc) : null;
        pool = { fingerprint: w.fingerprint, spec: w.spec, client, loops: new Map(), dropped: [] };
        this.pools.set(job, pool);
      }
      pool.dropped = [...dropped];
      if (w.spec && w.spec.kind !== 'http' && !this.o.scrapers?.[w.spec.kind]) {
        pool.dropped.push(
          ...targets.map((t) => ({
            discoveredLabels: t.discoveredLabels,
            reason: `no ${w.spec!.kind} collector`,
          })),
        );
        for (const [key, loop] of pool.loops) {
          stops.push(loop.stop(true));
          pool.loops.delete(key);
        }
        continue;
      }
      const limitTargets = sc !== null && sc.target_limit > 0 && targets.length > sc.target_limit;
      if (limitTargets) {
        this.o.logger.error(
          { job, targets: targets.length, limit: sc.target_limit },
          'target_limit exceeded',
        );
      }
      const keep = new Map<string, Target>();
      for (const t of limitTargets ? [] : targets) keep.set(targetKey(t), t);
      for (const [key, loop] of pool.loops) {
        if (keep.has(key)) continue;
        stops.push(loop.stop(true));
        pool.loops.delete(key);
      }
      for (const [key, t] of keep) {
        if (pool.loops.has(key)) continue;
        const loop = this.newLoop(job, w.spec, t, pool.client);
        pool.loops.set(key, loop);
        loop.start();
      }
    }
    await Promise.all(stops);
  }

  private targetsFor(
    job: string,
    spec: JobSpec | null,
    config: Config,
  ): { targets: Target[]; dropped: DroppedTarget[] } {
    if (spec) return buildTargets(spec.sc, spec.groups, spec.kind);
    const interval = config.host.scrape_interval;
    const hostname = this.o.hostname ?? os.hostname();
    const labels: Labels = labelsFromRecord({ job, instance: hostname });
    return {
      targets: [
        {
          discoveredLabels: labelsFromRecord({ __address__: hostname, job }),
          labels,
          url: 'internal://host',
          intervalMs: interval,
          timeoutMs: Math.min(interval, 10_000),
        },
      ],
      dropped: [],
    };
  }

  private newLoop(job: string, spec: JobSpec | null, t: Target, client: HttpScrapeClient | null): ScrapeLoop {
    const sc = spec?.sc ?? null;
    let scraper: Scraper;
    if (spec === null) scraper = new HostScraper(this.o.hostCollector!);
    else if (spec.kind === 'http') {
      scraper = new HttpTargetScraper(client!, t, spec.sc.body_size_limit, this.o.userAgent);
    } else scraper = this.o.scrapers![spec.kind]!(t, spec.sc);
    return new ScrapeLoop({
      target: t,
      scraper,
      storage: this.o.storage,
      limits: {
        sample_limit: sc?.sample_limit ?? 0,
        label_limit: sc?.label_limit ?? 0,
        label_name_length_limit: sc?.label_name_length_limit ?? 0,
        label_value_length_limit: sc?.label_value_length_limit ?? 0,
      },
      honorLabels: sc?.honor_labels ?? false,
      honorTimestamps: sc?.honor_timestamps ?? true,
      trackTimestampsStaleness: sc?.track_timestamps_staleness ?? false,
      metricRelabel: (sc?.metric_relabel_configs ?? []).map(compileRelabel),
      clock: this.o.clock,
      logger: this.o.logger,
      classify: classifyScrapeError,
      onRound: (r) => this.record(job, r),
      onMetadata: (m) => {
        for (const [family, md] of m) this.meta.set(family, md);
      },
    });
  }

  private record(job: string, r: RoundReport): void {
    let s = this.stats.get(job);
    if (!s)
      this.stats.set(
        job,
        (s = { scrapes: 0, failures: new Map(), samplesScraped: 0, samplesRefused: 0, storageFailures: 0 }),
      );
    s.scrapes++;
    s.samplesScraped += r.samplesScraped;
    s.samplesRefused += r.samplesRefused;
    if (!r.ok) s.failures.set(r.reason, (s.failures.get(r.reason) ?? 0) + 1);
    if (r.storageError) {
      s.storageFailures++;
      this.o.onStorageError?.(r.storageError);
    }
  }

  /** Every active target with its last scrape, ordered by job then instance. */
  targets(): TargetView[] {
    const out: TargetView[] = [];
    for (const [job, pool] of this.pools) {
      for (const loop of pool.loops.values()) {
        const st = loop.getStatus();
        out.push({
          job,
          target: loop.target,
          health: st.health,
          lastError: st.lastError,
          lastScrape: st.lastScrape,
          lastDurationSeconds: st.lastDurationSeconds,
          lastSamples: st.lastSamples,
        });
      }
    }
    return out.sort((a, b) =>
      a.job === b.job ? a.target.url.localeCompare(b.target.url) : a.job.localeCompare(b.job),
    );
  }

  droppedTargets(): { job: string; target: DroppedTarget }[] {
    const out: { job: string; target: DroppedTarget }[] = [];
    for (const [job, pool] of this.pools) for (const d of pool.dropped) out.push({ job, target: d });
    return out;
  }

  metadata(): ReadonlyMap<string, FamilyMetadata> {
    return this.meta;
  }

  jobStats(): ReadonlyMap<string, JobStats> {
    return this.stats;
  }

  /** Stops every loop. Series are not marked stale: the appliance is going down, not the targets. */
  async stop(): Promise<void> {
    this.stopped = true;
    const stops: Promise<void>[] = [];
    for (const pool of this.pools.values()) {
      for (const loop of pool.loops.values()) stops.push(loop.stop(false));
      pool.client?.close();
    }
    await Promise.all(stops);
    this.pools.clear();
  }
}

function targetKey(t: Target): string {
  return `${t.url}\u0000${labelsKey(t.labels)}`;
}

/** Prometheus's /api/v1/targets entry for a target view. */
export function targetViewToApi(v: TargetView): {
  discoveredLabels: Record<string, string>;
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  globalUrl: string;
  lastError: string;
  lastScrape: string;
  lastScrapeDuration: number;
  health: 'up' | 'down' | 'unknown';
  scrapeInterval: string;
  scrapeTimeout: string;
  lastSamples: number;
} {
  return {
    discoveredLabels: labelsToRecord(v.target.discoveredLabels),
    labels: labelsToRecord(v.target.labels),
    scrapePool: v.job,
    scrapeUrl: v.target.url,
    globalUrl: v.target.url,
    lastError: v.lastError,
    lastScrape: v.lastScrape > 0 ? new Date(v.lastScrape).toISOString() : '0001-01-01T00:00:00Z',
    lastScrapeDuration: v.lastDurationSeconds,
    health: v.health,
    scrapeInterval: formatDuration(v.target.intervalMs),
    scrapeTimeout: formatDuration(v.target.timeoutMs),
    lastSamples: v.lastSamples,
  };
}
