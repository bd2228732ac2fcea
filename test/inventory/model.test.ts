import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  MAX_FIELD_LENGTH,
  cleanString,
  deepMerge,
  parseConfigContext,
  parseDevice,
  parseSite,
  renderContext,
  stripPrefix,
} from '../../inventory/model.ts';
import type { NbConfigContext, NbDevice } from '../../inventory/model.ts';

const api = (f: string) =>
  JSON.parse(readFileSync(new URL(`../testdata/netbox/api/${f}`, import.meta.url), 'utf8')) as {
    results: unknown[];
  };

describe('parseDevice', () => {
  it('reads every genuine 4.6.8 device row, full and exclude=config_context', () => {
    for (const f of ['devices.json', 'devices-exclude-config-context.json']) {
      const rows = api(f).results;
      assert.equal(rows.length, 72);
      const parsed = rows.map(parseDevice);
      assert.ok(parsed.every((p) => p.ok));
      const devices = parsed.map((p) => (p.ok ? p.value : undefined)!);
      // The demo data has unnamed devices; they get their display text.
      const unnamed = devices.filter((d) => d.name === null);
      assert.ok(unnamed.length > 0);
      assert.ok(unnamed.every((d) => d.display !== ''));
      assert.ok(devices.every((d) => d.role !== undefined && d.status !== ''));
    }
  });

  it('reads the fields= shape (4.x) and the brief shape', () => {
    for (const f of ['devices-fields.json', 'devices-brief.json']) {
      for (const row of api(f).results) assert.ok(parseDevice(row).ok, f);
    }
  });

  it('reads a 3.x row with device_role instead of role', () => {
    const row = { ...(api('devices-exclude-config-context.json').results[0] as Record<string, unknown>) };
    row.device_role = row.role;
    delete row.role;
    const d = parseDevice(row);
    assert.ok(d.ok);
    assert.equal(d.value.role?.slug, 'pdu');
  });

  it('strips the prefix from primary IPs and prefers primary_ip', () => {
    const d = parseDevice({
      id: 1,
      primary_ip: { address: '10.112.128.1/28' },
      primary_ip6: { address: 'FD00::1/64' },
    });
    assert.ok(d.ok);
    assert.equal(d.value.primaryIp, '10.112.128.1');
    const v6 = parseDevice({ id: 2, primary_ip6: { address: 'FD00::1/64' } });
    assert.equal(v6.ok && v6.value.primaryIp, 'fd00::1');
  });

  it('survives hostile values without throwing', () => {
    const huge = 'x'.repeat(1_000_000);
    const rows: unknown[] = [
      null,
      42,
      'device',
      [],
      {},
      { id: -1 },
      { id: 1.5 },
      { id: '7' },
      {
        id: 9,
        name: `${huge}\u0000\u001b[31m\ud800`,
        display: { nested: true },
        role: { id: 'x', slug: 5 },
        platform: [],
        site: { id: 3, slug: null, name: huge },
        status: 12,
        tags: [null, 5, { slug: '' }, { slug: 'ok', name: 'OK' }, 'bare'],
        custom_fields: 'not an object',
        primary_ip: { address: '999.1.1.1/8' },
        primary_ip4: { address: 42 },
        local_context_data: [1, 2],
        last_updated: { when: 'now' },
      },
    ];
    for (const row of rows) parseDevice(row);
    const d = parseDevice(rows.at(-1));
    assert.ok(d.ok);
    assert.equal(d.value.name!.length, MAX_FIELD_LENGTH);
    assert.ok(!/[\u0000-\u001f]/.test(d.value.name!));
    assert.equal(d.value.role, undefined);
    assert.equal(d.value.primaryIp, undefined);
    assert.deepEqual(
      d.value.tags.map((t) => t.slug),
      ['ok', 'bare'],
    );
    assert.deepEqual(d.value.customFields, {});
    for (const bad of rows.slice(0, 8)) assert.equal(parseDevice(bad).ok, false, JSON.stringify(bad));
  });
});

