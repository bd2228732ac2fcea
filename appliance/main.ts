// The composition root: the only place that builds the stages and wires them together. Start order is
// storage → scraping → web; stop is the reverse, and a stop flushes the TSDB head so a restart replays nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config, EvictionRule, ScrapeConfig } from './config/schema.ts';
import type { Labels } from './model/labels.ts';
import { getLabel } from './model/labels.ts';
import { compileRelabel } from './model/relabel.ts';
import type { Logger } from './model/logger.ts';
import { openSqlite } from './native.ts';
import { HostCollector, systemInformationSource } from './scrape/host.ts';
import { HttpScrapeClient } from './scrape/http.ts';
import type { FamilyMetadata, LoopClock } from './scrape/loop.ts';
import type { WireMetadata } from './remote/wire.ts';
import { systemClock } from './scrape/loop.ts';
import { ScrapeManager, targetViewToApi } from './scrape/manager.ts';
import { parseExposition } from './scrape/textparse.ts';
import { defaultScrapeConfig } from './config/load.ts';
import { VitalsTracker } from './scrape/vitals.ts';
import { parseProcIo, renderFamilies, selfMetricFamilies } from './selfmetrics.ts';
import { Tsdb } from './tsdb/db.ts';
import { HttpWriteClient } from './remote/client.ts';
import { RemoteSender } from './remote/sender.ts';
import type { SenderCounters } from './remote/sender.ts';
import { createWebApp, startWebServer } from './web/server.ts';
import { apiRouter } from './web/api.ts';
import { Engine } from './promql/engine.ts';
import type { WebServer } from './web/server.ts';
import type { Graph, InventoryStatus, StatusSource } from './web/status.ts';
import type { NetboxConfig } from './config/netbox.ts';
import type { JobSpec } from './scrape/manager.ts';
import { TcpProbeScraper } from './scrape/probe.ts';
import { SnmpScraper } from './scrape/snmp.ts';
import type { SnmpCollector, SnmpRequest } from './snmp/collector.ts';
import { createSnmpCollector } from './snmp/collector.ts';
import { createSnmpRouter } from './web/snmp.ts';
import type { DiscovererStatus, NetboxDiscoverer } from '../inventory/index.ts';
import {
  createNetboxDiscoverer,
  formatDiff,
  inventoryScrapeJobs,
  SqliteInventoryStore,
} from '../inventory/index.ts';

/** The job of the appliance's own metrics (see Appliance.selfJob). */
export const SELF_JOB = 'storewatch';
/** How often the page's history graphs are recomputed, and what they cover. */
const GRAPH_REFRESH_MS = 15_000;
const GRAPH_RANGE_MS = 24 * 60 * 60 * 1000;
const GRAPH_STEP_MS = 30 * 60 * 1000;

/** Stored time read per remote-write step (bounds the memory of catching up). */
export const REMOTE_STEP_MS = 60_000;

export interface ApplianceOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly version: string;
  /** Where the embedded SQLite addon is extracted when running as the single executable. */
  readonly cacheDir: string;
  readonly clock?: LoopClock;
  /** Reads /proc/self/io; null where unavailable. */
  readonly readProcessIo?: () => string | null;
}

