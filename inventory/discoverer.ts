// The inventory stage's one door: a Discoverer that keeps the store's inventory in step with NetBox and hands
// each new one to its caller, plus a status view for the page and text renderings for the CLI.

import type { NetboxConfig } from '../appliance/config/netbox.ts';
import type { Logger } from '../appliance/model/logger.ts';
import { formatDuration } from '../appliance/config/duration.ts';
import type { InventoryStore } from './cache.ts';
import { NetBoxClient, TokenBucket, abortableSleep, nodeTransport } from './client.ts';
import type { HttpTransport, NetBoxError } from './client.ts';
import { diffInventories, formatDiff, isEmptyDiff } from './diff.ts';
import type { InventoryDiff } from './diff.ts';
import { buildInventory } from './profiles.ts';
import type { Inventory, NotMonitored, Snapshot } from './profiles.ts';
import { fullSync, incrementalSync } from './sync.ts';

/** What the discoverer hands over: a whole inventory, replacing the previous one. */
export interface InventoryUpdate {
  /** "cache" at boot from the last good sync, "netbox" after a successful sync. */
  readonly origin: 'cache' | 'netbox';
  readonly inventory: Inventory;
  /** Milliseconds since the epoch when the data was fetched from NetBox. */
  readonly fetchedAt: number;
}

/**
 * Keeps an inventory current. `run` resolves only when `signal` aborts; it never rejects. `onUpdate` is called
 * with a whole inventory whenever it changes (and once at start from the cache, if there is one); it must not
 * throw.
 */
export interface Discoverer {
  run(signal: AbortSignal, onUpdate: (u: InventoryUpdate) => void): Promise<void>;
  status(): DiscovererStatus;
}

/** The page's view of the inventory stage. Holds no secrets (the token never appears). */
export interface DiscovererStatus {
  readonly url: string;
  readonly site: string;
  readonly apiVersion: string;
  /** Where the current inventory came from; "none" before the first sync or cache load. */
  readonly origin: 'none' | 'cache' | 'netbox';
  readonly lastSuccessAt?: number;
  readonly lastFullSyncAt?: number;
  readonly lastAttemptAt?: number;
  /** The last sync's error, kept until a sync succeeds. */
  readonly lastError?: { readonly at: number; readonly kind: string; readonly message: string };
  readonly counts: {
    readonly devices: number;
    readonly monitored: number;
    readonly notMonitored: number;
    readonly targets: number;
    readonly jobs: number;
  };
  readonly notMonitored: readonly NotMonitored[];
  /** Newest first. */
  readonly recentDiffs: readonly InventoryDiff[];
  readonly requests: number;
}

export interface NetboxDiscovererDeps {
  readonly config: NetboxConfig;
  readonly client: NetBoxClient;
  readonly store: InventoryStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Delay before retrying after a failed sync; default min(sync_interval, 60 s). */
  readonly retryDelayMs?: number;
  /** Uniform in [0, 1); spreads the schedules of many stores polling one NetBox (±10 % per interval). */
  readonly random?: () => number;
}

export class NetboxDiscoverer implements Discoverer {
  private readonly d: NetboxDiscovererDeps;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private snapshot: Snapshot | undefined;
  private inventory: Inventory | undefined;
  private origin: 'none' | 'cache' | 'netbox' = 'none';
  private lastSuccessAt: number | undefined;
  private lastAttemptAt: number | undefined;
  private lastError: DiscovererStatus['lastError'];

  constructor(deps: NetboxDiscovererDeps) {
    this.d = deps;
    this.sleep = deps.sleep ?? abortableSleep;
  }

  /** Loads the cached snapshot, if any, and publishes its inventory. */
  private boot(onUpdate: (u: InventoryUpdate) => void): void {
    let cached;
    try {
      cached = this.d.store.load();
    } catch (e) {
      this.d.logger.warn({ err: (e as Error).message }, 'inventory cache unreadable; waiting for NetBox');
      return;
    }
    if (!cached) return;
    this.snapshot = cached.snapshot;
    this.inventory = buildInventory(cached.snapshot, this.d.config);
    this.origin = 'cache';
    this.d.logger.info(
      { devices: cached.snapshot.devices.length, savedAt: new Date(cached.savedAt).toISOString() },
      'inventory loaded from cache',
    );
    onUpdate({ origin: 'cache', inventory: this.inventory, fetchedAt: cached.savedAt });
  }

