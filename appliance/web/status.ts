// Data that the web stage shows. The scrape manager, the TSDB and the host collector implement StatusSource;
// the web stage only reads it, so that the page and the JSON APIs can be tested against fakes.

/** One target, in the shape of Prometheus's /api/v1/targets activeTargets entries, plus storewatch extras. */
export interface TargetStatus {
  readonly discoveredLabels: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly scrapePool: string;
  readonly scrapeUrl: string;
  readonly globalUrl: string;
  readonly lastError: string;
  readonly lastScrape: string; // RFC 3339, "0001-01-01T00:00:00Z" when never scraped (as Prometheus)
  readonly lastScrapeDuration: number; // seconds
  readonly health: 'up' | 'down' | 'unknown';
  readonly scrapeInterval: string; // Prometheus duration text, e.g. "15s"
  readonly scrapeTimeout: string;
  readonly lastSamples: number; // storewatch extra: samples in the last scrape
}

/** The local TSDB's size, contents and whether it still accepts samples. */
export interface StorageStatus {
  readonly path: string;
  readonly databaseBytes: number;
  readonly logBytes: number;
  readonly series: number;
  readonly chunks: number;
  readonly samplesAppended: number;
  readonly oldestTimestamp: number | null; // ms
  readonly newestTimestamp: number | null; // ms
  readonly retentionTimeMs: number; // 0 = unlimited
  readonly retentionSizeBytes: number; // 0 = unlimited
  readonly ingestion: 'ok' | 'paused';
  readonly ingestionError: string; // why ingestion is paused, e.g. "disk full"; "" when ok
}

/** The appliance's own health, from the host collector. */
export interface HostVitals {
  readonly hostname: string;
  readonly uptimeSeconds: number;
  readonly cpuUsageRatio: number | null; // 0..1, null when not measured yet
  readonly memoryTotalBytes: number;
  readonly memoryAvailableBytes: number;
  readonly filesystems: readonly { mountpoint: string; sizeBytes: number; availBytes: number }[];
  readonly temperatureCelsius: number | null; // null when the hardware reports none
}

/** What was built and when this process started. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly nodeVersion: string;
  readonly startTime: string; // RFC 3339
}

/**
 * One remote-write destination, as its sender reports it. Structurally the sender's own status type
 * (appliance/remote/sender.ts), declared here so that the web stage does not depend on the remote stage.
 */
export interface RemoteStatus {
  /** The destination's configured name (defaults to a hash of its URL). */
  readonly name: string;
  /**
   * What the sender is doing right now. `throttled` means waiting for the bandwidth cap; `backing_off` means
   * waiting before retrying a failed request; `stopped` means the sender no longer runs.
   */
  readonly state: 'idle' | 'sending' | 'throttled' | 'backing_off' | 'waiting_for_window' | 'stopped';
  /** Timestamp (ms) through which everything stored was delivered; null before the first delivery. */
  readonly sentThrough: number | null;
  /** When (ms) the receiver last accepted a request; null if not since this process started. */
  readonly lastSuccess: number | null;
  /** The last failed request's error, e.g. "HTTP 500: ..."; "" when none. May hold the receiver's text. */
  readonly lastError: string;
  readonly lastErrorTime: number | null; // ms
  readonly samplesSent: number;
  readonly bytesSent: number;
  readonly retries: number;
  /** Samples given up on, by reason (e.g. http_4xx, too_old). */
  readonly samplesDropped: Readonly<Record<string, number>>;
  /** Stored but not yet delivered, estimated; null when unknown. Bytes are compressed bytes on disk. */
  readonly backlogSamples: number | null;
  readonly backlogBytes: number | null;
  /** Samples per second delivered, smoothed over about a minute. */
  readonly drainRate: number;
  /** Seconds until caught up at the current drain rate; null when not catching up or not draining. */
  readonly etaSeconds: number | null;
}

/**
 * The store's inventory (NetBox), as the page shows it. Structurally a summary of the inventory stage's status,
 * declared here so that the web stage does not depend on that stage. Holds no token.
 */
export interface InventoryStatus {
  /** Where it comes from, e.g. "https://netbox.example.com, site dm-akron (API 4.6)". */
  readonly source: string;
  /** Where the inventory in use came from: "cache" means NetBox has not answered since this process started. */
  readonly origin: 'none' | 'cache' | 'netbox';
  readonly lastSuccessAt: number | null; // ms
  /** The last sync's error, kept until a sync succeeds. */
  readonly lastError: { readonly at: number; readonly message: string } | null;
  readonly devices: number;
  readonly monitored: number;
  readonly targets: number;
  /** Devices NetBox lists that are not monitored, and why (no primary IP, outside allowed networks, ...). */
  readonly notMonitored: readonly { readonly device: string; readonly reason: string }[];
  /** Recent inventory changes, newest first, as text (one line per device or field). */
  readonly recentChanges: readonly { readonly at: number; readonly text: string }[];
}

/**
 * A small history graph for the page, computed by the PromQL engine from the local TSDB: one row per series,
 * values at evenly spaced steps (null where there was no data).
 */
export interface Graph {
  readonly title: string;
  /** How values read: a ratio (0..1, shown as % up), seconds, or a plain count. */
  readonly unit: 'ratio' | 'seconds' | 'count';
  readonly start: number; // ms
  readonly stepMs: number;
  readonly rows: readonly { readonly label: string; readonly values: readonly (number | null)[] }[];
}

/** A target that discovery or the configuration produced but that is not scraped, and why. */
export interface NotScraped {
  readonly job: string;
  readonly address: string;
  readonly reason: string;
}

/**
 * Everything the status page and the status APIs show. Methods are called on every request (the page refreshes
 * every 10 s per open browser), so they must be cheap and synchronous: return a snapshot kept up to date by the
 * component, never do I/O here. A method may throw; the web stage answers 500 and logs it, and keeps serving.
 * Values are shown to anyone who can reach the page, so they must hold no secrets; the web stage still redacts
 * URL credentials (`user:pass@`) in target fields as a second line of defence.
 */
export interface StatusSource {
  /** Active targets, in any order (the web stage sorts them). */
  targets(): readonly TargetStatus[];
  storage(): StorageStatus;
  /** Null until the first host collection. */
  host(): HostVitals | null;
  /** Remote-write destinations in configuration order; empty when none is configured. */
  remote(): readonly RemoteStatus[];
  /** Null when no inventory source (NetBox) is configured. */
  inventory?(): InventoryStatus | null;
  /** Targets that are not scraped (dropped by relabelling, no collector for their kind, ...). */
  notScraped?(): readonly NotScraped[];
  /** History graphs, refreshed in the background; empty until the first evaluation. */
  graphs?(): readonly Graph[];
  readonly build: BuildInfo;
}

/** The JSON body of /api/v1/status/overview under `data`, and the input of the page renderer. */
export interface Overview {
  readonly targets: readonly TargetStatus[];
  readonly storage: StorageStatus;
  readonly host: HostVitals | null;
  readonly remote: readonly RemoteStatus[];
  readonly inventory: InventoryStatus | null;
  readonly notScraped: readonly NotScraped[];
  readonly graphs: readonly Graph[];
  readonly build: BuildInfo;
}