/** The running appliance. */
export class Appliance {
  private readonly o: ApplianceOptions;
  private config: Config;
  private readonly tsdb: Tsdb;
  private readonly scrape: ScrapeManager;
  private senders: RemoteSender[] = [];
  private readonly clock: LoopClock;
  private readonly vitals: VitalsTracker;
  private web: WebServer | null = null;
  /** The NetBox inventory: its store (opened once), the running discoverer, and the jobs it last produced. */
  private inventoryStore: SqliteInventoryStore | null = null;
  private discovery: {
    readonly d: NetboxDiscoverer & { close(): void };
    readonly abort: AbortController;
    readonly run: Promise<void>;
  } | null = null;
  private discovered: readonly JobSpec[] = [];
  /**
   * The store's identity from its NetBox site (site, region, tenant), added to what leaves the appliance as
   * external labels (the config's own external_labels win per name), and the site's time zone for backfill windows.
   */
  private store: { labels: Readonly<Record<string, string>>; timeZone: string } = {
    labels: {},
    timeZone: '',
  };
  /** Scrape reconciliations run one at a time: a reload and an inventory update may arrive together. */
  private applying: Promise<void> = Promise.resolve();
  /** The SNMP collector of the current config; scrapers and /snmp reach it through `snmpForward`. */
  private snmp: SnmpCollector;
  private readonly snmpForward = {
    collect: (r: SnmpRequest, signal: AbortSignal) => this.snmp.collect(r, signal),
    resolve: (r: SnmpRequest) => this.snmp.resolve(r),
  };
  /** The PromQL engine of /api/v1 and of the page's history graphs. */
  private readonly engine: Engine;
  private graphs: readonly Graph[] = [];
  private readonly abort = new AbortController();
  private readonly startTime = new Date();
  private stopping: Promise<void> | null = null;

  private constructor(o: ApplianceOptions) {
    this.o = o;
    this.config = o.config;
    const clock = o.clock ?? systemClock;
    this.clock = clock;
    const storage = o.config.storage;
    this.tsdb = Tsdb.open({
      dir: storage.path,
      openDatabase: (file) => openSqlite(file, { cacheDir: o.cacheDir }),
      now: () => clock.now(),
      logger: o.logger,
      retentionTimeMs: storage.retention.time,
      retentionSizeBytes: storage.retention.size,
      evictionPriority: evictionPriority(storage.retention.priorities),
    });
    const q = o.config.query;
    this.engine = new Engine({
      maxSamples: q.max_samples,
      timeoutMs: q.timeout,
      lookbackDeltaMs: q.lookback_delta,
    });
    // Module files were parsed and checked when the config loaded, so this cannot fail on a valid config.
    this.snmp = createSnmpCollector(o.config.snmp, o.config.snmp.module_texts, o.logger);
    const hostname = os.hostname();
    this.vitals = new VitalsTracker(hostname);
    const collector = new HostCollector({
      source: systemInformationSource(),
      onError: (part, err) =>
        o.logger.debug({ part, err: (err as Error).message }, 'host collector part failed'),
    });
    const vitals = this.vitals;
    const observed = {
      collect: async (signal: AbortSignal) => {
        const c = await collector.collect(signal);
        vitals.observe(c.samples);
        return c;
      },
    };
    this.scrape = new ScrapeManager({
      storage: this.tsdb,
      clock,
      logger: o.logger,
      httpClient: (sc: ScrapeConfig) => new HttpScrapeClient(sc.http_client_config),
      hostCollector: observed,
      userAgent: `storewatch/${o.version}`,
      hostname,
      onStorageError: (err) => o.logger.error({ err: err.message }, 'storing a scrape failed'),
      scrapers: {
        probe: (t) => new TcpProbeScraper(getLabel(t.discoveredLabels, '__address__')),
        snmp: (t) => new SnmpScraper(this.snmpForward, t),
        self: () => ({
          scrape: () => {
            const text = this.metricsText();
            const parsed = parseExposition(text, 'text');
            return Promise.resolve({
              samples: parsed.samples,
              bytes: text.length,
              metadata: parsed.metadata,
            });
          },
        }),
      },
    });
  }

