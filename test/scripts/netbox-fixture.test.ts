import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { NetboxFixture, rewriteAddress } from '../../scripts/netbox-fixture.ts';
import { responseSchema, validate } from './openapi-subset.ts';
import type { OpenApiDoc } from './openapi-subset.ts';

const doc = JSON.parse(
  readFileSync(new URL('../testdata/netbox/openapi-v4.6.8-readonly.json', import.meta.url), 'utf8'),
) as OpenApiDoc & { paths: Record<string, unknown> };
const V1 = '0123456789abcdef0123456789abcdef01234567';
const V2 = 'nbt_abcdefghijkl.0123456789abcdef0123456789abcdef01234567';

/** GETs a path; `auth` '' sends no Authorization header. */
async function get(base: string, path: string, auth = `Token ${V1}`) {
  const res = await fetch(`${base}${path}`, { headers: auth !== '' ? { Authorization: auth } : {} });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return {
    status: res.status,
    apiVersion: res.headers.get('api-version'),
    body: body as Record<string, unknown>,
  };
}

describe('the OpenAPI subset validator', () => {
  it('accepts the genuine 4.6.8 responses', () => {
    const files: [string, string][] = [
      ['devices.json', '/api/dcim/devices/'],
      ['sites.json', '/api/dcim/sites/'],
      ['config-contexts.json', '/api/extras/config-contexts/'],
      ['tags.json', '/api/extras/tags/'],
    ];
    for (const [file, path] of files) {
      const body = JSON.parse(
        readFileSync(new URL(`../testdata/netbox/api/${file}`, import.meta.url), 'utf8'),
      );
      assert.deepEqual(validate(doc, responseSchema(doc, path), body), [], file);
    }
  });

  it('finds drift: missing required fields, wrong types, bad enums, null where not nullable', () => {
    const body = JSON.parse(
      readFileSync(new URL('../testdata/netbox/api/devices.json', import.meta.url), 'utf8'),
    ) as { results: Record<string, unknown>[] };
    const row = body.results[0]!;
    const schema = responseSchema(doc, '/api/dcim/devices/');
    const variants: Record<string, unknown>[] = [
      { ...row, id: 'x' },
      { ...row, status: { value: 'exploded', label: 'Exploded' } },
      { ...row, role: null },
      { ...row, device_role: undefined, role: undefined },
      { ...row, name: 'n'.repeat(65) },
    ];
    for (const v of variants) {
      const cleaned = JSON.parse(JSON.stringify(v)) as Record<string, unknown>;
      assert.notDeepEqual(
        validate(doc, schema, { ...body, results: [cleaned] }),
        [],
        JSON.stringify(v).slice(0, 80),
      );
    }
  });
});

