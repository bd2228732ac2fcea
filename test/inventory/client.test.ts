import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetBoxClient, TokenBucket, authorizationHeader } from '../../inventory/client.ts';
import type { HttpTransport, RawResponse, TransportError } from '../../inventory/client.ts';
import { V1_TOKEN, V2_TOKEN, startBed } from './helpers.ts';
import type { Bed } from './helpers.ts';

const signal = new AbortController().signal;

/** A transport that answers from a list, recording what was asked. */
function scripted(
  answers: (RawResponse | TransportError)[],
): HttpTransport & { urls: string[]; headers: Record<string, string>[] } {
  const urls: string[] = [];
  const headers: Record<string, string>[] = [];
  return {
    urls,
    headers,
    get(url, h) {
      urls.push(url.toString());
      headers.push({ ...h });
      const a = answers.shift();
      if (!a) throw new Error('no more answers');
      return Promise.resolve(a);
    },
  };
}
const ok = (body: unknown, apiVersion = '4.6'): RawResponse => ({
  status: 200,
  headers: { 'api-version': apiVersion },
  body: Buffer.from(JSON.stringify(body)),
});
function client(t: HttpTransport, retries = 2): NetBoxClient {
  return new NetBoxClient({
    url: 'https://netbox.store.example/',
    token: V1_TOKEN,
    transport: t,
    timeoutMs: 1000,
    maxBytes: 1 << 20,
    retries,
    minBackoffMs: 1,
    bucket: new TokenBucket({ rate: 1000, burst: 1000, now: Date.now, sleep: async () => {} }),
    sleep: async () => {},
  });
}

describe('authorizationHeader', () => {
  it('sends Bearer for v2 (nbt_) tokens and Token for v1', () => {
    assert.equal(authorizationHeader(V2_TOKEN), `Bearer ${V2_TOKEN}`);
    assert.equal(authorizationHeader(V1_TOKEN), `Token ${V1_TOKEN}`);
  });
});

describe('NetBoxClient with a scripted transport', () => {
  it('follows next using only its query string, against our own base URL', async () => {
    const t = scripted([
      ok({
        count: 3,
        next: 'http://wrong-host.internal:8080/api/dcim/devices/?limit=2&offset=2',
        results: [{ id: 1 }, { id: 2 }],
      }),
      ok({ count: 3, next: null, results: [{ id: 3 }] }),
    ]);
    const r = await client(t).list('api/dcim/devices/', new URLSearchParams({ limit: '2' }), signal);
    assert.equal(r.kind, 'success');
    assert.deepEqual(r.kind === 'success' && r.value.rows, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    assert.equal(t.urls[1], 'https://netbox.store.example/api/dcim/devices/?limit=2&offset=2');
  });

  it('reads the API-Version header', async () => {
    const r = await client(scripted([ok({ count: 0, next: null, results: [] }, '3.7')])).list(
      'api/dcim/devices/',
      new URLSearchParams(),
      signal,
    );
    assert.equal(r.kind === 'success' && r.apiVersion, '3.7');
  });

  it('treats 403 as an auth failure and does not retry it', async () => {
    const t = scripted([{ status: 403, headers: {}, body: Buffer.from('{"detail":"Invalid v1 token"}') }]);
    const r = await client(t).get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind, 'failure');
    assert.equal(r.kind === 'failure' && r.error.kind, 'auth');
    assert.match(r.kind === 'failure' ? r.error.message : '', /Invalid v1 token/);
    assert.equal(t.urls.length, 1);
  });

  it('retries 5xx and network errors, then succeeds', async () => {
    const t = scripted([
      { status: 500, headers: {}, body: Buffer.from('{"error":"x"}') },
      { kind: 'network', message: 'ECONNRESET' },
      ok({ ok: 1 }),
    ]);
    const r = await client(t).get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind, 'success');
    assert.equal(t.urls.length, 3);
  });

  it('gives up after the configured retries with a retryable result', async () => {
    const t = scripted([
      { status: 502, headers: {}, body: Buffer.from('<html>bad gateway</html>') },
      { status: 502, headers: {}, body: Buffer.from('<html>bad gateway</html>') },
    ]);
    const r = await client(t, 1).get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind, 'retryable');
    assert.equal(r.kind === 'retryable' && r.error.status, 502);
    assert.match(r.kind === 'retryable' ? r.error.message : '', /HTML page/);
  });

  it('turns garbage into typed errors, never throws', async () => {
    const cases: [RawResponse, string][] = [
      [{ status: 200, headers: {}, body: Buffer.from('<!DOCTYPE html><html>login</html>') }, 'html'],
      [{ status: 200, headers: {}, body: Buffer.from('{"count": 1, "results": [') }, 'invalid-json'],
      [{ status: 200, headers: {}, body: Buffer.from([0xff, 0xfe, 0x00, 0x01]) }, 'invalid-json'],
      [{ status: 400, headers: {}, body: Buffer.from('{"site":["Select a valid choice."]}') }, 'bad-request'],
      [{ status: 404, headers: {}, body: Buffer.from('{"detail":"Not found."}') }, 'not-found'],
      [{ status: 406, headers: {}, body: Buffer.from('{"detail":"Invalid version"}') }, 'http'],
    ];
    for (const [answer, kind] of cases) {
      const r = await client(scripted([answer, answer, answer]), 0).get(
        'api/x/',
        new URLSearchParams(),
        signal,
      );
      assert.notEqual(r.kind, 'success');
      assert.equal(r.kind !== 'success' && r.error.kind, kind);
    }
  });

  it('refuses lists that are not paginated envelopes, or whose next never ends', async () => {
    for (const body of [[], { results: 'x' }, null, { count: 1, next: 5, results: [] }]) {
      const r = await client(scripted([ok(body)])).list('api/dcim/devices/', new URLSearchParams(), signal);
      assert.equal(r.kind === 'failure' && r.error.kind, 'shape', JSON.stringify(body));
    }
    const loop = ok({ count: 9, next: 'http://x/api/dcim/devices/?offset=2', results: [{ id: 1 }] });
    const r = await client(scripted([loop, loop, loop])).list(
      'api/dcim/devices/',
      new URLSearchParams(),
      signal,
    );
    assert.equal(r.kind === 'failure' && r.error.kind, 'shape');
  });

  it('never puts the token in error messages or paths', async () => {
    const t = scripted([{ status: 403, headers: {}, body: Buffer.from(`{"detail":"bad"}`) }]);
    const r = await client(t).get('api/status/', new URLSearchParams(), signal);
    assert.ok(!JSON.stringify(r).includes(V1_TOKEN));
    assert.equal(t.headers[0]!.Authorization, `Token ${V1_TOKEN}`);
    assert.ok(!('Accept' in t.headers[0]! && /version=/.test(t.headers[0].Accept)));
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then spaces requests at the rate', async () => {
    let now = 0;
    const slept: number[] = [];
    const b = new TokenBucket({
      rate: 5,
      burst: 2,
      now: () => now,
      sleep: (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    });
    for (let i = 0; i < 4; i++) await b.take(signal);
    assert.deepEqual(slept, [200, 200]);
    assert.equal(now, 400);
  });
});