  /** Opens storage, starts scraping and the web server. Rejects (and cleans up) if any part cannot start. */
  static async start(o: ApplianceOptions): Promise<Appliance> {
    const app = new Appliance(o);
    try {
      app.tsdb.start(app.abort.signal);
      await app.applyScrape();
      app.startSenders(o.config);
      app.startDiscovery(o.config);
      app.graphLoop(app.abort.signal).catch((err: unknown) => {
        o.logger.warn({ err: (err as Error).message }, 'history graphs stopped');
      });
      const web = createWebApp({
        status: app.statusSource(),
        metrics: () => Promise.resolve(app.metricsText()),
        logger: o.logger,
        api: apiRouter({
          queryable: app.tsdb,
          engine: app.engine,
          metadata: () => app.scrape.metadata(),
          now: () => app.clock.now(),
          logger: o.logger,
        }),
        snmp: createSnmpRouter({ collector: app.snmpForward, logger: o.logger, defaultTimeoutMs: 10_000 }),
      });
      app.web = await startWebServer(web, o.config.web.listen_address, app.abort.signal);
      o.logger.info(
        { listen: `${app.web.address}:${app.web.port}`, storage: o.config.storage.path, version: o.version },
        'storewatch started',
      );
    } catch (err) {
      await app.stop();
      throw err;
    }
    return app;
  }

  get listenPort(): number {
    return this.web?.port ?? 0;
  }

  /**
   * Applies a new config. Scrape jobs are reconciled (unchanged targets keep their loops); storage and web
   * settings need a restart and are reported as such rather than half-applied.
   */
  async reload(config: Config): Promise<void> {
    const restartNeeded: string[] = [];
    const previous = this.config;
    if (config.storage.path !== previous.storage.path) restartNeeded.push('storage.path');
    if (config.web.listen_address !== previous.web.listen_address) restartNeeded.push('web.listen_address');
    if (JSON.stringify(config.query) !== JSON.stringify(previous.query)) restartNeeded.push('query');
    if (JSON.stringify(config.storage.retention) !== JSON.stringify(previous.storage.retention)) {
      restartNeeded.push('storage.retention');
    }
    this.config = config;
    if (JSON.stringify(config.snmp) !== JSON.stringify(previous.snmp)) {
      // Running SNMP loops and /snmp use the new modules and credentials from their next walk on.
      this.snmp = createSnmpCollector(config.snmp, config.snmp.module_texts, this.o.logger);
    }
    if (JSON.stringify(config.netbox) !== JSON.stringify(previous.netbox)) {
      // The new discoverer starts from the cached inventory at once, so targets do not flap.
      await this.stopDiscovery();
      if (!config.netbox) this.discovered = [];
      this.startDiscovery(config);
    }
    await this.applyScrape();
    if (
      JSON.stringify(config.remote_write) !== JSON.stringify(previous.remote_write) ||
      JSON.stringify(config.global.external_labels) !== JSON.stringify(previous.global.external_labels)
    ) {
      await this.restartSenders();
    }
    this.o.logger.info({ restartNeeded }, 'configuration reloaded');
  }

  /** Reconciles scraping with the current config and the last discovered jobs, one reconciliation at a time. */
  private applyScrape(): Promise<void> {
    const next = this.applying.then(() =>
      this.scrape.apply(this.config, [...this.selfJob(), ...this.discovered]),
    );
    this.applying = next.catch((err: unknown) => {
      this.o.logger.error({ err: (err as Error).message }, 'applying scrape targets failed');
    });
    return next;
  }

  /**
   * The appliance's own storewatch_* metrics, stored like any target's (job "storewatch", as Prometheus scrapes
   * itself), so that the page's history graphs and upstream dashboards see the link, backlog and storage over
   * time. It comes with the host metrics and their interval.
   */
  private selfJob(): JobSpec[] {
    const c = this.config;
    if (!c.host.enabled) return [];
    const interval = c.host.scrape_interval;
    return [
      {
        sc: {
          ...defaultScrapeConfig(SELF_JOB, c.global),
          scrape_interval: interval,
          scrape_timeout: Math.min(interval, 10_000),
        },
        kind: 'self',
        groups: [{ source: 'self', labels: {}, targets: [{ __address__: os.hostname() }] }],
      },
    ];
  }

