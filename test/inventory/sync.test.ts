import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fullSync, incrementalSync } from '../../inventory/sync.ts';
import { buildInventory } from '../../inventory/profiles.ts';
import { V1_TOKEN, V2_TOKEN, startBed, testConfig } from './helpers.ts';
import type { Bed } from './helpers.ts';

const signal = new AbortController().signal;
const now = () => 1_800_000_000_000;

describe('fullSync', () => {
  let bed: Bed | undefined;
  afterEach(async () => {
    await bed?.close();
    bed = undefined;
  });

  it('fetches a store of 2,500 devices over many pages, without rendered config contexts', async () => {
    bed = await startBed({ devices: 2500 });
    const cfg = testConfig({ page_size: 100, statuses: ['active'] });
    const r = await fullSync(bed.client, cfg, signal, now);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(r.snapshot.devices.length, 2500);
    assert.equal(r.snapshot.site.slug, 'store-0042');
    assert.equal(r.snapshot.apiVersion, '4.6');
    const deviceRequests = bed.fixture.requests.filter((q) => q.path === '/api/dcim/devices/');
    assert.equal(deviceRequests.length, 25);
    for (const q of deviceRequests) assert.match(q.query, /exclude=config_context/);
    const inv = buildInventory(r.snapshot, cfg);
    assert.equal(inv.monitored.length + inv.notMonitored.length, 2500);
    // Every monitored address is a loopback address: the fixture rewrote the 10.x addresses.
    for (const m of inv.monitored) assert.match(m.address, /^127\./);
  });

  it('fails as a whole when page 3 fails for good (no partial store)', async () => {
    bed = await startBed({ devices: 500 });
    bed.fixture.inject({ mode: 'status500', path: '/api/dcim/devices/', page: 3, times: 10 });
    const r = await fullSync(bed.client, testConfig({ page_size: 100 }), signal, now);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.status, 500);
  });

  for (const mode of ['html', 'invalid-json', 'forbidden', 'truncate'] as const) {
    it(`fails as a whole on ${mode} mid-pagination`, async () => {
      bed = await startBed({ devices: 300 });
      bed.fixture.inject({ mode, path: '/api/dcim/devices/', page: 2, times: 10 });
      const r = await fullSync(bed.client, testConfig({ page_size: 100 }), signal, now);
      assert.equal(r.ok, false);
    });
  }

  it('works with a v2 token (Bearer) on 4.6 and is refused with a bad one', async () => {
    bed = await startBed({ devices: 12, token: V2_TOKEN });
    const r = await fullSync(bed.client, testConfig(), signal, now);
    assert.ok(r.ok);
    assert.equal(bed.fixture.requests[0]!.authorization, `Bearer ${V2_TOKEN}`);
    await bed.close();
    bed = await startBed({ devices: 12, token: 'nbt_abcdefghijkl.wrong' });
    const bad = await fullSync(bed.client, testConfig(), signal, now);
    assert.equal(!bad.ok && bad.error.kind, 'auth');
    assert.match(!bad.ok ? bad.error.message : '', /Invalid v2 token/);
  });

  it('works with a v1 token (Token) on 3.7 and reads device_role', async () => {
    bed = await startBed({ devices: 24, fixture: { version: '3.7' } });
    const r = await fullSync(bed.client, testConfig(), signal, now);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(bed.fixture.requests[0]!.authorization, `Token ${V1_TOKEN}`);
    assert.equal(r.snapshot.apiVersion, '3.7');
    assert.ok(r.snapshot.devices.every((d) => d.role !== undefined));
    const inv = buildInventory(r.snapshot, testConfig());
    assert.ok(inv.monitored.some((m) => m.profile === 'pos-terminal'));
  });

  it('reports a site that does not exist', async () => {
    bed = await startBed({ devices: 3 });
    const r = await fullSync(bed.client, testConfig({ site: 'no-such-store' }), signal, now);
    assert.equal(!r.ok && r.error.kind, 'shape');
    assert.match(!r.ok ? r.error.message : '', /not found/);
  });

  it('passes status and tag filters to NetBox (tags ANDed)', async () => {
    bed = await startBed({ devices: 100 });
    const r = await fullSync(bed.client, testConfig({ tags: ['lane-1'] }), signal, now);
    assert.ok(r.ok);
    assert.equal(r.snapshot.devices.length, 10);
    assert.match(bed.fixture.requests.find((q) => q.path === '/api/dcim/devices/')!.query, /tag=lane-1/);
  });
});

