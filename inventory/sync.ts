// Full and incremental syncs of one store from NetBox into a Snapshot. A sync either returns a whole new
// snapshot or an error: a failed page, an HTML page, a 403 or a list that changed under us never yields a
// half store. The caller keeps the previous snapshot on error.

import type { NetboxConfig } from '../appliance/config/netbox.ts';
import type { NetBoxClient, NetBoxError } from './client.ts';
import { parseConfigContext, parseDevice, parseSite } from './model.ts';
import type { NbConfigContext, NbDevice, NbSite, Parsed } from './model.ts';
import type { Snapshot } from './profiles.ts';

export type SyncResult =
  | {
      readonly ok: true;
      readonly snapshot: Snapshot;
      readonly full: boolean;
      /** Devices added or changed (incremental) or fetched (full). */
      readonly fetched: number;
      /** Rows NetBox sent that could not be read (no id, not an object); they are left out. */
      readonly skippedRows: number;
    }
  | { readonly ok: false; readonly error: NetBoxError };

/** The settings a sync needs (a subset of NetboxConfig, so tests and the bench can build it directly). */
export type SyncConfig = Pick<NetboxConfig, 'site' | 'statuses' | 'tags' | 'page_size'>;

function laterOf(a: string, b: string): string {
  if (a === '') return b;
  if (b === '') return a;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(tb)) return a;
  if (Number.isNaN(ta)) return b;
  return tb > ta ? b : a;
}

function maxUpdated(rows: readonly { lastUpdated: string }[], start = ''): string {
  let w = start;
  for (const r of rows) w = laterOf(w, r.lastUpdated);
  return w;
}

/** Whether a device passes the configured status and tag filters (also applied locally after incremental syncs). */
function wanted(d: NbDevice, cfg: SyncConfig): boolean {
  return cfg.statuses.includes(d.status) && cfg.tags.every((t) => d.tags.some((x) => x.slug === t));
}

function shapeError(message: string, path: string): { ok: false; error: NetBoxError } {
  return { ok: false, error: { kind: 'shape', message, path } };
}

async function fetchSite(
  client: NetBoxClient,
  cfg: SyncConfig,
  signal: AbortSignal,
): Promise<{ ok: true; site: NbSite; apiVersion: string } | { ok: false; error: NetBoxError }> {
  const q = new URLSearchParams(/^\d+$/.test(cfg.site) ? { id: cfg.site } : { slug: cfg.site });
  const r = await client.list('api/dcim/sites/', q, signal);
  if (r.kind !== 'success') return { ok: false, error: r.error };
  if (r.value.rows.length !== 1) {
    return shapeError(
      `site ${JSON.stringify(cfg.site)} not found in NetBox (${r.value.rows.length} matches)`,
      '/api/dcim/sites/',
    );
  }
  const s = parseSite(r.value.rows[0]);
  if (!s.ok) return shapeError(s.error, '/api/dcim/sites/');
  return { ok: true, site: s.value, apiVersion: r.apiVersion };
}

/** Keeps the last row per id (offset pagination can repeat a row when the list shifts) and counts bad rows. */
function collectDevices(rows: readonly Parsed<NbDevice>[]): {
  devices: Map<number, NbDevice>;
  skipped: number;
} {
  const devices = new Map<number, NbDevice>();
  let skipped = 0;
  for (const d of rows) {
    if (d.ok) devices.set(d.value.id, d.value);
    else skipped++;
  }
  return { devices, skipped };
}

function parseContexts(rows: readonly unknown[]): NbConfigContext[] {
  const out: NbConfigContext[] = [];
  for (const row of rows) {
    const c = parseConfigContext(row);
    if (c.ok) out.push(c.value);
  }
  return out;
}