  /** Recomputes the page's history graphs every minute, through the same engine as /api/v1/query_range. */
  private async graphLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        this.graphs = await this.computeGraphs(signal);
      } catch (err) {
        this.o.logger.debug({ err: (err as Error).message }, 'history graphs failed');
      }
      await this.clock.sleep(GRAPH_REFRESH_MS, signal);
    }
  }

  private async computeGraphs(signal: AbortSignal): Promise<Graph[]> {
    const end = this.clock.now();
    const start = end - GRAPH_RANGE_MS + GRAPH_STEP_MS;
    const steps = Math.round((end - start) / GRAPH_STEP_MS) + 1;
    const defs: { title: string; unit: Graph['unit']; expr: string; label: string }[] = [
      {
        title: 'Targets up, by job',
        unit: 'ratio',
        expr: 'avg by (job) (avg_over_time(up[30m]))',
        label: 'job',
      },
    ];
    if (this.config.remote_write.length > 0) {
      defs.push(
        {
          title: 'Upstream: how far behind',
          unit: 'seconds',
          expr:
            'max by (destination) (max_over_time((timestamp(storewatch_remote_sent_through_timestamp_seconds)' +
            ' - storewatch_remote_sent_through_timestamp_seconds)[30m:1m]))',
          label: 'destination',
        },
        {
          title: 'Upstream: backlog (samples)',
          unit: 'count',
          expr: 'max by (destination) (max_over_time(storewatch_remote_backlog_samples[30m]))',
          label: 'destination',
        },
      );
    }
    const out: Graph[] = [];
    for (const d of defs) {
      const r = await this.engine.rangeQuery(this.tsdb, d.expr, start, end, GRAPH_STEP_MS, signal);
      if (!r.ok) throw r.error;
      if (r.value.type !== 'matrix') continue;
      const rows = r.value.series.map((s) => {
        const values: (number | null)[] = new Array<number | null>(steps).fill(null);
        for (const p of s.points) {
          const i = Math.round((p.t - start) / GRAPH_STEP_MS);
          if (i >= 0 && i < steps && Number.isFinite(p.v)) values[i] = p.v;
        }
        return { label: getLabel(s.labels, d.label) || '(none)', values };
      });
      rows.sort((a, b) => a.label.localeCompare(b.label));
      out.push({ title: d.title, unit: d.unit, start, stepMs: GRAPH_STEP_MS, rows });
    }
    return out;
  }

  private startDiscovery(config: Config): void {
    const netbox: NetboxConfig | undefined = config.netbox;
    if (!netbox) return;
    // The last good inventory lives beside the TSDB, so the appliance boots and monitors with NetBox down.
    this.inventoryStore ??= new SqliteInventoryStore(
      openSqlite(path.join(config.storage.path, 'inventory.db'), { cacheDir: this.o.cacheDir }),
    );
    const abort = new AbortController();
    this.abort.signal.addEventListener('abort', () => abort.abort(), { once: true });
    const d = createNetboxDiscoverer({
      config: netbox,
      store: this.inventoryStore,
      logger: this.o.logger,
      now: () => this.clock.now(),
    });
    const run = d.run(abort.signal, (u) => {
      this.discovered = inventoryScrapeJobs(u.inventory, netbox.profiles, this.config.global);
      const st = u.inventory.store;
      const store = {
        labels: Object.fromEntries(
          Object.entries({ site: st.site, region: st.region, tenant: st.tenant }).filter(([, v]) => v !== ''),
        ),
        timeZone: validTimeZone(st.time_zone) ? st.time_zone : '',
      };
      if (JSON.stringify(store) !== JSON.stringify(this.store)) {
        this.store = store;
        this.restartSenders().catch((err: unknown) => {
          this.o.logger.error({ err: (err as Error).message }, 'restarting remote write failed');
        });
      }
      this.applyScrape().catch(() => {
        // Logged by applyScrape; the next update or reload tries again.
      });
    });
    this.discovery = { d, abort, run };
  }

  private async stopDiscovery(): Promise<void> {
    const x = this.discovery;
    if (!x) return;
    this.discovery = null;
    x.abort.abort();
    await x.run;
    x.d.close();
  }

  /** Stops scraping, closes the web server and flushes storage. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.stopDiscovery();
      await this.applying;
      await this.scrape.stop();
      await this.stopSenders();
      await this.web?.close();
      this.tsdb.close();
      this.inventoryStore?.close();
      this.o.logger.info({}, 'storewatch stopped');
    })();
    return this.stopping;
  }

  /**
   * Restarts the senders with the current config and store labels. Cursors are durable and keyed by name, so a
   * restarted sender resumes where the old one stopped; its counters are carried over too, so totals and rates
   * on the page do not fall back to zero.
   */
  private async restartSenders(): Promise<void> {
    if (this.stopping) return;
    const counters = new Map(this.senders.map((s) => [s.status().name, s.counters()]));
    await this.stopSenders();
    if (!this.stopping) this.startSenders(this.config, counters);
  }

  private startSenders(config: Config, previous: ReadonlyMap<string, SenderCounters> = new Map()): void {
    // A sample is committed at most one scrape timeout after its timestamp; read that far behind the clock.
    const hostTimeout = config.host.enabled ? Math.min(config.host.scrape_interval, 10_000) : 0;
    const readLagMs = Math.max(hostTimeout, ...config.scrape_configs.map((sc) => sc.scrape_timeout)) + 5_000;
    this.senders = config.remote_write.map((rw) => {
      const sender = new RemoteSender({
        name: rw.name,
        client: new HttpWriteClient({
          url: rw.url,
          http: rw.http_client_config,
          timeoutMs: rw.remote_timeout,
          headers: rw.headers,
          userAgent: `storewatch/${this.o.version}`,
          retryOn429: rw.queue_config.retry_on_http_429,
        }),
        storage: this.tsdb,
        cursors: this.tsdb,
        recent: this.tsdb,
        logger: this.o.logger,
        now: () => this.clock.now(),
        sleep: (ms, signal) => this.clock.sleep(ms, signal),
        externalLabels: { ...this.store.labels, ...config.global.external_labels },
        maxSamplesPerSend: rw.queue_config.max_samples_per_send,
        batchSendDeadlineMs: rw.queue_config.batch_send_deadline,
        minBackoffMs: rw.queue_config.min_backoff,
        maxBackoffMs: rw.queue_config.max_backoff,
        sampleAgeLimitMs: rw.queue_config.sample_age_limit,
        readLagMs,
        stepMs: REMOTE_STEP_MS,
        bandwidthLimit: rw.store_and_forward.bandwidth_limit,
        shards: rw.queue_config.max_shards,
        writeRelabel: rw.write_relabel_configs.map(compileRelabel),
        estimateSince: (t) => this.tsdb.estimateSince(t),
        metadata: () => wireMetadata(this.scrape.metadata()),
        protobufMessage: rw.protobuf_message,
        catchUp: rw.store_and_forward.catch_up,
        backfillWindows: rw.store_and_forward.backfill_windows,
        // Backfill windows are the store's local time: its NetBox site's time zone, else the process's.
        minuteOfDay: minuteOfDayIn(this.store.timeZone),
        ...(previous.has(rw.name) ? { carryOver: previous.get(rw.name)! } : {}),
      });
      sender.start();
      return sender;
    });
  }

  private async stopSenders(): Promise<void> {
    await Promise.all(this.senders.map((s) => s.stop()));
    this.senders = [];
  }

  private statusSource(): StatusSource {
    const build = {
      version: this.o.version,
      revision: '',
      nodeVersion: process.version,
      startTime: this.startTime.toISOString(),
    };
    return {
      targets: () => this.scrape.targets().map(targetViewToApi),
      // TsdbStats is a superset of StorageStatus; the web stage copies only the documented fields.
      storage: () => {
        const s = this.tsdb.stats();
        return { ...s, path: path.resolve(s.path) };
      },
      host: () => this.vitals.get(),
      remote: () => this.senders.map((s) => s.status()),
      inventory: () => (this.discovery ? inventoryStatus(this.discovery.d.status()) : null),
      graphs: () => this.graphs,
      notScraped: () =>
        this.scrape.droppedTargets().map(({ job, target }) => ({
          job,
          address: getLabel(target.discoveredLabels, '__address__'),
          reason: target.reason,
        })),
      build,
    };
  }

  /** The text of /metrics. */
  metricsText(): string {
    const ioText = this.o.readProcessIo?.() ?? null;
    const cpu = process.cpuUsage();
    return renderFamilies(
      selfMetricFamilies({
        version: this.o.version,
        nodeVersion: process.version,
        startTimeSeconds: this.startTime.getTime() / 1000,
        tsdb: this.tsdb.stats(),
        targetHealth: this.scrape.targets().map((t) => t.health),
        jobs: this.scrape.jobStats(),
        remote: this.senders.map((x) => x.status()),
        io: ioText === null ? null : parseProcIo(ioText),
        residentBytes: process.memoryUsage().rss,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      }),
    );
  }
}