  /** One sync step: full when due (or nothing is known yet), incremental otherwise. Returns success. */
  async syncOnce(signal: AbortSignal, onUpdate: (u: InventoryUpdate) => void): Promise<boolean> {
    const now = this.d.now();
    this.lastAttemptAt = now;
    const cfg = this.d.config;
    const prev = this.snapshot;
    const fullDue = !prev || this.origin !== 'netbox' || now - prev.fullSyncAt >= cfg.full_sync_interval;
    const r = fullDue
      ? await fullSync(this.d.client, cfg, signal, this.d.now)
      : await incrementalSync(this.d.client, cfg, prev, signal, this.d.now);
    if (signal.aborted) return false;
    if (!r.ok) {
      this.fail(r.error);
      return false;
    }
    const inventory = buildInventory(r.snapshot, cfg);
    const diff = diffInventories(this.inventory, inventory, this.d.now());
    this.snapshot = r.snapshot;
    this.inventory = inventory;
    const wasNetbox = this.origin === 'netbox';
    this.origin = 'netbox';
    this.lastSuccessAt = this.d.now();
    this.lastError = undefined;
    try {
      this.d.store.save(r.snapshot, this.lastSuccessAt);
      if (!isEmptyDiff(diff)) this.d.store.addDiff(diff);
    } catch (e) {
      this.d.logger.warn({ err: (e as Error).message }, 'inventory cache write failed');
    }
    if (!isEmptyDiff(diff)) {
      this.d.logger.info(
        {
          full: r.full,
          added: diff.added.length,
          removed: diff.removed.length,
          changed: diff.changed.length,
        },
        formatDiff(diff, 50),
      );
    }
    if (r.skippedRows > 0)
      this.d.logger.warn({ skipped: r.skippedRows }, 'NetBox sent unreadable device rows');
    if (!isEmptyDiff(diff) || !wasNetbox) {
      onUpdate({ origin: 'netbox', inventory, fetchedAt: this.lastSuccessAt });
    }
    return true;
  }

  private fail(error: NetBoxError): void {
    const at = this.d.now();
    this.lastError = { at, kind: error.kind, message: `${error.message} (${error.path})` };
    this.d.logger.warn(
      { kind: error.kind, path: error.path, keeping: this.origin },
      `NetBox sync failed: ${error.message}; keeping the previous inventory`,
    );
  }

  async run(signal: AbortSignal, onUpdate: (u: InventoryUpdate) => void): Promise<void> {
    this.boot(onUpdate);
    const cfg = this.d.config;
    const retry = this.d.retryDelayMs ?? Math.min(cfg.sync_interval, 60_000);
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.syncOnce(signal, onUpdate);
      } catch (e) {
        // A bug must not stop discovery: report it as a failed sync and keep the inventory.
        this.fail({ kind: 'shape', message: `internal error: ${(e as Error).message}`, path: '' });
      }
      const base = ok ? cfg.sync_interval : retry;
      await this.sleep(Math.round(base * (0.9 + 0.2 * (this.d.random ?? Math.random)())), signal);
    }
  }

  /** The current inventory (undefined before the first cache load or sync). */
  current(): Inventory | undefined {
    return this.inventory;
  }

  status(): DiscovererStatus {
    const inv = this.inventory;
    let diffs: InventoryDiff[] = [];
    try {
      diffs = this.d.store.recentDiffs(20);
    } catch {
      diffs = [];
    }
    return {
      url: this.d.config.url,
      site: this.d.config.site,
      apiVersion: this.snapshot?.apiVersion ?? '',
      origin: this.origin,
      ...(this.lastSuccessAt === undefined ? {} : { lastSuccessAt: this.lastSuccessAt }),
      ...(this.snapshot ? { lastFullSyncAt: this.snapshot.fullSyncAt } : {}),
      ...(this.lastAttemptAt === undefined ? {} : { lastAttemptAt: this.lastAttemptAt }),
      ...(this.lastError ? { lastError: this.lastError } : {}),
      counts: {
        devices: this.snapshot?.devices.length ?? 0,
        monitored: inv?.monitored.length ?? 0,
        notMonitored: inv?.notMonitored.length ?? 0,
        targets: inv?.jobs.reduce((n, j) => n + j.groups.length, 0) ?? 0,
        jobs: inv?.jobs.length ?? 0,
      },
      notMonitored: inv?.notMonitored ?? [],
      recentDiffs: diffs,
      requests: this.d.client.requests,
    };
  }
}

