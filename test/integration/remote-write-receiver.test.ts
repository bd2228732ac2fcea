// Our remote-write encoder against a real receiver: Prometheus 2.42 (Debian 12) with
// --web.enable-remote-write-receiver on a free loopback port. What we send must come back from its query API
// with identical timestamps and values, a StaleNaN must end the series, and its answers to a v2 body and to
// garbage are recorded here.
//
// Prometheus 2.42 is lenient (it accepts unsorted labels and empty names), so it cannot catch encoder
// mistakes in label handling; the unit tests' strict decoder does that. This test proves interoperability.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Labels } from '../../appliance/model/labels.ts';
import type { WireSeries } from '../../appliance/remote/wire.ts';
import {
  encodeWriteRequestV1,
  encodeWriteRequestV2,
  RW1_HEADERS,
  RW2_HEADERS,
  snappyCompress,
  validateSeries,
} from '../../appliance/remote/wire.ts';
import type { ProcessHandle, TempDir } from './peers.ts';
import { freePort, requireBinary, spawnProcess, tempDir, waitFor } from './peers.ts';

const STALE_BITS = 0x7ff0000000000002n;
const NAN_BITS = 0x7ff8000000000001n;
const USER_AGENT = 'storewatch-test/0.1.0';

function valuesFromBits(bits: readonly bigint[]): Float64Array {
  const out = new Float64Array(bits.length);
  const raw = new BigUint64Array(out.buffer);
  bits.forEach((b, i) => (raw[i] = b));
  return out;
}

function bitsOfNumber(v: number): bigint {
  return new BigUint64Array(new Float64Array([v]).buffer)[0]!;
}

function labels(rec: Record<string, string>): Labels {
  return Object.keys(rec)
    .sort()
    .map((name) => ({ name, value: rec[name]! }));
}

/** Prometheus's JSON value strings (Go's FormatFloat 'f', -1) back to numbers. */
function parsePromValue(s: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  const v = Number(s);
  assert.ok(!Number.isNaN(v), `unparseable value ${s}`);
  return v;
}

/** Seconds with millisecond precision, as the query API takes `time`. */
function promTime(ms: number): string {
  return (ms / 1000).toFixed(3);
}

interface QueryResult {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
}

