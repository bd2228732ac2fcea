import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProcIo, renderFamilies, selfMetricFamilies } from '../../appliance/selfmetrics.ts';
import type { TsdbStats } from '../../appliance/tsdb/db.ts';
import { promtoolCheckMetrics } from '../integration/peers.ts';

const tsdb: TsdbStats = {
  path: 'data',
  databaseBytes: 1000,
  logBytes: 10,
  series: 3,
  chunks: 4,
  headChunks: 3,
  samplesAppended: 99,
  samplesOutOfOrder: 1,
  oldestTimestamp: null,
  newestTimestamp: 5000,
  retentionTimeMs: 0,
  retentionSizeBytes: 0,
  ingestion: 'paused',
  ingestionError: 'disk full: ingestion paused',
  commits: 7,
  commitFailures: 2,
  flushFailures: 0,
  windowsDropped: 0,
  logReplayedSamples: 0,
  logCorruptRecords: 0,
  seriesRemoved: 0,
  samplesEvictedByPriority: 0,
  unsentSamplesDropped: { age: 0, size: 5 },
};

test('renderFamilies escapes HELP text and label values', () => {
  const text = renderFamilies([
    {
      name: 'x_total',
      help: 'a \\ back\nslash',
      type: 'counter',
      samples: [{ labels: { l: 'q"uote\\\n' }, value: NaN }, { value: Infinity }],
    },
  ]);
  assert.equal(
    text,
    '# HELP x_total a \\\\ back\\nslash\n# TYPE x_total counter\nx_total{l="q\\"uote\\\\\\n"} NaN\nx_total +Inf\n',
  );
});

test('parseProcIo reads /proc/self/io and refuses anything else', () => {
  const io = parseProcIo(
    'rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n',
  );
  assert.deepEqual(io, { writeBytes: 8192, readBytes: 4096, wchar: 20, rchar: 10 });
  assert.equal(parseProcIo(''), null);
  assert.equal(parseProcIo('write_bytes: -1\n'), null);
  assert.equal(parseProcIo('garbage\u0000\nwrite_bytes: 1e5'), null);
});

test('the families report storage, scrape and I/O figures and pass promtool check metrics', async () => {
  const families = selfMetricFamilies({
    version: '1.2.3',
    nodeVersion: 'v24.21.0',
    startTimeSeconds: 1_700_000_000,
    tsdb,
    targetHealth: ['up', 'down', 'down'],
    jobs: new Map([
      [
        'pos',
        {
          scrapes: 10,
          failures: new Map([['timeout', 2]]),
          samplesScraped: 500,
          samplesRefused: 1,
          storageFailures: 0,
        },
      ],
    ]),
    remote: [
      {
        name: 'central',
        state: 'sending',
        sentThrough: 1_700_000_000_000,
        liveThrough: null,
        lastSuccess: null,
        lastError: '',
        lastErrorTime: null,
        samplesSent: 42,
        bytesSent: 10,
        requests: 3,
        retries: 1,
        samplesDropped: { http_4xx: 2 },
        backlogSamples: 5000,
        backlogBytes: 9000,
        drainRate: 12.5,
        etaSeconds: 400,
      },
    ],
    io: { writeBytes: 1, readBytes: 2, wchar: 3, rchar: 4 },
    residentBytes: 1e8,
    cpuSeconds: 1.5,
  });
  const text = renderFamilies(families);
  assert.match(text, /^storewatch_tsdb_ingestion_paused 1$/m);
  assert.match(text, /^storewatch_tsdb_unsent_samples_dropped_total\{reason="size"\} 5$/m);
  assert.match(text, /^storewatch_scrape_targets\{health="down"\} 2$/m);
  assert.match(text, /^storewatch_scrape_errors_total\{job="pos",reason="timeout"\} 2$/m);
  assert.match(text, /^storewatch_process_storage_written_bytes_total 1$/m);
  assert.match(text, /^storewatch_remote_samples_sent_total\{destination="central"\} 42$/m);
  assert.match(
    text,
    /^storewatch_remote_samples_dropped_total\{destination="central",reason="http_4xx"\} 2$/m,
  );
  assert.doesNotMatch(text, /storewatch_remote_last_success_timestamp_seconds\{/);
  assert.match(text, /^storewatch_remote_backlog_samples\{destination="central"\} 5000$/m);
  const lint = await promtoolCheckMetrics(text);
  assert.equal(lint.code, 0, lint.output);
});
