import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MemoryInventoryStore, SqliteInventoryStore } from '../../inventory/cache.ts';
import type { InventoryStore } from '../../inventory/cache.ts';
import {
  NetboxDiscoverer,
  createNetboxDiscoverer,
  inventoryDiff,
  inventoryFromStore,
  inventoryShow,
  statusLine,
} from '../../inventory/discoverer.ts';
import type { InventoryUpdate } from '../../inventory/discoverer.ts';
import type { Logger } from '../../appliance/model/logger.ts';
import { V1_TOKEN, startBed, testConfig } from './helpers.ts';
import type { Bed } from './helpers.ts';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (obj: object, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, debug: rec, info: rec, warn: rec, error: rec };
}

describe('NetboxDiscoverer', () => {
  let bed: Bed | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await bed?.close();
    bed = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function make(b: Bed, store: InventoryStore = new MemoryInventoryStore(), over = {}) {
    let t = 1_800_000_000_000;
    const logger = recordingLogger();
    const config = testConfig({ url: b.fixture.baseUrl, page_size: 100, ...over });
    const d = new NetboxDiscoverer({ config, client: b.client, store, logger, now: () => (t += 1000) });
    return { d, logger, store };
  }

  it('keeps the previous inventory when page 3 fails, and shows the error', async () => {
    bed = await startBed({ devices: 500 });
    const { d, logger } = make(bed);
    const updates: InventoryUpdate[] = [];
    const signal = new AbortController().signal;
    assert.equal(await d.syncOnce(signal, (u) => updates.push(u)), true);
    const before = d.current()!;
    assert.equal(before.monitored.length + before.notMonitored.length, 500);
    bed.fixture.deleteDevice([...bed.fixture.devices.keys()][0]!);
    bed.fixture.addConfigContext({ name: 'force full sync', data: {} });
    bed.fixture.inject({ mode: 'status500', path: '/api/dcim/devices/', page: 3, times: 10 });
    assert.equal(await d.syncOnce(signal, (u) => updates.push(u)), false);
    assert.equal(d.current(), before);
    assert.equal(updates.length, 1);
    const s = d.status();
    assert.equal(s.lastError?.kind, 'http');
    assert.match(s.lastError.message, /HTTP 500/);
    assert.equal(s.counts.devices, 500);
    assert.ok(logger.lines.some((l) => /keeping the previous inventory/.test(l)));
    assert.ok(!logger.lines.some((l) => l.includes(V1_TOKEN)));
    // Once NetBox answers again, the deletion comes through, the error clears and a diff is kept.
    bed.fixture.clearInjections();
    assert.equal(await d.syncOnce(signal, (u) => updates.push(u)), true);
    assert.equal(d.status().lastError, undefined);
    assert.equal(d.status().counts.devices, 499);
    assert.equal(updates.length, 2);
    assert.equal(d.status().recentDiffs[0]!.removed.length, 1);
    assert.match(statusLine(d.status(), 1_900_000_000_000), /last success .* ago \(netbox\)/);
  });

  it('boots from the SQLite cache and keeps monitoring while NetBox is down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sw-disc-'));
    dirs.push(dir);
    const file = join(dir, 'inventory.db');
    bed = await startBed({ devices: 40 });
    const first = make(bed, new SqliteInventoryStore(new Database(file)));
    assert.equal(await first.d.syncOnce(new AbortController().signal, () => {}), true);
    const expected = first.d.current()!;
    first.store.close();
    await bed.fixture.close();

    // NetBox is gone: a new process loads the cache, publishes it, and reports the failed sync.
    const second = make(bed, new SqliteInventoryStore(new Database(file)));
    const updates: InventoryUpdate[] = [];
    const ac = new AbortController();
    const running = second.d.run(ac.signal, (u) => {
      updates.push(u);
    });
    while (second.d.status().lastError === undefined) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await running;
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.origin, 'cache');
    assert.deepEqual(updates[0]!.inventory, expected);
    assert.equal(second.d.status().origin, 'cache');
    assert.equal(second.d.status().lastError!.kind, 'network');
    second.store.close();
  });

  it('applies a config context override through a sync (group override by role)', async () => {
    bed = await startBed({ devices: 24 });
    const roleId = bed.fixture.roleId('pos-terminal');
    bed.fixture.addConfigContext({
      name: 'pos on 9182',
      weight: 100,
      roles: [roleId],
      data: { storewatch: { port: 9182 } },
    });
    const { d } = make(bed);
    assert.equal(await d.syncOnce(new AbortController().signal, () => {}), true);
    const job = d.current()!.jobs.find((j) => j.name === 'pos-terminal')!;
    assert.ok(job.groups.length > 0);
    for (const g of job.groups) assert.match(g.targets[0]!.__address__!, /:9182$/);
    const probe = d.current()!.jobs.find((j) => j.name === 'pos-terminal-probe')!;
    assert.match(probe.groups[0]!.targets[0]!.__address__!, /:9100$/);
  });

  it('runs incremental syncs between full ones, and a due full sync catches deletions', async () => {
    bed = await startBed({ devices: 30 });
    const signal = new AbortController().signal;
    const lazy = make(bed, new MemoryInventoryStore(), { full_sync_interval: 1_000_000_000 });
    const eager = make(bed, new MemoryInventoryStore(), { full_sync_interval: 1 });
    assert.equal(await lazy.d.syncOnce(signal, () => {}), true);
    assert.equal(await eager.d.syncOnce(signal, () => {}), true);
    bed.fixture.deleteDevice([...bed.fixture.devices.keys()][0]!);
    assert.equal(await lazy.d.syncOnce(signal, () => {}), true);
    assert.equal(await eager.d.syncOnce(signal, () => {}), true);
    assert.equal(lazy.d.status().counts.devices, 30);
    assert.equal(eager.d.status().counts.devices, 29);
  });

  it('is built by createNetboxDiscoverer and runs until aborted, publishing the store', async () => {
    bed = await startBed({ devices: 15 });
    const store = new MemoryInventoryStore();
    const d = createNetboxDiscoverer({
      config: testConfig({ url: bed.fixture.baseUrl }),
      store,
      logger: recordingLogger(),
    });
    const ac = new AbortController();
    const updates: InventoryUpdate[] = [];
    const running = d.run(ac.signal, (u) => {
      updates.push(u);
      ac.abort();
    });
    await running;
    d.close();
    assert.equal(updates.length, 1);
    assert.equal(updates[0]!.origin, 'netbox');
    assert.ok(updates[0]!.inventory.jobs.some((j) => j.name === 'pos-terminal'));
    assert.equal(bed.fixture.requests[0]!.authorization, `Token ${V1_TOKEN}`);
    const cached = inventoryFromStore(store, testConfig({ allowed_networks: ['10.0.0.0/8'] }));
    assert.equal(cached!.monitored.length, 0);
    assert.match(cached!.notMonitored[0]!.reason, /outside netbox.allowed_networks/);
  });

  it('renders inventory show and diff text', async () => {
    bed = await startBed({ devices: 13 });
    const { d } = make(bed);
    await d.syncOnce(new AbortController().signal, () => {});
    const text = inventoryShow(d.current()!);
    assert.match(text, /^store store-0042/);
    assert.match(
      text,
      /monitored \(\d+\):\n {2}store-0042-pos-terminal-0001 \[\d+\] 127\.42\.0\.2 profile=pos-terminal rule=role=pos-terminal jobs=pos-terminal,pos-terminal-probe/,
    );
    assert.match(
      text,
      /not monitored \(1\):\n {2}store-0042-pdu-0012 \[\d+\]: no profile matches \(role pdu/,
    );
    assert.match(inventoryDiff(d.status().recentDiffs), /\+ store-0042-pos-terminal-0001/);
    assert.equal(inventoryDiff([]), 'no inventory changes recorded');
  });
});