describe('remote write into Prometheus 2.42', () => {
  let dir: TempDir | undefined;
  let prom: ProcessHandle | undefined;
  let base = '';

  before(async () => {
    // A missing binary throws here with the install command: the tests fail, they are never skipped.
    const bin = requireBinary('prometheus', 'prometheus');
    dir = await tempDir('storewatch-prom-rw-');
    const config = path.join(dir.path, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global: {scrape_interval: 15s}',
        'storage:',
        '  tsdb:',
        '    out_of_order_time_window: 30m',
        'scrape_configs: []',
        '',
      ].join('\n'),
    );
    let lastFailure = '';
    // A few attempts, because the free port may be taken between freePort() and Prometheus's bind.
    for (let attempt = 0; attempt < 3 && prom === undefined; attempt++) {
      const port = await freePort();
      const proc = spawnProcess(bin, [
        `--config.file=${config}`,
        `--storage.tsdb.path=${path.join(dir.path, `data-${attempt}`)}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--storage.tsdb.retention.time=2h',
      ]);
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitFor(async () => {
          if (proc.hasExited()) throw new Error(`exited early: ${proc.output()}`);
          const res = await fetch(`${url}/-/ready`);
          await res.arrayBuffer();
          return res.ok;
        }, 30_000);
        prom = proc;
        base = url;
      } catch (err) {
        await proc.stop('SIGKILL');
        lastFailure = `${String(err)}\n${proc.output()}`;
      }
    }
    if (prom === undefined) throw new Error(`prometheus did not become ready: ${lastFailure}`);
  });

  after(async () => {
    await prom?.stop();
    await dir?.remove();
  });

  async function write(
    body: Uint8Array,
    headers: Readonly<Record<string, string>> = RW1_HEADERS,
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(`${base}/api/v1/write`, {
      method: 'POST',
      headers: { ...headers, 'User-Agent': USER_AGENT },
      body,
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  async function query(expr: string, timeMs: number): Promise<QueryResult[]> {
    const url = `${base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${promTime(timeMs)}`;
    const res = await fetch(url);
    const json = (await res.json()) as { status: string; data: { result: QueryResult[] }; error?: string };
    assert.equal(res.status, 200, `${expr}: ${json.error ?? ''}`);
    assert.equal(json.status, 'success');
    return json.data.result;
  }

  test('every timestamp and value comes back identical, labels included', async () => {
    const now = Date.now();
    const specials = [
      NAN_BITS,
      bitsOfNumber(Infinity),
      bitsOfNumber(-Infinity),
      0x8000000000000000n, // -0
      0n,
      1n, // 5e-324
      bitsOfNumber(Number.MAX_VALUE),
      bitsOfNumber(0.1),
      bitsOfNumber(1 / 3),
      bitsOfNumber(-1e-300),
      bitsOfNumber(123456789.123),
      bitsOfNumber(2 ** 53 + 2),
    ];
    const n = 40;
    // Irregular timestamps (not on a 1s grid), ending a few seconds ago, inside the 30m OOO window.
    const timestamps = Array.from({ length: n }, (_, i) => now - 5_000 - (n - 1 - i) * 7_013);
    const bits = timestamps.map((_, i) => specials[i] ?? bitsOfNumber((i * 7919) / 13 - 1000));
    const series: WireSeries[] = [
      {
        labels: labels({ __name__: 'rw_roundtrip', store: 's001', till: 'Kasse 3 – Café ☕ 𝄞 名前' }),
        timestamps,
        values: valuesFromBits(bits),
      },
      {
        labels: labels({ __name__: 'rw_roundtrip', store: 's002', till: 'plain' }),
        timestamps: [timestamps[0]!, timestamps[n - 1]!],
        values: valuesFromBits([bitsOfNumber(1), bitsOfNumber(2)]),
      },
    ];
    for (const s of series) assert.equal(validateSeries(s), null);

    const res = await write(snappyCompress(encodeWriteRequestV1(series)));
    assert.equal(res.status, 204, res.text);

    const result = await query('rw_roundtrip[10m]', now);
    assert.equal(result.length, 2);
    for (const s of series) {
      const want = Object.fromEntries(s.labels.map((l) => [l.name, l.value]));
      const got = result.find((r) => r.metric.store === want.store);
      assert.ok(got?.values, `series ${want.store} missing`);
      assert.deepEqual(got.metric, want);
      assert.equal(got.values.length, s.timestamps.length);
      got.values.forEach(([sec, str], i) => {
        assert.equal(Math.round(sec * 1000), s.timestamps[i], `timestamp ${i}`);
        const sent = s.values[i]!;
        const back = parsePromValue(str);
        // NaN payloads do not survive JSON; every other value must be identical, -0 included.
        if (Number.isNaN(sent)) assert.ok(Number.isNaN(back), `value ${i}: ${str}`);
        else assert.ok(Object.is(back, sent), `value ${i}: sent ${sent}, got ${str}`);
      });
    }
  });

  test('a StaleNaN ends the series; an ordinary NaN does not', async () => {
    const t0 = Date.now() - 5 * 60_000;
    const ts = [t0, t0 + 15_000, t0 + 30_000, t0 + 45_000];
    const series: WireSeries[] = [
      {
        labels: labels({ __name__: 'rw_stale', store: 's001' }),
        timestamps: ts,
        values: valuesFromBits([bitsOfNumber(1), bitsOfNumber(2), bitsOfNumber(3), STALE_BITS]),
      },
      {
        labels: labels({ __name__: 'rw_nan_control', store: 's001' }),
        timestamps: ts,
        values: valuesFromBits([bitsOfNumber(1), bitsOfNumber(2), bitsOfNumber(3), NAN_BITS]),
      },
    ];
    const res = await write(snappyCompress(encodeWriteRequestV1(series)));
    assert.equal(res.status, 204, res.text);

    const before = await query('rw_stale', t0 + 40_000);
    assert.equal(before.length, 1);
    assert.equal(before[0]!.value?.[1], '3');
    // Without the marker the 5m lookback would still return 3 here; a quieted NaN would return "NaN".
    assert.deepEqual(await query('rw_stale', t0 + 45_001), []);
    assert.deepEqual(await query('rw_stale', t0 + 120_000), []);

    const control = await query('rw_nan_control', t0 + 45_001);
    assert.equal(control.length, 1);
    assert.equal(control[0]!.value?.[1], 'NaN');
  });

  test('a v2 body is taken for an empty v1 message (2.42 ignores the content type)', async () => {
    // Observed with Prometheus 2.42.0+ds-5+deb12u1: the handler does not look at Content-Type, so the v2 body
    // is parsed with the v1 schema. Fields 4 (symbols) and 5 (timeseries) are unknown to prometheus.WriteRequest
    // and skipped: the result is an empty request, answered 204 with none of the
    // X-Prometheus-Remote-Write-*-Written headers, and nothing is stored. This is exactly the case the 2.0 spec
    // tells senders to treat as 415 (fall back to v1). Receivers that understand 2.0 need Prometheus >= 2.54.
    const now = Date.now();
    const series: WireSeries[] = [
      {
        labels: labels({ __name__: 'rw_v2_probe', store: 's001' }),
        timestamps: [now - 2_000],
        values: new Float64Array([42]),
      },
    ];
    const res = await write(snappyCompress(encodeWriteRequestV2(series)), RW2_HEADERS);
    assert.equal(res.status, 204, res.text);
    for (const h of ['Samples', 'Histograms', 'Exemplars']) {
      assert.equal(res.headers.get(`X-Prometheus-Remote-Write-${h}-Written`), null, h);
    }
    assert.deepEqual(await query('rw_v2_probe[5m]', now), []);

    // The same series as v1 is stored, so the empty result above is not a query mistake.
    const v1 = await write(snappyCompress(encodeWriteRequestV1(series)));
    assert.equal(v1.status, 204, v1.text);
    assert.equal((await query('rw_v2_probe[5m]', now)).length, 1);
  });

  test('garbage is refused with 400', async () => {
    const garbage = Uint8Array.from(Buffer.from('this is not snappy at all'));
    const res = await write(garbage);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /snappy/);

    assert.equal((await write(new Uint8Array(0))).status, 400);

    // Valid snappy around invalid protobuf: a timeseries field declaring 4 GiB.
    const badProto = await write(snappyCompress(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f)));
    assert.equal(badProto.status, 400, badProto.text);
  });
});