function validTimeZone(tz: string): boolean {
  if (tz === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Local minute of the day (0..1439) in a time zone ('' = the process's own). */
export function minuteOfDayIn(timeZone: string): (t: number) => number {
  if (timeZone === '') {
    return (t) => {
      const d = new Date(t);
      return d.getHours() * 60 + d.getMinutes();
    };
  }
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hour: 'numeric',
    minute: 'numeric',
    hourCycle: 'h23',
  });
  return (t) => {
    let h = 0;
    let m = 0;
    for (const p of f.formatToParts(t)) {
      if (p.type === 'hour') h = Number(p.value);
      else if (p.type === 'minute') m = Number(p.value);
    }
    return h * 60 + m;
  };
}

/** The inventory stage's status in the web stage's terms. */
function inventoryStatus(s: DiscovererStatus): InventoryStatus {
  return {
    source: `${s.url}, site ${s.site}${s.apiVersion ? ` (API ${s.apiVersion})` : ''}`,
    origin: s.origin,
    lastSuccessAt: s.lastSuccessAt ?? null,
    lastError: s.lastError
      ? { at: s.lastError.at, message: `${s.lastError.kind}: ${s.lastError.message}` }
      : null,
    devices: s.counts.devices,
    monitored: s.counts.monitored,
    targets: s.counts.targets,
    notMonitored: s.notMonitored.map((n) => ({ device: n.device, reason: n.reason })),
    recentChanges: s.recentDiffs.map((d) => ({ at: d.at, text: formatDiff(d, 20) })),
  };
}

/** Compiles the eviction rules into a function from labels to priority (null: no rule matched). */
export function evictionPriority(
  rules: readonly EvictionRule[],
): ((labels: Labels) => number | null) | undefined {
  if (rules.length === 0) return undefined;
  const compiled = rules.map((r) => ({
    priority: r.priority,
    tests: Object.entries(r.match).map(([name, re]) => ({ name, re: new RegExp(`^(?:${re})$`, 'su') })),
  }));
  return (labels) => {
    for (const r of compiled)
      if (r.tests.every((t) => t.re.test(getLabel(labels, t.name)))) return r.priority;
    return null;
  };
}

const WIRE_TYPES = new Set([
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
]);

/** Scrape metadata in remote write's terms (text format's "untyped" is remote write's "unknown"). */
function wireMetadata(m: ReadonlyMap<string, FamilyMetadata>): Map<string, WireMetadata> {
  const out = new Map<string, WireMetadata>();
  for (const [family, md] of m) {
    const type = (WIRE_TYPES.has(md.type) ? md.type : 'unknown') as WireMetadata['type'];
    out.set(family, { family, type, help: md.help, unit: md.unit });
  }
  return out;
}

/** Reads /proc/self/io, or null off Linux. */
export function readProcSelfIo(): string | null {
  try {
    return fs.readFileSync('/proc/self/io', 'utf8');
  } catch {
    return null;
  }
}