describe('hostile NetBox data through a whole sync', () => {
  let bed: Bed | undefined;
  afterEach(async () => {
    await bed?.close();
    bed = undefined;
  });

  it('neither crashes nor lets hostile values through unbounded', async () => {
    bed = await startBed({ devices: 12 });
    const ids = [...bed.fixture.devices.keys()];
    bed.fixture.updateDevice(ids[0]!, {
      name: `evil\u0000\u001b[2J${'x'.repeat(200_000)}`,
      custom_fields: { 'weird name!': { nested: ['a', 1, null] }, lane: 'DROP TABLE' },
      tags: [{ id: 1, slug: 'ok', name: '<script>alert(1)</script>' }, 'bare', null, 42],
    });
    bed.fixture.updateDevice(ids[1]!, { role: { id: 'x' } });
    bed.fixture.updateDevice(ids[2]!, { primary_ip: { address: '169.254.169.254/32' }, primary_ip4: null });
    bed.fixture.updateDevice(ids[3]!, { primary_ip: { address: 'not-an-ip' }, primary_ip4: null });
    bed.fixture.updateDevice(ids[4]!, { local_context_data: { storewatch: { port: 'ninety' } } });
    bed.fixture.updateDevice(ids[5]!, { local_context_data: 'just a string' });
    const cfg = testConfig({ custom_field_labels: ['lane', 'weird_name_'] });
    const r = await fullSync(bed.client, cfg, signal, now);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    const inv = buildInventory(r.snapshot, cfg);
    assert.equal(inv.monitored.length + inv.notMonitored.length, r.snapshot.devices.length);
    for (const job of inv.jobs) {
      for (const g of job.groups) {
        for (const [k, v] of Object.entries(g.targets[0]!)) {
          assert.match(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
          assert.ok(v.length <= 256 * 2 + 2, k);
          assert.ok(!/[\u0000-\u001f]/.test(v), k);
        }
      }
    }
    const reasons = inv.notMonitored.map((n) => n.reason).join('\n');
    assert.match(reasons, /169\.254\.169\.254 is link-local, metadata/);
    assert.match(reasons, /invalid config context: storewatch\.port/);
    assert.match(reasons, /no profile matches \(role none/);
    assert.match(reasons, /no primary IP/);
  });
});

describe('incrementalSync', () => {
  let bed: Bed | undefined;
  afterEach(async () => {
    await bed?.close();
    bed = undefined;
  });

  it('picks up changed and new devices since the watermark', async () => {
    bed = await startBed({ devices: 50 });
    const cfg = testConfig();
    const first = await fullSync(bed.client, cfg, signal, now);
    assert.ok(first.ok);
    const id = first.snapshot.devices[0]!.id;
    bed.fixture.updateDevice(id, { name: 'renamed-pos' });
    const added = bed.fixture.addDevice({
      name: 'new-pos',
      site: 'store-0042',
      role: 'pos-terminal',
      ip: '10.42.9.9/16',
    });
    bed.fixture.requests.length = 0;
    const r = await incrementalSync(bed.client, cfg, first.snapshot, signal, now);
    assert.ok(r.ok);
    assert.equal(r.full, false);
    assert.equal(r.snapshot.devices.length, 51);
    assert.equal(r.snapshot.devices.find((d) => d.id === id)!.name, 'renamed-pos');
    assert.ok(r.snapshot.devices.some((d) => d.id === added));
    // Only the changed rows came over the wire.
    assert.ok(r.fetched <= 3, `fetched ${r.fetched}`);
    assert.match(
      bed.fixture.requests.find((q) => q.path === '/api/dcim/devices/')!.query,
      /last_updated__gte=/,
    );
  });

  it('drops a device whose status left the filter', async () => {
    bed = await startBed({ devices: 20 });
    const cfg = testConfig();
    const first = await fullSync(bed.client, cfg, signal, now);
    assert.ok(first.ok);
    const id = first.snapshot.devices[3]!.id;
    bed.fixture.updateDevice(id, { status: { value: 'offline', label: 'Offline' } });
    const r = await incrementalSync(bed.client, cfg, first.snapshot, signal, now);
    assert.ok(r.ok);
    assert.ok(!r.snapshot.devices.some((d) => d.id === id));
  });

  it('runs a full sync when a config context changed', async () => {
    bed = await startBed({ devices: 20 });
    const cfg = testConfig();
    const first = await fullSync(bed.client, cfg, signal, now);
    assert.ok(first.ok);
    bed.fixture.addConfigContext({ name: 'pos-port', data: { storewatch: { port: 9200 } } });
    const r = await incrementalSync(bed.client, cfg, first.snapshot, signal, now);
    assert.ok(r.ok);
    assert.equal(r.full, true);
    assert.equal(r.snapshot.contexts.length, 1);
    // And with nothing changed since, the next one stays incremental.
    const again = await incrementalSync(bed.client, cfg, r.snapshot, signal, now);
    assert.ok(again.ok);
    assert.equal(again.full, false);
  });

  it('does not see deletions; a full sync does', async () => {
    bed = await startBed({ devices: 20 });
    const cfg = testConfig();
    const first = await fullSync(bed.client, cfg, signal, now);
    assert.ok(first.ok);
    const id = first.snapshot.devices[0]!.id;
    bed.fixture.deleteDevice(id);
    const inc = await incrementalSync(bed.client, cfg, first.snapshot, signal, now);
    assert.ok(inc.ok);
    assert.ok(inc.snapshot.devices.some((d) => d.id === id));
    const full = await fullSync(bed.client, cfg, signal, now);
    assert.ok(full.ok);
    assert.ok(!full.snapshot.devices.some((d) => d.id === id));
  });
});