describe('NetBox fixture (4.6)', () => {
  const f = new NetboxFixture({ v1Tokens: [V1], v2Tokens: [V2], linkBase: 'http://netbox.example.com' });
  let base = '';
  before(async () => {
    f.generateStore({ slug: 'store-0042', devices: 150 });
    f.addConfigContext({
      name: 'pos',
      roles: [f.roleId('pos-terminal')],
      data: { storewatch: { port: 9182 } },
    });
    base = await f.start();
  });
  after(async () => f.close());

  it('serves devices, sites and config contexts that conform to the 4.6.8 schema', async () => {
    for (const path of [
      '/api/dcim/devices/',
      '/api/dcim/sites/',
      '/api/extras/config-contexts/',
      '/api/extras/tags/',
    ]) {
      for (const q of ['?limit=1000', '?limit=7&offset=70']) {
        const r = await get(base, path + q);
        assert.equal(r.status, 200);
        assert.equal(r.apiVersion, '4.6');
        assert.deepEqual(validate(doc, responseSchema(doc, path), r.body), [], path + q);
      }
    }
    const status = await get(base, '/api/status/');
    assert.equal(status.body['netbox-version'], '4.6.8');
  });

  it('omits config_context when excluded, and renders it (merged) otherwise', async () => {
    const ex = await get(base, '/api/dcim/devices/?role=pos-terminal&limit=1&exclude=config_context');
    const row = (ex.body.results as Record<string, unknown>[])[0]!;
    assert.ok(!('config_context' in row));
    const full = await get(base, '/api/dcim/devices/?role=pos-terminal&limit=1');
    assert.deepEqual((full.body.results as Record<string, unknown>[])[0]!.config_context, {
      storewatch: { port: 9182 },
    });
  });

  it('pages with absolute next links, caps limit at 1000 and treats limit=0 as the max', async () => {
    const r = await get(base, '/api/dcim/devices/?limit=50');
    assert.equal(r.body.count, 222);
    assert.equal(r.body.next, 'http://netbox.example.com/api/dcim/devices/?limit=50&offset=50');
    for (const limit of ['0', '5000']) {
      const all = await get(base, `/api/dcim/devices/?limit=${limit}`);
      assert.equal((all.body.results as unknown[]).length, 222);
      assert.equal(all.body.next, null);
    }
    const small = new NetboxFixture({ v1Tokens: [V1], maxPageSize: 10 });
    const smallBase = await small.start();
    const capped = await get(smallBase, '/api/dcim/devices/?limit=1000');
    assert.equal((capped.body.results as unknown[]).length, 10);
    await small.close();
  });

  it('filters like NetBox: 400 for unknown values, unknown filters ignored, tags ANDed', async () => {
    const bad = await get(base, '/api/dcim/devices/?site=no-such-site');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, {
      site: ['Select a valid choice. no-such-site is not one of the available choices.'],
    });
    assert.equal((await get(base, '/api/dcim/devices/?status=bogus')).status, 400);
    const ignored = await get(base, '/api/dcim/devices/?bogus_filter=1&limit=1');
    assert.equal(ignored.body.count, 222);
    const site = await get(base, '/api/dcim/devices/?site=store-0042&limit=1');
    assert.equal(site.body.count, 150);
    const oneTag = await get(base, '/api/dcim/devices/?tag=lane-1&limit=1');
    assert.equal(oneTag.body.count, 15);
    f.ensureTag('other');
    const both = await get(base, '/api/dcim/devices/?tag=lane-1&tag=other&limit=1');
    assert.equal(both.body.count, 0);
    const future = await get(base, '/api/dcim/devices/?last_updated__gte=2099-01-01T00:00:00Z');
    assert.equal(future.body.count, 0);
    // 4.x removed device_role from devices: the filter is unknown, so it is ignored.
    const legacy = await get(base, '/api/dcim/devices/?device_role=switch&limit=1');
    assert.equal(legacy.body.count, 222);
  });

  it('authenticates like NetBox: 403 bodies for missing, bad v1 and bad v2 tokens', async () => {
    assert.deepEqual((await get(base, '/api/dcim/devices/', '')).body, {
      detail: 'Authentication credentials were not provided.',
    });
    assert.deepEqual((await get(base, '/api/dcim/devices/', 'Token nope')).body, {
      detail: 'Invalid v1 token',
    });
    assert.deepEqual((await get(base, '/api/dcim/devices/', 'Bearer nbt_x.y')).body, {
      detail: 'Invalid v2 token',
    });
    assert.equal((await get(base, '/api/dcim/devices/', `Bearer ${V2}`)).status, 200);
    assert.equal((await get(base, '/api/dcim/devices/', `Bearer ${V1}`)).status, 200);
    assert.equal((await get(base, '/api/dcim/devices/', `Basic ${V1}`)).status, 403);
  });

  it('serves only rewritten loopback addresses', async () => {
    const r = await get(base, '/api/dcim/devices/?site=store-0042&limit=1000&exclude=config_context');
    const addresses = (r.body.results as Record<string, { address: string } | null>[])
      .map((d) => d.primary_ip?.address)
      .filter((a) => a !== undefined);
    assert.ok(addresses.length > 100);
    for (const a of addresses) assert.match(a, /^127\./);
  });

  it('injects failures on a chosen page', async () => {
    f.inject({ mode: 'status500', path: '/api/dcim/devices/', page: 3 });
    assert.equal((await get(base, '/api/dcim/devices/?limit=10&offset=10')).status, 200);
    assert.equal((await get(base, '/api/dcim/devices/?limit=10&offset=20')).status, 500);
    assert.equal((await get(base, '/api/dcim/devices/?limit=10&offset=20')).status, 200);
    f.inject({ mode: 'html' });
    const html = await get(base, '/api/status/');
    assert.equal(typeof html.body, 'string');
    assert.match(html.body as unknown as string, /<!DOCTYPE html>/);
  });
});

describe('NetBox fixture (3.7)', () => {
  const f = new NetboxFixture({ version: '3.7', v1Tokens: [V1], v2Tokens: [V2] });
  let base = '';
  before(async () => {
    f.generateStore({ slug: 'store-0042', devices: 12 });
    base = await f.start();
  });
  after(async () => f.close());

  it('sends device_role, no display_url, API-Version 3.7, and knows only Token auth', async () => {
    const r = await get(base, '/api/dcim/devices/?site=store-0042&device_role=switch');
    assert.equal(r.apiVersion, '3.7');
    const rows = r.body.results as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.ok('device_role' in rows[0]! && !('role' in rows[0]) && !('display_url' in rows[0]));
    assert.equal((await get(base, '/api/dcim/devices/', `Bearer ${V2}`)).status, 403);
    assert.deepEqual((await get(base, '/api/dcim/devices/', 'Token nope')).body, { detail: 'Invalid token' });
    assert.equal((await get(base, '/api/status/')).body['netbox-version'], '3.7.8');
  });
});

describe('rewriteAddress', () => {
  it('maps private ranges into 127/8 and leaves everything else alone', () => {
    assert.equal(rewriteAddress('10.1.2.3/24'), '127.1.2.3/24');
    assert.equal(rewriteAddress('172.16.5.6'), '127.16.5.6');
    assert.equal(rewriteAddress('172.31.5.6/12'), '127.31.5.6/12');
    assert.equal(rewriteAddress('192.168.7.8/16'), '127.168.7.8/16');
    assert.equal(rewriteAddress('172.32.0.1'), '172.32.0.1');
    assert.equal(rewriteAddress('8.8.8.8'), '8.8.8.8');
    assert.equal(rewriteAddress('fd00::1/64'), 'fd00::1/64');
  });
});