/** Fetches the whole store: site, its devices (without rendered config contexts) and all config contexts. */
export async function fullSync(
  client: NetBoxClient,
  cfg: SyncConfig,
  signal: AbortSignal,
  now: () => number,
): Promise<SyncResult> {
  const site = await fetchSite(client, cfg, signal);
  if (!site.ok) return site;
  const q = new URLSearchParams({
    site_id: String(site.site.id),
    // Rendering each device's config context is the slowest part of a device list (netbox#9374); contexts
    // are fetched once below and merged here instead.
    exclude: 'config_context',
    limit: String(cfg.page_size),
    ordering: 'id',
  });
  for (const s of cfg.statuses) q.append('status', s);
  for (const t of cfg.tags) q.append('tag', t);
  const dr = await client.list('api/dcim/devices/', q, signal, parseDevice);
  if (dr.kind !== 'success') return { ok: false, error: dr.error };
  const { devices, skipped } = collectDevices(dr.value.rows);
  // Rows that moved between pages while we paged (offset pagination) can be lost; a short list is not the store.
  if (dr.value.count !== null && devices.size + skipped < dr.value.count) {
    return shapeError(
      `device list changed during the sync (got ${devices.size + skipped} of ${dr.value.count}); will retry`,
      '/api/dcim/devices/',
    );
  }
  const cr = await client.list(
    'api/extras/config-contexts/',
    new URLSearchParams({ limit: String(cfg.page_size) }),
    signal,
  );
  if (cr.kind !== 'success') return { ok: false, error: cr.error };
  const contexts = parseContexts(cr.value.rows);
  const list = [...devices.values()].filter((d) => wanted(d, cfg));
  return {
    ok: true,
    full: true,
    fetched: list.length,
    skippedRows: skipped,
    snapshot: {
      site: site.site,
      devices: list,
      contexts,
      apiVersion: dr.apiVersion || site.apiVersion,
      fullSyncAt: now(),
      deviceWatermark: maxUpdated(list),
      contextWatermark: maxUpdated(contexts),
    },
  };
}

/**
 * Asks only for what changed since `prev`: devices with last_updated at or after the watermark (merged in by
 * id), and whether any config context changed (then a full sync runs instead, because context changes do not
 * touch devices' last_updated). Deletions are not visible here; the periodic full sync catches them.
 */
export async function incrementalSync(
  client: NetBoxClient,
  cfg: SyncConfig,
  prev: Snapshot,
  signal: AbortSignal,
  now: () => number,
): Promise<SyncResult> {
  const cq = new URLSearchParams({ limit: '1' });
  // `__gt` of the newest context we hold: `__gte` would always return that context itself.
  const ctxMark = prev.contextWatermark || prev.deviceWatermark;
  if (ctxMark !== '') cq.set('last_updated__gt', ctxMark);
  const cr = await client.get('api/extras/config-contexts/', cq, signal);
  if (cr.kind !== 'success') return { ok: false, error: cr.error };
  const cv = cr.value as { count?: unknown; results?: unknown };
  const changed =
    (typeof cv.count === 'number' && cv.count > 0) || (Array.isArray(cv.results) && cv.results.length > 0);
  if (changed) {
    return fullSync(client, cfg, signal, now);
  }
  const site = await fetchSite(client, cfg, signal);
  if (!site.ok) return site;
  if (site.site.id !== prev.site.id) return fullSync(client, cfg, signal, now);
  // No status or tag filter here: a device that left the filters must come back so it can be dropped.
  const q = new URLSearchParams({
    site_id: String(site.site.id),
    exclude: 'config_context',
    limit: String(cfg.page_size),
    ordering: 'id',
  });
  if (prev.deviceWatermark !== '') q.set('last_updated__gte', prev.deviceWatermark);
  const dr = await client.list('api/dcim/devices/', q, signal, parseDevice);
  if (dr.kind !== 'success') return { ok: false, error: dr.error };
  const { devices: changedDevices, skipped } = collectDevices(dr.value.rows);
  const merged = new Map(prev.devices.map((d) => [d.id, d] as const));
  for (const d of changedDevices.values()) {
    if (wanted(d, cfg)) merged.set(d.id, d);
    else merged.delete(d.id);
  }
  const list = [...merged.values()].sort((a, b) => a.id - b.id);
  return {
    ok: true,
    full: false,
    fetched: changedDevices.size,
    skippedRows: skipped,
    snapshot: {
      ...prev,
      site: site.site,
      devices: list,
      apiVersion: dr.apiVersion || prev.apiVersion,
      deviceWatermark: maxUpdated([...changedDevices.values()], prev.deviceWatermark),
    },
  };
}
