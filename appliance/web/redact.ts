// Copies status data into plain objects for the page and the APIs, keeping only the documented fields and
// redacting URL credentials. The status page has no authentication (anyone on the store LAN can open it), so a
// StatusSource implementation that accidentally passes through extra fields or a `user:pass@` URL must not leak.

import type {
  BuildInfo,
  HostVitals,
  InventoryStatus,
  Overview,
  RemoteStatus,
  StatusSource,
  StorageStatus,
  TargetStatus,
} from './status.ts';

/** Replacement for the userinfo part of a URL, as Go's url.Redacted() marks a password. */
export const REDACTED = 'xxxxx';

// scheme "://" userinfo "@": the userinfo runs up to the LAST "@" before the authority ends (at "/", "?", "#",
// whitespace or a quote), so that a raw "@" inside a password is covered too.
const USERINFO = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^\s/?#"'<>]*@/g;

/** Redacts `user:pass@` (and bare `user@`) in every URL inside `text`, e.g. in an error message. */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, `$1${REDACTED}@`);
}

function redactRecord(r: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) out[k] = redactCredentials(String(v));
  return out;
}

/** A clean copy of one target with only TargetStatus's fields and all credentials redacted. */
export function sanitizeTarget(t: TargetStatus): TargetStatus {
  return {
    discoveredLabels: redactRecord(t.discoveredLabels),
    labels: redactRecord(t.labels),
    scrapePool: redactCredentials(t.scrapePool),
    scrapeUrl: redactCredentials(t.scrapeUrl),
    globalUrl: redactCredentials(t.globalUrl),
    lastError: redactCredentials(t.lastError),
    lastScrape: t.lastScrape,
    lastScrapeDuration: t.lastScrapeDuration,
    health: t.health,
    scrapeInterval: t.scrapeInterval,
    scrapeTimeout: t.scrapeTimeout,
    lastSamples: t.lastSamples,
  };
}

function copyStorage(s: StorageStatus): StorageStatus {
  return {
    path: s.path,
    databaseBytes: s.databaseBytes,
    logBytes: s.logBytes,
    series: s.series,
    chunks: s.chunks,
    samplesAppended: s.samplesAppended,
    oldestTimestamp: s.oldestTimestamp,
    newestTimestamp: s.newestTimestamp,
    retentionTimeMs: s.retentionTimeMs,
    retentionSizeBytes: s.retentionSizeBytes,
    ingestion: s.ingestion,
    ingestionError: redactCredentials(s.ingestionError),
  };
}

function copyHost(h: HostVitals | null): HostVitals | null {
  if (h === null) return null;
  return {
    hostname: h.hostname,
    uptimeSeconds: h.uptimeSeconds,
    cpuUsageRatio: h.cpuUsageRatio,
    memoryTotalBytes: h.memoryTotalBytes,
    memoryAvailableBytes: h.memoryAvailableBytes,
    filesystems: h.filesystems.map((f) => ({
      mountpoint: f.mountpoint,
      sizeBytes: f.sizeBytes,
      availBytes: f.availBytes,
    })),
    temperatureCelsius: h.temperatureCelsius,
  };
}

/** A clean copy of one remote-write destination's status; the error text may carry the receiver's URL. */
export function copyRemote(r: RemoteStatus): RemoteStatus {
  return {
    name: redactCredentials(r.name),
    state: r.state,
    sentThrough: r.sentThrough,
    lastSuccess: r.lastSuccess,
    lastError: redactCredentials(r.lastError),
    lastErrorTime: r.lastErrorTime,
    samplesSent: r.samplesSent,
    bytesSent: r.bytesSent,
    retries: r.retries,
    // fromEntries defines own properties, so a "__proto__" key stays a plain key.
    samplesDropped: Object.fromEntries(
      Object.entries(r.samplesDropped).map(([k, v]) => [redactCredentials(k), Number(v)]),
    ),
    backlogSamples: r.backlogSamples === null ? null : Number(r.backlogSamples),
    backlogBytes: r.backlogBytes === null ? null : Number(r.backlogBytes),
    drainRate: Number(r.drainRate),
    etaSeconds: r.etaSeconds === null ? null : Number(r.etaSeconds),
  };
}

/** A clean copy of the inventory status; NetBox's URL and error texts may carry credentials. */
export function copyInventory(i: InventoryStatus | null): InventoryStatus | null {
  if (i === null) return null;
  return {
    source: redactCredentials(i.source),
    origin: i.origin,
    lastSuccessAt: i.lastSuccessAt,
    lastError:
      i.lastError === null ? null : { at: i.lastError.at, message: redactCredentials(i.lastError.message) },
    devices: Number(i.devices),
    monitored: Number(i.monitored),
    targets: Number(i.targets),
    notMonitored: i.notMonitored.map((n) => ({ device: n.device, reason: redactCredentials(n.reason) })),
    recentChanges: i.recentChanges.map((c) => ({ at: c.at, text: redactCredentials(c.text) })),
  };
}

/** A clean copy of the build info. */
export function copyBuild(b: BuildInfo): BuildInfo {
  return { version: b.version, revision: b.revision, nodeVersion: b.nodeVersion, startTime: b.startTime };
}

/** Reads a full snapshot from the source (any method may throw) and returns a sanitised copy. */
export function readOverview(source: StatusSource): Overview {
  return {
    targets: source.targets().map(sanitizeTarget),
    storage: copyStorage(source.storage()),
    host: copyHost(source.host()),
    remote: source.remote().map(copyRemote),
    inventory: copyInventory(source.inventory?.() ?? null),
    notScraped: (source.notScraped?.() ?? []).map((n) => ({
      job: n.job,
      address: redactCredentials(n.address),
      reason: redactCredentials(n.reason),
    })),
    graphs: (source.graphs?.() ?? []).map((g) => ({
      title: g.title,
      unit: g.unit,
      start: Number(g.start),
      stepMs: Number(g.stepMs),
      rows: g.rows.map((r) => ({
        label: redactCredentials(r.label),
        values: r.values.map((v) => (v === null ? null : Number(v))),
      })),
    })),
    build: copyBuild(source.build),
  };
}
