// The store-and-forward sender against a local HTTP receiver that answers as scripted, over a real TSDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { labelsFromRecord } from '../../../appliance/model/labels.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import { STALE_NAN, STALE_NAN_BITS } from '../../../appliance/model/sample.ts';
import { compileRelabel, RELABEL_DEFAULTS } from '../../../appliance/model/relabel.ts';
import type { WriteClient } from '../../../appliance/remote/client.ts';
import { HttpWriteClient } from '../../../appliance/remote/client.ts';
import type { SenderOptions } from '../../../appliance/remote/sender.ts';
import { RemoteSender } from '../../../appliance/remote/sender.ts';
import {
  decodeWriteRequestV1,
  decodeWriteRequestV2,
  snappyDecompress,
} from '../../../appliance/remote/wire.ts';
import type { Tsdb } from '../../../appliance/tsdb/db.ts';
import { fakeClock, openTsdb, tempDir } from '../tsdb/helpers.ts';

const T0 = Date.UTC(2026, 10, 25, 12);

interface Received {
  headers: http.IncomingHttpHeaders;
  series: ReturnType<typeof decodeWriteRequestV1>['series'];
}

/** A receiver on 127.0.0.1 whose answers come from `script` (the last entry repeats). */
async function receiver(script: { status: number; body?: string; headers?: Record<string, string> }[]) {
  const received: Received[] = [];
  let i = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = script[Math.min(i++, script.length - 1)]!;
      if (answer.status < 300) {
        const body = snappyDecompress(Buffer.concat(chunks), 64 << 20);
        received.push({ headers: req.headers, series: decodeWriteRequestV1(body).series });
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  return {
    url,
    received,
    requests: () => i,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function fill(db: Tsdb, minutes: number): void {
  const a = db.appender();
  const up = labelsFromRecord({ __name__: 'up', job: 'pos', instance: 'till-1' });
  const sales = labelsFromRecord({ __name__: 'pos_sales_total', job: 'pos', store: 'inner' });
  for (let i = 0; i < minutes * 4; i++) {
    const t = T0 + i * 15_000;
    a.append(0, up, t, i === minutes * 4 - 1 ? STALE_NAN : 1);
    a.append(0, sales, t, i * 3);
    a.commit();
  }
}

function sender(
  db: Tsdb,
  url: string,
  clockNow: () => number,
  extra: Partial<SenderOptions> = {},
): RemoteSender {
  return new RemoteSender({ ...senderOptions(db, url, clockNow), ...extra });
}

function senderOptions(db: Tsdb, url: string, clockNow: () => number): SenderOptions {
  return {
    name: 'central',
    client: new HttpWriteClient({
      url,
      http: {
        tls_config: { insecure_skip_verify: false, min_version: 'TLS12' },
        follow_redirects: false,
        enable_http2: false,
      },
      timeoutMs: 5000,
      headers: {},
      userAgent: 'storewatch/test',
      retryOn429: false,
    }),
    storage: db,
    cursors: db,
    logger: silentLogger,
    now: clockNow,
    sleep: (ms, signal) =>
      new Promise((r) => {
        const t = setTimeout(r, Math.min(ms, 20));
        signal.addEventListener('abort', () => {
          clearTimeout(t);
          r();
        });
      }),
    externalLabels: { store: 's001' },
    maxSamplesPerSend: 50,
    batchSendDeadlineMs: 10,
    minBackoffMs: 1,
    maxBackoffMs: 5,
    sampleAgeLimitMs: 0,
    readLagMs: 0,
    stepMs: 60_000,
    bandwidthLimit: 0,
    shards: 1,
    writeRelabel: [],
    protobufMessage: 'prometheus.WriteRequest',
    catchUp: 'oldest-first',
    backfillWindows: [],
    minuteOfDay: (t) => Math.floor(t / 60_000) % 1440,
  };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('ships every stored sample in order with sorted labels, external labels and exact stale bits; resumes from the cursor', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  try {
    fill(db, 30);
    const s = sender(db, rx.url, clock.now);
    s.start();
    await until(() => s.status().samplesSent === 240);
    await s.stop();
    assert.equal(rx.received[0]!.headers['content-encoding'], 'snappy');
    assert.equal(rx.received[0]!.headers['x-prometheus-remote-write-version'], '0.1.0');
    const bySeries = new Map<string, { t: number; bits: bigint }[]>();
    for (const r of rx.received) {
      for (const x of r.series) {
        const names = x.labels.map((l) => l.name);
        assert.deepEqual(names, [...names].sort(), 'labels sorted');
        const key = x.labels.map((l) => `${l.name}=${l.value}`).join(',');
        bySeries.set(key, [...(bySeries.get(key) ?? []), ...x.samples]);
      }
    }
    assert.deepEqual([...bySeries.keys()].sort(), [
      '__name__=pos_sales_total,job=pos,store=inner',
      '__name__=up,instance=till-1,job=pos,store=s001',
    ]);
    const up = bySeries.get('__name__=up,instance=till-1,job=pos,store=s001')!;
    assert.equal(up.length, 120);
    assert.ok(
      up.every((x, i) => x.t === T0 + i * 15_000),
      'in order, nothing missing',
    );
    assert.equal(up.at(-1)!.bits, STALE_NAN_BITS);
    // A restarted sender resumes from the durable cursor: nothing is sent twice.
    const before = rx.requests();
    const again = sender(db, rx.url, clock.now);
    again.start();
    await new Promise((r) => setTimeout(r, 200));
    await again.stop();
    assert.equal(rx.requests(), before);
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('400 is dropped and counted, never retried; 500 is retried with backoff until it succeeds', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const bad = await receiver([{ status: 400, body: 'out of order sample' }]);
  try {
    fill(db, 5);
    const s = sender(db, bad.url, clock.now, { maxSamplesPerSend: 1000, stepMs: 3600_000 });
    s.start();
    await until(() => (s.status().samplesDropped.http_4xx ?? 0) === 40);
    await s.stop();
    assert.equal(bad.requests(), 1, 'a 4xx is not retried');
    assert.match(s.status().lastError, /HTTP 400: out of order sample/);
  } finally {
    bad.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const dir2 = tempDir();
  const db2 = openTsdb(dir2, clock);
  const flaky = await receiver([
    { status: 500 },
    { status: 503, headers: { 'Retry-After': '0' } },
    { status: 204 },
  ]);
  try {
    fill(db2, 5);
    const s = sender(db2, flaky.url, clock.now, { maxSamplesPerSend: 1000, stepMs: 3600_000 });
    s.start();
    await until(() => s.status().samplesSent === 40);
    await s.stop();
    assert.equal(flaky.requests(), 3);
    assert.equal(s.status().retries, 2);
  } finally {
    flaky.close();
    db2.close();
    fs.rmSync(dir2, { recursive: true, force: true });
  }
});

test('a receiver that answers 500 "too old" forever cannot block fresh data: sample_age_limit drops and counts', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3 * 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 500, body: 'too old sample' }]);
  try {
    fill(db, 5);
    const s = sender(db, rx.url, clock.now, { sampleAgeLimitMs: 3600_000, maxSamplesPerSend: 1000 });
    s.start();
    await until(() => (s.status().samplesDropped.too_old ?? 0) === 40);
    await s.stop();
    assert.equal(s.status().samplesSent, 0);
    assert.equal(rx.requests(), 0, 'samples past the age limit are not even sent');
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a request that never reached the receiver (a header node refuses) keeps the data and retries', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  try {
    fill(db, 5);
    const s = new RemoteSender({
      ...senderOptions(db, rx.url, clock.now),
      client: new HttpWriteClient({
        url: rx.url,
        http: {
          tls_config: { insecure_skip_verify: false, min_version: 'TLS12' },
          follow_redirects: false,
          enable_http2: false,
        },
        timeoutMs: 1000,
        headers: { 'X-Tenant': 'a\nb' },
        userAgent: 'storewatch/test',
        retryOn429: false,
      }),
    });
    s.start();
    await until(() => s.status().state === 'backing_off' && s.status().requests >= 2);
    await s.stop();
    assert.deepEqual(s.status().samplesDropped, {});
    assert.equal(rx.requests(), 0);
    assert.equal(db.loadCursor('central'), null, 'the cursor did not move past undelivered data');
    assert.notEqual(s.status().lastError, '');
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the bandwidth cap holds the wire rate to the limit (virtual time)', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  try {
    fill(db, 60);
    const limit = 500; // bytes per second
    const start = clock.now();
    const s = sender(db, rx.url, clock.now, {
      bandwidthLimit: limit,
      maxSamplesPerSend: 20,
      // Virtual time: sleeping advances the clock instead of waiting.
      sleep: (ms) => {
        clock.advance(ms);
        return new Promise((r) => setImmediate(r));
      },
      batchSendDeadlineMs: 1000,
    });
    s.start();
    await until(() => s.status().samplesSent === 480);
    await s.stop();
    const st = s.status();
    // Up to the last acknowledged request: the idle loop afterwards also moves virtual time.
    const elapsed = (st.lastSuccess! - start) / 1000;
    // The bucket starts with one second of budget; past that the rate is the limit.
    const rate = (st.bytesSent - limit) / elapsed;
    assert.ok(st.bytesSent > 5 * limit, `enough traffic to measure: ${st.bytesSent} bytes`);
    assert.ok(
      rate <= limit * 1.1 && rate >= limit * 0.9,
      `rate ${rate.toFixed(0)} B/s against a cap of ${limit}`,
    );
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the bandwidth cap charges bytes on the wire, not attempts that never connected', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  try {
    fill(db, 60);
    for (const connected of [false, true]) {
      // A receiver unreachable for 30 attempts (connected: false), or one that took the bytes and failed.
      let attempts = 0;
      let firstSuccessAt: number | null = null;
      const start = clock.now();
      const client: WriteClient = {
        store: () => {
          if (++attempts <= 30)
            return Promise.resolve({
              kind: 'retryable',
              status: null,
              message: 'down',
              retryAfterMs: null,
              connected,
            });
          firstSuccessAt ??= clock.now();
          return Promise.resolve({ kind: 'success', status: 204, samplesWritten: null });
        },
        close: () => {},
      };
      const s = sender(db, 'http://127.0.0.1:1/unused', clock.now, {
        name: `central-${connected}`,
        client,
        bandwidthLimit: 500,
        maxSamplesPerSend: 20,
        sleep: (ms) => {
          clock.advance(ms);
          return new Promise((r) => setImmediate(r));
        },
      });
      s.start();
      await until(() => firstSuccessAt !== null);
      await s.stop();
      const waited = (firstSuccessAt! - start) / 1000;
      // 30 backoffs of at most 5 ms when nothing was charged; 30 requests' worth of budget (many seconds at
      // 500 B/s) when every attempt put the bytes on the wire.
      if (connected) assert.ok(waited > 5, `charged attempts throttle: ${waited} s`);
      else assert.ok(waited < 1, `unconnected attempts are not charged: waited ${waited} s`);
    }
  } finally {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Every sample timestamp the receiver got, in arrival order. */
function arrivals(rx: { received: Received[] }): number[] {
  return rx.received.flatMap((r) => r.series.flatMap((x) => x.samples.map((s) => s.t)));
}

test('live-first: current data goes first, the backlog is filled in behind it, everything exactly once', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 30 * 60_000 + 10_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  try {
    const a = db.appender();
    const up = labelsFromRecord({ __name__: 'up', job: 'pos' });
    for (let i = 0; i < 120; i++) a.append(0, up, T0 + i * 15_000, i);
    a.commit();
    db.saveCursor('central', T0 - 1); // delivered up to the start of the backlog
    const s = sender(db, rx.url, clock.now, {
      catchUp: 'live-first',
      stepMs: 60_000,
      maxSamplesPerSend: 1000,
    });
    s.start();
    await until(() => s.status().samplesSent === 120);
    await s.stop();
    const got = arrivals(rx);
    assert.equal(new Set(got).size, 120, 'no duplicates');
    assert.ok(got[0]! >= T0 + 28 * 60_000, `the first request carried live data, got ${got[0]! - T0} ms`);
    assert.deepEqual(
      [...got].sort((x, y) => x - y),
      Array.from({ length: 120 }, (_, i) => T0 + i * 15_000),
    );
    assert.equal(s.status().liveThrough, null, 'live and backlog joined again');
    assert.ok(s.status().sentThrough! >= T0 + 119 * 15_000);
    assert.equal(db.loadCursor('central#live'), null);
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('backfill windows: outside them a destination that is behind holds its backlog (live-first still sends live data)', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 30 * 60_000 + 10_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  try {
    const a = db.appender();
    const up = labelsFromRecord({ __name__: 'up', job: 'pos' });
    for (let i = 0; i < 120; i++) a.append(0, up, T0 + i * 15_000, i);
    a.commit();
    db.saveCursor('central', T0 - 1);
    const nowMinute = Math.floor(clock.now() / 60_000) % 1440;
    // A one-hour window that starts two hours from now: closed at the moment.
    const closed = [{ start: (nowMinute + 120) % 1440, end: (nowMinute + 180) % 1440 }];
    const strict = sender(db, rx.url, clock.now, { backfillWindows: closed });
    strict.start();
    await until(() => strict.status().state === 'waiting_for_window');
    await strict.stop();
    assert.equal(rx.requests(), 0, 'oldest-first sends nothing out of order and waits for the window');

    const live = sender(db, rx.url, clock.now, {
      backfillWindows: closed,
      catchUp: 'live-first',
      maxSamplesPerSend: 1000,
    });
    live.start();
    await until(() => live.status().samplesSent > 0 && live.status().state === 'waiting_for_window');
    await live.stop();
    const got = arrivals(rx);
    assert.ok(got.length > 0 && got.every((t) => t >= T0 + 28 * 60_000), 'only live data went');
    assert.equal(live.status().sentThrough, T0 - 1, 'the backlog cursor did not move');
    // The window opens: the backlog drains and the cursors join.
    const open = sender(db, rx.url, clock.now, { catchUp: 'live-first', maxSamplesPerSend: 1000 });
    open.start();
    await until(
      () => open.status().liveThrough === null && (open.status().sentThrough ?? 0) >= T0 + 119 * 15_000,
    );
    await open.stop();
    assert.equal(new Set(arrivals(rx)).size, 120);
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('shards send in parallel, bounded, and keep each series in timestamp order', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  let inFlight = 0;
  let maxInFlight = 0;
  const perSeries = new Map<string, number[]>();
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const x of decodeWriteRequestV1(snappyDecompress(Buffer.concat(chunks), 1 << 24)).series) {
        const key = x.labels.map((l) => `${l.name}=${l.value}`).join(',');
        perSeries.set(key, [...(perSeries.get(key) ?? []), ...x.samples.map((s) => s.t)]);
      }
      // Answer a little later, so that requests overlap.
      setTimeout(() => {
        inFlight--;
        res.writeHead(204);
        res.end();
      }, 20);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  try {
    const a = db.appender();
    const series = Array.from({ length: 40 }, (_, k) => labelsFromRecord({ __name__: 'm', k: String(k) }));
    for (let i = 0; i < 30; i++) {
      for (const l of series) a.append(0, l, T0 + i * 1000, i);
      a.commit();
    }
    const s = sender(db, url, clock.now, { shards: 4, maxSamplesPerSend: 10 });
    s.start();
    await until(() => s.status().samplesSent === 1200);
    await s.stop();
    assert.ok(maxInFlight > 1, `requests overlapped (max ${maxInFlight})`);
    assert.ok(maxInFlight <= 4, `at most 4 in flight, saw ${maxInFlight}`);
    assert.equal(perSeries.size, 40);
    for (const [key, ts] of perSeries) {
      assert.deepEqual(
        ts,
        Array.from({ length: 30 }, (_, i) => T0 + i * 1000),
        `order of ${key}`,
      );
    }
  } finally {
    server.closeAllConnections();
    server.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('write_relabel_configs apply after external labels; dropped series are not sent', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  try {
    fill(db, 5);
    const s = sender(db, rx.url, clock.now, {
      writeRelabel: [
        compileRelabel({
          ...RELABEL_DEFAULTS,
          source_labels: ['__name__'],
          regex: 'pos_.*',
          action: 'drop',
          modulus: 0,
          target_label: '',
        }),
        compileRelabel({ ...RELABEL_DEFAULTS, source_labels: ['store'], target_label: 'site', modulus: 0 }),
      ],
    });
    s.start();
    await until(() => s.status().samplesSent === 20);
    await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    const names = new Set(
      rx.received.flatMap((r) => r.series.map((x) => x.labels.map((l) => `${l.name}=${l.value}`).join(','))),
    );
    assert.deepEqual([...names], ['__name__=up,instance=till-1,job=pos,site=s001,store=s001']);
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the status estimates the backlog from the store and the drain rate from deliveries', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const down = await receiver([{ status: 503 }]);
  try {
    fill(db, 10); // 80 samples
    const s = sender(db, down.url, clock.now, { estimateSince: (t) => db.estimateSince(t) });
    db.saveCursor('central', T0 - 1);
    const fresh = sender(db, down.url, clock.now, { estimateSince: (t) => db.estimateSince(t) });
    const st = fresh.status();
    assert.equal(st.backlogSamples, 80, 'everything after the cursor is queued');
    assert.ok((st.backlogBytes ?? 0) > 0);
    assert.equal(st.etaSeconds, null, 'nothing drains yet');
    void s;
  } finally {
    down.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('remote write 2.0 to a receiver that speaks it: symbols, metadata and written counts, no fallback', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const got: ReturnType<typeof decodeWriteRequestV2>['series'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      assert.match(String(req.headers['content-type']), /proto=io\.prometheus\.write\.v2\.Request/);
      const series = decodeWriteRequestV2(snappyDecompress(Buffer.concat(chunks), 1 << 24)).series;
      got.push(...series);
      const n = series.reduce((a, s) => a + s.samples.length, 0);
      res.writeHead(204, { 'X-Prometheus-Remote-Write-Samples-Written': String(n) });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
  try {
    fill(db, 5);
    const s = sender(db, url, clock.now, {
      protobufMessage: 'io.prometheus.write.v2.Request',
      metadata: () =>
        new Map([
          ['pos_sales', { family: 'pos_sales', type: 'counter' as const, help: 'Sales rung up.', unit: '' }],
        ]),
    });
    s.start();
    await until(() => s.status().samplesSent === 40);
    await s.stop();
    const sales = got.find((x) => x.labels.some((l) => l.value === 'pos_sales_total'))!;
    assert.deepEqual(sales.metadata, { type: 'counter', help: 'Sales rung up.', unit: '' });
    assert.equal(s.status().retries, 0, 'no retries, no fallback to 1.0');
  } finally {
    server.closeAllConnections();
    server.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('catching up reads the backlog span by span (each chunk once), and data stored later still goes', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3 * 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 204 }]);
  let selects = 0;
  // Counts how often the sender asks the storage for series; everything else goes to the real TSDB.
  const counting = {
    querier: () => {
      const q = db.querier();
      return {
        select: (...a: Parameters<typeof q.select>) => {
          selects++;
          return q.select(...a);
        },
        labelNames: q.labelNames.bind(q),
        labelValues: q.labelValues.bind(q),
      };
    },
  };
  try {
    fill(db, 120); // Two hours at 15 s: one TSDB window, 480 samples per series.
    db.maintain({ forceFlush: true });
    const s = sender(db, rx.url, clock.now, { storage: counting, maxSamplesPerSend: 100 });
    s.start();
    await until(() => s.status().samplesSent === 960);
    // One select to find the oldest sample, one for the span; 60 s steps re-selecting would need 120.
    assert.ok(selects <= 4, `${selects} selects`);
    const later = labelsFromRecord({ __name__: 'pos_sales_total', job: 'pos', store: 'inner' });
    const a = db.appender();
    // Stamped after the time the sender has read up to (a scrape commits before its read lag passes).
    a.append(0, later, T0 + 3 * 3600_000 + 30_000, 7);
    a.commit();
    clock.advance(60_000);
    await until(() => s.status().samplesSent === 961);
    await s.stop();
    const times = rx.received
      .flatMap((r) => r.series)
      .filter((x) => x.labels.some((l) => l.value === 'pos_sales_total'))
      .flatMap((x) => x.samples.map((p) => p.t));
    assert.equal(times.length, 481);
    assert.ok(
      times.every((t, i) => i === 0 || t > times[i - 1]!),
      'in order',
    );
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a replacement sender (a reload) carries the totals and last error of the one it replaces', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  const db = openTsdb(dir, clock);
  const rx = await receiver([{ status: 400, body: 'bad labels' }, { status: 204 }]);
  try {
    fill(db, 5);
    const first = sender(db, rx.url, clock.now);
    first.start();
    await until(() => first.status().samplesSent + (first.status().samplesDropped.http_4xx ?? 0) === 40);
    await first.stop();
    const carried = first.counters();
    const second = sender(db, rx.url, clock.now, { carryOver: carried });
    const st = second.status();
    assert.equal(st.samplesSent, first.status().samplesSent);
    assert.equal(st.requests, first.status().requests);
    assert.deepEqual(st.samplesDropped, first.status().samplesDropped);
    assert.match(st.lastError, /HTTP 400: bad labels/);
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function started(s: RemoteSender): RemoteSender {
  s.start();
  return s;
}

/**
 * A receiver that answers the first `answered` requests and holds every later one unanswered: their data
 * arrived, but the sender never hears so, as with the batches in flight when a process dies. `arrivals` has
 * every timestamp per series, in arrival order, repeats included.
 */
async function holdingReceiver(answered: number) {
  const arrivals = new Map<string, number[]>();
  const held: http.ServerResponse[] = [];
  let holding = true;
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      for (const x of decodeWriteRequestV1(snappyDecompress(Buffer.concat(chunks), 1 << 24)).series) {
        const key = x.labels.map((l) => `${l.name}=${l.value}`).join(',');
        arrivals.set(key, [...(arrivals.get(key) ?? []), ...x.samples.map((smp) => smp.t)]);
      }
      if (holding && n >= answered) {
        held.push(res);
        return;
      }
      n++;
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    arrivals,
    /** Samples received, each (series, timestamp) once. */
    unique: () => [...arrivals.values()].reduce((k, ts) => k + new Set(ts).size, 0),
    /** Samples received more than once. */
    twice: () => [...arrivals.values()].reduce((k, ts) => k + ts.length - new Set(ts).size, 0),
    /** Waits until requests are held and nothing more arrives, stops `s` (the crash), returns how many were held. */
    async crash(s: RemoteSender): Promise<number> {
      // Reading stops once a shard has two batches waiting behind a held one.
      await until(() => held.length > 0);
      await new Promise((r) => setTimeout(r, 300));
      const inFlight = held.length;
      await s.stop();
      holding = false;
      for (const res of held) res.destroy();
      return inFlight;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

test('a step cut short resumes from its shards saved progress: only the batches in flight are sent twice, even with another shard count', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0 + 3600_000);
  let db = openTsdb(dir, clock);
  const rx = await holdingReceiver(10);
  try {
    // 40 series × 30 minutes at 15 s, an hour behind: 10-minute steps of 1,600 samples, 32 batches each.
    const a = db.appender();
    const series = Array.from({ length: 40 }, (_, k) => labelsFromRecord({ __name__: 'm', k: String(k) }));
    for (let i = 0; i < 120; i++) {
      for (const l of series) a.append(0, l, T0 + i * 15_000, i);
      a.commit();
    }
    const inFlight = await rx.crash(
      started(sender(db, rx.url, clock.now, { shards: 4, maxSamplesPerSend: 50 })),
    );
    assert.ok(inFlight <= 4, `at most one request per shard in flight, saw ${inFlight}`);
    assert.equal(db.loadCursor('central'), null, 'the first step did not finish');
    assert.ok(db.loadStepProgress('central').length > 0, 'the shards saved their progress');
    db.close();
    db = openTsdb(dir, clock);
    const second = sender(db, rx.url, clock.now, { shards: 3, maxSamplesPerSend: 50 });
    second.start();
    await until(() => rx.unique() === 40 * 120);
    await until(() => (db.loadCursor('central') ?? 0) >= T0 + 119 * 15_000);
    await second.stop();
    // Only the held batches (at most 50 samples each) go twice; without step progress the 10 acknowledged
    // batches would go again too.
    const twice = rx.twice();
    assert.ok(twice <= inFlight * 50, `${twice} samples sent twice, ${inFlight} batches were in flight`);
    assert.ok(twice > 0, 'the held batches were sent again');
    for (const [key, ts] of rx.arrivals) {
      const counts = new Map<number, number>();
      for (const t of ts) counts.set(t, (counts.get(t) ?? 0) + 1);
      assert.ok(Math.max(...counts.values()) <= 2, `${key}: nothing sent more than twice`);
    }
    assert.deepEqual(db.loadStepProgress('central'), [], 'finished steps leave no progress behind');
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('caught up, steps come from the storage memory; a step cut short there resumes through a query, only the batches in flight twice', async () => {
  const dir = tempDir();
  const clock = fakeClock(T0);
  let db = openTsdb(dir, clock);
  const rx = await holdingReceiver(6);
  try {
    const series = Array.from({ length: 40 }, (_, k) => labelsFromRecord({ __name__: 'm', k: String(k) }));
    const a = db.appender();
    for (let i = 0; i < 5; i++) {
      for (const l of series) a.append(0, l, T0 + i * 1000, i === 4 && l === series[7] ? STALE_NAN : i);
      a.commit();
      clock.advance(1000);
    }
    let fromMemory = 0;
    const first = sender(db, rx.url, clock.now, {
      shards: 2,
      maxSamplesPerSend: 10,
      recent: {
        recentSamples: (from, to) => {
          const b = db.recentSamples(from, to);
          if (b !== null && b.t.length > 0) fromMemory++;
          return b;
        },
      },
    });
    const inFlight = await rx.crash(started(first));
    assert.equal(fromMemory, 1, 'the step was read from memory');
    assert.ok(db.loadStepProgress('central').length > 0, 'its shards saved their progress');
    db.close();
    db = openTsdb(dir, clock);
    const second = sender(db, rx.url, clock.now, { shards: 2, maxSamplesPerSend: 10, recent: db });
    second.start();
    await until(() => rx.unique() === 200);
    await second.stop();
    for (const [key, ts] of rx.arrivals) {
      assert.deepEqual(
        [...new Set(ts)],
        [0, 1, 2, 3, 4].map((i) => T0 + i * 1000),
        `${key}: all, in order`,
      );
    }
    const twice = rx.twice();
    assert.ok(twice <= inFlight * 10, `${twice} samples sent twice, ${inFlight} batches were in flight`);
  } finally {
    rx.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
