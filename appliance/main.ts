// The composition root: the only place that builds the stages and wires them together. Start order is
// storage → scraping → web; stop is the reverse, and a stop flushes the TSDB head so a restart replays nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config, ScrapeConfig } from './config/schema.ts';
import type { Logger } from './model/logger.ts';
import { openSqlite } from './native.ts';
import { HostCollector, systemInformationSource } from './scrape/host.ts';
import { HttpScrapeClient } from './scrape/http.ts';
import type { LoopClock } from './scrape/loop.ts';
import { systemClock } from './scrape/loop.ts';
import { ScrapeManager, targetViewToApi } from './scrape/manager.ts';
import { VitalsTracker } from './scrape/vitals.ts';
import type { Family } from './selfmetrics.ts';
import { parseProcIo, renderFamilies } from './selfmetrics.ts';
import { Tsdb } from './tsdb/db.ts';
import { createWebApp, startWebServer } from './web/server.ts';
import type { WebServer } from './web/server.ts';
import type { StatusSource } from './web/status.ts';

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
  private readonly vitals: VitalsTracker;
  private web: WebServer | null = null;
  private readonly abort = new AbortController();
  private readonly startTime = new Date();
  private stopping: Promise<void> | null = null;

  private constructor(o: ApplianceOptions) {
    this.o = o;
    this.config = o.config;
    const clock = o.clock ?? systemClock;
    const storage = o.config.storage;
    this.tsdb = Tsdb.open({
      dir: storage.path,
      openDatabase: (file) => openSqlite(file, { cacheDir: o.cacheDir }),
      now: () => clock.now(),
      logger: o.logger,
      retentionTimeMs: storage.retention.time,
      retentionSizeBytes: storage.retention.size,
    });
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
    });
  }

  /** Opens storage, starts scraping and the web server. Rejects (and cleans up) if any part cannot start. */
  static async start(o: ApplianceOptions): Promise<Appliance> {
    const app = new Appliance(o);
    try {
      app.tsdb.start(app.abort.signal);
      await app.scrape.apply(o.config);
      const web = createWebApp({
        status: app.statusSource(),
        metrics: () => Promise.resolve(app.metricsText()),
        logger: o.logger,
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
    if (config.storage.path !== this.config.storage.path) restartNeeded.push('storage.path');
    if (config.web.listen_address !== this.config.web.listen_address)
      restartNeeded.push('web.listen_address');
    if (JSON.stringify(config.storage.retention) !== JSON.stringify(this.config.storage.retention)) {
      restartNeeded.push('storage.retention');
    }
    await this.scrape.apply(config);
    this.config = config;
    this.o.logger.info({ restartNeeded }, 'configuration reloaded');
  }

  /** Stops scraping, closes the web server and flushes storage. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      await this.scrape.stop();
      await this.web?.close();
      this.tsdb.close();
      this.o.logger.info({}, 'storewatch stopped');
    })();
    return this.stopping;
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
      build,
    };
  }

  /** The text of /metrics. */
  metricsText(): string {
    const s = this.tsdb.stats();
    const counter = (name: string, help: string, value: number): Family => ({
      name,
      help,
      type: 'counter',
      samples: [{ value }],
    });
    const gauge = (name: string, help: string, value: number): Family => ({
      name,
      help,
      type: 'gauge',
      samples: [{ value }],
    });
    const families: Family[] = [
      {
        name: 'storewatch_build_info',
        help: 'A metric with a constant 1 value labelled by version and Node.js version.',
        type: 'gauge',
        samples: [{ labels: { version: this.o.version, nodeversion: process.version }, value: 1 }],
      },
      gauge(
        'storewatch_start_time_seconds',
        'Unix time when storewatch started.',
        this.startTime.getTime() / 1000,
      ),
      counter('storewatch_tsdb_samples_appended_total', 'Samples committed to the TSDB.', s.samplesAppended),
      counter(
        'storewatch_tsdb_out_of_order_samples_total',
        'Samples refused because they were out of order.',
        s.samplesOutOfOrder,
      ),
      counter('storewatch_tsdb_commits_total', 'Successful appender commits (scrape rounds).', s.commits),
      counter(
        'storewatch_tsdb_commit_failures_total',
        'Appender commits that failed (for example disk full).',
        s.commitFailures,
      ),
      counter(
        'storewatch_tsdb_chunk_flush_failures_total',
        'Failed writes of cut chunks to SQLite.',
        s.flushFailures,
      ),
      counter(
        'storewatch_tsdb_retention_windows_dropped_total',
        'Storage windows deleted by retention.',
        s.windowsDropped,
      ),
      counter(
        'storewatch_tsdb_log_replayed_samples_total',
        'Samples replayed from the head log at start.',
        s.logReplayedSamples,
      ),
      counter(
        'storewatch_tsdb_log_corrupt_records_total',
        'Torn or corrupt head log records skipped at start.',
        s.logCorruptRecords,
      ),
      gauge('storewatch_tsdb_series', 'Series in the TSDB index.', s.series),
      gauge('storewatch_tsdb_chunks', 'Chunks stored in SQLite or waiting to be written.', s.chunks),
      gauge('storewatch_tsdb_head_chunks', 'Open in-memory head chunks.', s.headChunks),
      gauge(
        'storewatch_tsdb_database_bytes',
        'Size of the SQLite database and its WAL file.',
        s.databaseBytes,
      ),
      gauge('storewatch_tsdb_log_bytes', 'Size of the head log segments.', s.logBytes),
      gauge(
        'storewatch_tsdb_ingestion_paused',
        '1 when the last commit failed and ingestion is paused.',
        s.ingestion === 'paused' ? 1 : 0,
      ),
      gauge(
        'storewatch_tsdb_oldest_sample_timestamp_seconds',
        'Timestamp of the oldest stored sample.',
        (s.oldestTimestamp ?? 0) / 1000,
      ),
    ];
    const targets = this.scrape.targets();
    const health = { up: 0, down: 0, unknown: 0 };
    for (const t of targets) health[t.health]++;
    families.push({
      name: 'storewatch_scrape_targets',
      help: 'Active scrape targets by health.',
      type: 'gauge',
      samples: Object.entries(health).map(([h, v]) => ({ labels: { health: h }, value: v })),
    });
    const scrapes: Family['samples'][number][] = [];
    const errors: Family['samples'][number][] = [];
    const scraped: Family['samples'][number][] = [];
    const refused: Family['samples'][number][] = [];
    for (const [job, st] of this.scrape.jobStats()) {
      scrapes.push({ labels: { job }, value: st.scrapes });
      scraped.push({ labels: { job }, value: st.samplesScraped });
      refused.push({ labels: { job }, value: st.samplesRefused });
      for (const [reason, n] of st.failures) errors.push({ labels: { job, reason }, value: n });
    }
    families.push(
      { name: 'storewatch_scrapes_total', help: 'Scrape rounds per job.', type: 'counter', samples: scrapes },
      {
        name: 'storewatch_scrape_errors_total',
        help: 'Failed scrapes per job and reason.',
        type: 'counter',
        samples: errors,
      },
      {
        name: 'storewatch_scrape_samples_total',
        help: 'Samples scraped per job.',
        type: 'counter',
        samples: scraped,
      },
      {
        name: 'storewatch_scrape_samples_refused_total',
        help: 'Scraped samples the storage or the loop refused (duplicates, out of order).',
        type: 'counter',
        samples: refused,
      },
    );
    const ioText = this.o.readProcessIo?.() ?? null;
    const io = ioText === null ? null : parseProcIo(ioText);
    if (io) {
      families.push(
        counter(
          'storewatch_process_storage_written_bytes_total',
          'Bytes this process caused to be written to storage (/proc/self/io write_bytes).',
          io.writeBytes,
        ),
        counter(
          'storewatch_process_storage_read_bytes_total',
          'Bytes this process caused to be read from storage (/proc/self/io read_bytes).',
          io.readBytes,
        ),
        counter(
          'storewatch_process_write_syscall_bytes_total',
          'Bytes passed to write system calls (/proc/self/io wchar).',
          io.wchar,
        ),
      );
    }
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage();
    families.push(
      counter(
        'process_cpu_seconds_total',
        'Total user and system CPU time spent in seconds.',
        (cpu.user + cpu.system) / 1e6,
      ),
      gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', mem.rss),
      gauge(
        'process_start_time_seconds',
        'Start time of the process since unix epoch in seconds.',
        this.startTime.getTime() / 1000,
      ),
    );
    return renderFamilies(families);
  }
}

/** Reads /proc/self/io, or null off Linux. */
export function readProcSelfIo(): string | null {
  try {
    return fs.readFileSync('/proc/self/io', 'utf8');
  } catch {
    return null;
  }
}