describe('cleanString and stripPrefix', () => {
  it('replaces control characters and lone surrogates, caps length', () => {
    assert.equal(cleanString('a\nb\u0085c\udc00'), 'a\uFFFDb\uFFFDc\uFFFD');
    assert.equal(cleanString('😀'.repeat(200), 5).length, 5);
    assert.equal(cleanString({}), '');
    assert.equal(cleanString(3), '3');
  });
  it('accepts only IP addresses', () => {
    assert.equal(stripPrefix('10.0.0.1/8'), '10.0.0.1');
    assert.equal(stripPrefix('10.0.0.256/8'), undefined);
    assert.equal(stripPrefix('host.example/8'), undefined);
    assert.equal(stripPrefix('::1'), '::1');
    assert.equal(stripPrefix(':::/64'), undefined);
  });
});

describe('parseSite and parseConfigContext', () => {
  it('reads every genuine site', () => {
    const sites = api('sites.json').results.map(parseSite);
    assert.ok(sites.every((s) => s.ok));
    const withRegion = sites.find((s) => s.ok && s.value.region !== undefined);
    assert.ok(withRegion);
  });
  it('reads assignment dimensions as ids and tags as slugs', () => {
    const c = parseConfigContext({
      id: 3,
      name: 'c',
      weight: 10,
      is_active: true,
      sites: [{ id: 2 }],
      roles: [{ id: 5 }],
      tags: ['pos', { slug: 'lane' }],
      clusters: [],
      data: { a: 1 },
    });
    assert.ok(c.ok);
    assert.deepEqual(c.value.sites, [2]);
    assert.deepEqual(c.value.roles, [5]);
    assert.deepEqual(c.value.tags, ['pos', 'lane']);
    assert.equal(parseConfigContext({ name: 'no id' }).ok, false);
  });
});

describe('config context rendering', () => {
  const device: NbDevice = {
    id: 1,
    name: 'pos-1',
    display: 'pos-1',
    role: { id: 5, slug: 'pos-terminal', name: 'POS' },
    site: { id: 2, slug: 's', name: 'S' },
    status: 'active',
    tags: [{ slug: 'lane', name: 'lane' }],
    customFields: {},
    localContext: { storewatch: { port: 9300 } },
    lastUpdated: '',
  };
  const ctx = (over: Partial<NbConfigContext>): NbConfigContext => ({
    id: 1,
    name: 'a',
    weight: 1000,
    isActive: true,
    regions: [],
    siteGroups: [],
    sites: [],
    locations: [],
    deviceTypes: [],
    roles: [],
    platforms: [],
    tenantGroups: [],
    tenants: [],
    tags: [],
    clusterAssigned: false,
    data: {},
    lastUpdated: '',
    ...over,
  });

  it('merges dicts recursively and replaces lists and scalars', () => {
    assert.deepEqual(deepMerge({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: { e: 1 } }), {
      a: { b: 1, c: [3] },
      d: { e: 1 },
    });
  });

  it('applies matching contexts by weight then name, local data last', () => {
    const out = renderContext(device, undefined, [
      ctx({ id: 1, name: 'b', weight: 100, data: { storewatch: { port: 1, path: '/b' } } }),
      ctx({ id: 2, name: 'a', weight: 100, data: { storewatch: { port: 2, path: '/a', scheme: 'https' } } }),
      ctx({ id: 3, name: 'z', weight: 10, data: { storewatch: { interval: '30s' } } }),
      ctx({ id: 4, name: 'other-role', roles: [99], data: { storewatch: { disabled: true } } }),
      ctx({ id: 5, name: 'inactive', isActive: false, data: { storewatch: { disabled: true } } }),
      ctx({ id: 6, name: 'by-tag', tags: ['lane'], weight: 5000, data: { storewatch: { probe_port: 22 } } }),
    ]);
    assert.deepEqual(out, {
      storewatch: { interval: '30s', port: 9300, path: '/b', scheme: 'https', probe_port: 22 },
    });
  });
});