/** What main.ts needs to build a discoverer from the config section. */
export interface CreateDiscovererOptions {
  readonly config: NetboxConfig;
  readonly store: InventoryStore;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Defaults to node:http/https with the section's TLS settings. */
  readonly transport?: HttpTransport;
}

/** Builds the client (throttled, with the section's limits) and the discoverer. */
export function createNetboxDiscoverer(o: CreateDiscovererOptions): NetboxDiscoverer & { close(): void } {
  const now = o.now ?? Date.now;
  const own = o.transport ? undefined : nodeTransport(o.config.tls_config);
  const client = new NetBoxClient({
    url: o.config.url,
    token: o.config.token,
    transport: o.transport ?? own!,
    timeoutMs: o.config.timeout,
    maxBytes: o.config.max_response_size,
    retries: o.config.retries,
    bucket: new TokenBucket({ rate: o.config.rate_limit, now, sleep: abortableSleep }),
  });
  const d = new NetboxDiscoverer({ config: o.config, client, store: o.store, logger: o.logger, now });
  return Object.assign(d, {
    close() {
      own?.close();
    },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Text for the CLI (`storewatch inventory show` / `storewatch inventory diff`).
// ---------------------------------------------------------------------------------------------------------------

/** What is monitored, through which profile, rule and jobs; then what is not and why. */
export function inventoryShow(inv: Inventory): string {
  const lines: string[] = [];
  const s = inv.store;
  lines.push(
    `store ${s.site}${s.site_name ? ` (${s.site_name})` : ''}` +
      `${s.region ? ` region=${s.region}` : ''}${s.tenant ? ` tenant=${s.tenant}` : ''}` +
      `${s.time_zone ? ` tz=${s.time_zone}` : ''}${s.facility ? ` facility=${s.facility}` : ''}`,
  );
  lines.push(`monitored (${inv.monitored.length}):`);
  for (const m of inv.monitored) {
    lines.push(
      `  ${m.device} [${m.id}] ${m.address} profile=${m.profile} rule=${m.rule} jobs=${m.jobs.join(',')}`,
    );
  }
  lines.push(`not monitored (${inv.notMonitored.length}):`);
  for (const n of inv.notMonitored) lines.push(`  ${n.device} [${n.id}]: ${n.reason}`);
  lines.push(`jobs (${inv.jobs.length}):`);
  for (const j of inv.jobs)
    lines.push(`  ${j.name} (${j.kind}, profile ${j.profile}): ${j.groups.length} targets`);
  return lines.join('\n');
}

/**
 * The inventory the cached snapshot gives under `config`, for `storewatch inventory show` when the appliance
 * is not running (or to show what a config change would do); undefined when nothing is cached.
 */
export function inventoryFromStore(store: InventoryStore, config: NetboxConfig): Inventory | undefined {
  const cached = store.load();
  return cached ? buildInventory(cached.snapshot, config) : undefined;
}

/** The recent diffs (newest first) as text, for `storewatch inventory diff`. */
export function inventoryDiff(diffs: readonly InventoryDiff[]): string {
  if (diffs.length === 0) return 'no inventory changes recorded';
  return diffs.map((d) => formatDiff(d)).join('\n\n');
}

/** A one-line summary of the discoverer's state, for logs and the CLI. */
export function statusLine(s: DiscovererStatus, now: number): string {
  const age = (t: number | undefined) =>
    t === undefined ? 'never' : `${formatDuration(Math.max(0, now - t))} ago`;
  const err = s.lastError ? `; last error ${age(s.lastError.at)}: ${s.lastError.message}` : '';
  return (
    `netbox ${s.url} site ${s.site}: ${s.counts.monitored} monitored, ${s.counts.notMonitored} not monitored, ` +
    `last success ${age(s.lastSuccessAt)} (${s.origin})${err}`
  );
}