describe('NetBoxClient against the fixture (real HTTP on loopback)', () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ devices: 30, timeoutMs: 300, maxBytes: 1 << 20 });
  });
  after(async () => bed.close());

  it('fails a request that never gets an answer with a timeout', async () => {
    bed.fixture.inject({ mode: 'timeout', path: '/api/status/', times: 3 });
    const r = await bed.client.get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind, 'retryable');
    assert.equal(r.kind === 'retryable' && r.error.kind, 'timeout');
  });

  it('detects a body cut short', async () => {
    bed.fixture.inject({ mode: 'truncate', path: '/api/status/', times: 3 });
    const r = await bed.client.get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind !== 'success' && r.error.kind, 'truncated');
  });

  it('stops reading an oversize body', async () => {
    bed.fixture.inject({ mode: 'oversize', path: '/api/status/' });
    const r = await bed.client.get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind, 'failure');
    assert.equal(r.kind === 'failure' && r.error.kind, 'oversize');
  });

  it('recovers from one 500 on a page by retrying that page', async () => {
    bed.fixture.inject({ mode: 'status500', path: '/api/dcim/devices/', page: 2 });
    const r = await bed.client.list('api/dcim/devices/', new URLSearchParams({ limit: '10' }), signal);
    assert.equal(r.kind, 'success');
    assert.equal(r.kind === 'success' && r.value.rows.length, 30);
  });

  it('reports a network error when nothing listens', async () => {
    const c = new NetBoxClient({
      url: 'http://127.0.0.1:1',
      token: V1_TOKEN,
      transport: bed.transport,
      timeoutMs: 1000,
      maxBytes: 1000,
      retries: 0,
      bucket: new TokenBucket({ rate: 100, now: Date.now, sleep: async () => {} }),
    });
    const r = await c.get('api/status/', new URLSearchParams(), signal);
    assert.equal(r.kind === 'retryable' && r.error.kind, 'network');
  });

  it('returns aborted when the signal is already aborted', async () => {
    const r = await bed.client.get('api/status/', new URLSearchParams(), AbortSignal.abort());
    assert.equal(r.kind === 'failure' && r.error.kind, 'aborted');
  });
});
