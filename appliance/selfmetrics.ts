// storewatch's own metrics at /metrics: storage, scraping and process I/O, written in the text format so
// that `promtool check metrics` passes without warnings. Values are read when /metrics is scraped (pull), so
// nothing on the hot path updates a metric object.
import type { SenderStatus } from './remote/sender.ts';
import type { JobStats } from './scrape/manager.ts';
import type { TsdbStats } from './tsdb/db.ts';

/** One sample of a family: label pairs and a value. */
export interface FamilySample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A metric family: the name carries the unit and `_total` for counters, as Prometheus's conventions ask. */
export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: readonly FamilySample[];
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Renders families in text format 0.0.4. Pure. */
export function renderFamilies(families: readonly Family[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const entries = Object.entries(s.labels ?? {});
      const labels = entries.length
        ? `{${entries.map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',')}}`
        : '';
      out += `${f.name}${labels} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}

/** Bytes this process read and wrote, from /proc/self/io (Linux). */
export interface ProcessIo {
  /** Bytes that reached the storage layer (page-cache writeback accounting). */
  readonly writeBytes: number;
  readonly readBytes: number;
  /** Bytes passed to write(2)-like calls. */
  readonly wchar: number;
  readonly rchar: number;
}

/** Parses the text of /proc/<pid>/io. Pure; returns null for text that is not in that format. */
export function parseProcIo(text: string): ProcessIo | null {
  const get = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s*(\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const writeBytes = get('write_bytes');
  const readBytes = get('read_bytes');
  const wchar = get('wchar');
  const rchar = get('rchar');
  if (writeBytes === null || readBytes === null || wchar === null || rchar === null) return null;
  return { writeBytes, readBytes, wchar, rchar };
}

/** What the appliance's own metrics are computed from; the composition root gathers it. */
export interface SelfMetricsInput {
  readonly version: string;
  readonly nodeVersion: string;
  readonly startTimeSeconds: number;
  readonly tsdb: TsdbStats;
  readonly targetHealth: readonly ('up' | 'down' | 'unknown')[];
  readonly jobs: ReadonlyMap<string, JobStats>;
  /** One entry per remote-write destination. */
  readonly remote: readonly SenderStatus[];
  readonly io: ProcessIo | null;
  readonly residentBytes: number;
  readonly cpuSeconds: number;
}

/** The families of /metrics: storewatch_* plus the standard process_* ones. Pure. */
export function selfMetricFamilies(input: SelfMetricsInput): Family[] {
  const s = input.tsdb;
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
      samples: [{ labels: { version: input.version, nodeversion: input.nodeVersion }, value: 1 }],
    },
    gauge('storewatch_start_time_seconds', 'Unix time when storewatch started.', input.startTimeSeconds),
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
    {
      name: 'storewatch_tsdb_unsent_samples_dropped_total',
      help: 'Samples retention deleted before every remote-write destination had delivered them (estimated per window).',
      type: 'counter',
      samples: [
        { labels: { reason: 'age' }, value: s.unsentSamplesDropped.age },
        { labels: { reason: 'size' }, value: s.unsentSamplesDropped.size },
      ],
    },
    counter(
      'storewatch_tsdb_evicted_samples_total',
      'Samples of low-priority series deleted to keep the database under its size budget.',
      s.samplesEvictedByPriority,
    ),
    counter(
      'storewatch_tsdb_series_removed_total',
      'Series forgotten after retention deleted all their samples.',
      s.seriesRemoved,
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
    gauge('storewatch_tsdb_database_bytes', 'Size of the SQLite database and its WAL file.', s.databaseBytes),
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
  const health = { up: 0, down: 0, unknown: 0 };
  for (const h of input.targetHealth) health[h]++;
  families.push({
    name: 'storewatch_scrape_targets',
    help: 'Active scrape targets by health.',
    type: 'gauge',
    samples: Object.entries(health).map(([h, v]) => ({ labels: { health: h }, value: v })),
  });
  const scrapes: FamilySample[] = [];
  const errors: FamilySample[] = [];
  const scraped: FamilySample[] = [];
  const refused: FamilySample[] = [];
  for (const [job, st] of input.jobs) {
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
  const perDest = (f: (r: SenderStatus) => number | null): FamilySample[] =>
    input.remote.flatMap((r) => {
      const v = f(r);
      return v === null ? [] : [{ labels: { destination: r.name }, value: v }];
    });
  families.push(
    {
      name: 'storewatch_remote_samples_sent_total',
      help: 'Samples the receiver acknowledged.',
      type: 'counter',
      samples: perDest((r) => r.samplesSent),
    },
    {
      name: 'storewatch_remote_bytes_sent_total',
      help: 'Compressed request bytes the receiver acknowledged.',
      type: 'counter',
      samples: perDest((r) => r.bytesSent),
    },
    {
      name: 'storewatch_remote_requests_total',
      help: 'Remote-write requests sent, retries included.',
      type: 'counter',
      samples: perDest((r) => r.requests),
    },
    {
      name: 'storewatch_remote_retries_total',
      help: 'Remote-write requests retried after a 5xx, a 429 or a network error.',
      type: 'counter',
      samples: perDest((r) => r.retries),
    },
    {
      name: 'storewatch_remote_samples_dropped_total',
      help: 'Samples not delivered, by reason: http_4xx (refused for good) or too_old (sample_age_limit).',
      type: 'counter',
      samples: input.remote.flatMap((r) =>
        Object.entries(r.samplesDropped).map(([reason, v]) => ({
          labels: { destination: r.name, reason },
          value: v,
        })),
      ),
    },
    {
      name: 'storewatch_remote_backlog_samples',
      help: 'Samples stored but not yet delivered (estimated).',
      type: 'gauge',
      samples: perDest((r) => r.backlogSamples),
    },
    {
      name: 'storewatch_remote_sent_through_timestamp_seconds',
      help: 'Every stored sample up to this time was delivered.',
      type: 'gauge',
      samples: perDest((r) => (r.sentThrough === null ? null : r.sentThrough / 1000)),
    },
    {
      name: 'storewatch_remote_last_success_timestamp_seconds',
      help: 'Time of the last acknowledged request.',
      type: 'gauge',
      samples: perDest((r) => (r.lastSuccess === null ? null : r.lastSuccess / 1000)),
    },
  );
  const io = input.io;
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
  families.push(
    counter(
      'process_cpu_seconds_total',
      'Total user and system CPU time spent in seconds.',
      input.cpuSeconds,
    ),
    gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', input.residentBytes),
    gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      input.startTimeSeconds,
    ),
  );
  return families;
}
