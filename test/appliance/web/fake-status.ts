// A mutable fake StatusSource for the web stage's tests: plain data that a test can change between requests.

import type {
  BuildInfo,
  HostVitals,
  RemoteStatus,
  StatusSource,
  StorageStatus,
  TargetStatus,
} from '../../../appliance/web/status.ts';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const NEVER = '0001-01-01T00:00:00Z';

export function target(over: Partial<TargetStatus> & { job: string; instance: string }): TargetStatus {
  const { job, instance, ...rest } = over;
  return {
    discoveredLabels: { __address__: instance, job },
    labels: { job, instance },
    scrapePool: job,
    scrapeUrl: `http://${instance}/metrics`,
    globalUrl: `http://${instance}/metrics`,
    lastError: '',
    lastScrape: NEVER,
    lastScrapeDuration: 0,
    health: 'unknown',
    scrapeInterval: '15s',
    scrapeTimeout: '10s',
    lastSamples: 0,
    ...rest,
  };
}

/** A destination that delivered everything up to 20 s before `nowMs` and never failed; override as needed. */
export function destination(nowMs: number, over: Partial<RemoteStatus> = {}): RemoteStatus {
  return {
    name: 'central',
    state: 'idle',
    sentThrough: nowMs - 20_000,
    lastSuccess: nowMs - 15_000,
    lastError: '',
    lastErrorTime: null,
    samplesSent: 1_234_567,
    bytesSent: 45_678_901,
    retries: 0,
    samplesDropped: {},
    backlogSamples: 1200,
    backlogBytes: 2048,
    drainRate: 340,
    etaSeconds: null,
    ...over,
  };
}

export interface FakeStatus extends StatusSource {
  targetList: TargetStatus[];
  storageStatus: StorageStatus;
  hostVitals: HostVitals | null;
  remoteList: RemoteStatus[];
  /** When set, every method throws it. */
  fail: Error | null;
}

/**
 * A store with three targets (one down, one hostile-labelled, one up), host vitals, a healthy TSDB and one
 * remote-write destination that is up to date.
 */
export function fakeStatus(nowMs: number): FakeStatus {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const build: BuildInfo = {
    version: '0.1.0',
    revision: '0123456789abcdef',
    nodeVersion: 'v24.21.0',
    startTime: iso(nowMs - 3_600_000),
  };
  const fake: FakeStatus = {
    targetList: [
      target({
        job: 'node',
        instance: '127.0.0.1:9100',
        health: 'up',
        lastScrape: iso(nowMs - 4_000),
        lastScrapeDuration: 0.034,
        lastSamples: 1075,
      }),
      target({
        job: 'pos',
        instance: 'pos-07.store:9182',
        health: 'down',
        lastScrape: iso(nowMs - 9_000),
        lastScrapeDuration: 10,
        lastError: 'Get "http://pos-07.store:9182/metrics": context deadline exceeded',
      }),
      target({
        job: 'snmp',
        instance: 'sw-01',
        health: 'up',
        labels: { job: 'snmp', instance: 'sw-01', evil: HOSTILE },
        lastScrape: iso(nowMs - 12_000),
        lastScrapeDuration: 0.12,
        lastSamples: 19,
      }),
    ],
    storageStatus: {
      path: '/var/lib/storewatch/tsdb.db',
      databaseBytes: 734_003_200,
      logBytes: 4_194_304,
      series: 12_345,
      chunks: 67_890,
      samplesAppended: 98_765_432,
      oldestTimestamp: nowMs - 14 * 86_400_000,
      newestTimestamp: nowMs - 4_000,
      retentionTimeMs: 15 * 86_400_000,
      retentionSizeBytes: 8 * 1024 ** 3,
      ingestion: 'ok',
      ingestionError: '',
    },
    hostVitals: {
      hostname: 'store-0042-edge',
      uptimeSeconds: 3 * 86_400 + 7_200,
      cpuUsageRatio: 0.23,
      memoryTotalBytes: 8 * 1024 ** 3,
      memoryAvailableBytes: 5 * 1024 ** 3,
      filesystems: [
        { mountpoint: '/', sizeBytes: 64 * 1024 ** 3, availBytes: 40 * 1024 ** 3 },
        { mountpoint: '/var/lib/storewatch', sizeBytes: 32 * 1024 ** 3, availBytes: 2 * 1024 ** 3 },
      ],
      temperatureCelsius: 52,
    },
    remoteList: [destination(nowMs)],
    fail: null,
    build,
    targets(): readonly TargetStatus[] {
      if (fake.fail) throw fake.fail;
      return fake.targetList;
    },
    storage(): StorageStatus {
      if (fake.fail) throw fake.fail;
      return fake.storageStatus;
    },
    host(): HostVitals | null {
      if (fake.fail) throw fake.fail;
      return fake.hostVitals;
    },
    remote(): readonly RemoteStatus[] {
      if (fake.fail) throw fake.fail;
      return fake.remoteList;
    },
  };
  return fake;
}

/** A logger that records calls, so tests can check that errors are logged. */
export function recordingLogger(): {
  lines: { level: string; o: object; msg?: string }[];
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
} {
  const lines: { level: string; o: object; msg?: string }[] = [];
  return {
    lines,
    info: (o, msg) => lines.push({ level: 'info', o, msg }),
    warn: (o, msg) => lines.push({ level: 'warn', o, msg }),
    error: (o, msg) => lines.push({ level: 'error', o, msg }),
  };
}
