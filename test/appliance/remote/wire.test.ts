// Remote-write wire format: round trips through our strict decoders, byte-exact encodings computed by hand,
// hostile inputs (garbage, truncation, oversize lengths, snappy bombs) and the sender-side validation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { uncompress } from 'snappyjs';
import type { Labels } from '../../../appliance/model/labels.ts';
import { ProtoReader, WireError } from '../../../appliance/remote/protobuf.ts';
import type { DecodedSeries, WireMetadata, WireSeries } from '../../../appliance/remote/wire.ts';
import {
  encodeLabelsV1,
  decodeWriteRequestV1,
  decodeWriteRequestV2,
  encodeWriteRequestV1,
  encodeWriteRequestV2,
  lookupFamilyMetadata,
  RW1_HEADERS,
  RW2_HEADERS,
  snappyCompress,
  snappyDecompress,
  validateSeries,
} from '../../../appliance/remote/wire.ts';

const STALE_BITS = 0x7ff0000000000002n;
const NAN_BITS = 0x7ff8000000000001n;
const FRAMED_MAGIC = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x50, 0x59];

/** A Float64Array filled from raw bits, so NaN payloads never pass through a JS number. */
function valuesFromBits(bits: readonly bigint[]): Float64Array {
  const out = new Float64Array(bits.length);
  const raw = new BigUint64Array(out.buffer);
  bits.forEach((b, i) => (raw[i] = b));
  return out;
}

/** Raw bits of every element, read through an integer view. */
function bitsOf(values: Float64Array): bigint[] {
  return [...new BigUint64Array(values.buffer, values.byteOffset, values.length)];
}

function bitsOfNumber(v: number): bigint {
  return bitsOf(new Float64Array([v]))[0]!;
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

function lbl(rec: Record<string, string>): Labels {
  return Object.keys(rec)
    .sort()
    .map((name) => ({ name, value: rec[name]! }));
}

/** What a decoder must return for `series`: labels as given, bits as stored. */
function expected(series: readonly WireSeries[]): DecodedSeries[] {
  return series.map((s) => ({
    labels: s.labels.map((l) => ({ name: l.name, value: l.value })),
    samples: bitsOf(s.values).map((bits, i) => ({ t: s.timestamps[i]!, bits })),
  }));
}

function stripMetadata(series: DecodedSeries[]): DecodedSeries[] {
  return series.map((s) => ({ labels: s.labels, samples: s.samples }));
}

/** Every interesting float64 bit pattern, including both NaNs and both zeros. */
const HOSTILE_BITS: readonly bigint[] = [
  STALE_BITS,
  NAN_BITS,
  bitsOfNumber(Infinity),
  bitsOfNumber(-Infinity),
  0x8000000000000000n, // -0
  0n, // +0 (omitted on the wire, decoded as the default)
  1n, // smallest subnormal
  bitsOfNumber(Number.MAX_VALUE),
  bitsOfNumber(0.1),
  bitsOfNumber(-123456.789),
  0xfff0000000000001n, // negative signalling NaN
];
const HOSTILE_TIMESTAMPS: readonly number[] = [
  Number.MIN_SAFE_INTEGER,
  -1_700_000_000_000,
  -1,
  0,
  1,
  127,
  128,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32,
  1_700_000_000_123,
  Number.MAX_SAFE_INTEGER,
];

function hostileSeries(): WireSeries[] {
  const ts = HOSTILE_TIMESTAMPS.slice(0, HOSTILE_BITS.length);
  return [
    {
      labels: lbl({ __name__: 'edge_temp_celsius', job: 'node', store: 's001' }),
      timestamps: ts,
      values: valuesFromBits(HOSTILE_BITS.slice(0, ts.length)),
    },
    {
      // Non-ASCII appears only in the last label, so the fast ASCII path has written part of the series
      // before it has to start over with exact UTF-8 lengths.
      labels: lbl({ __name__: 'pos_events_total', a: 'x', zz: 'Kasse 3 – Café ☕ 𝄞 名前 e\u0301' }),
      timestamps: new Float64Array([-5, 1_700_000_000_000]),
      values: valuesFromBits([STALE_BITS, NAN_BITS]),
    },
    {
      // Long strings need multi-byte length prefixes at every level.
      labels: lbl({ __name__: 'long_value', blob: 'x'.repeat(300), uni: 'ü'.repeat(200) }),
      timestamps: HOSTILE_TIMESTAMPS,
      values: valuesFromBits(HOSTILE_TIMESTAMPS.map((_, i) => HOSTILE_BITS[i % HOSTILE_BITS.length]!)),
    },
    { labels: lbl({ __name__: 'no_samples' }), timestamps: [], values: new Float64Array(0) },
  ];
}

describe('v1 encoding', () => {
  test('matches a hand-computed byte sequence', () => {
    const series: WireSeries[] = [
      {
        labels: lbl({ __name__: 'up', job: 'a' }),
        timestamps: [1000, -1, 5],
        values: valuesFromBits([bitsOfNumber(1), STALE_BITS, 0n]),
      },
    ];
    const metadata: WireMetadata[] = [{ family: 'up', type: 'gauge', help: 'h', unit: '' }];
    const want = [
      '0a 42', // WriteRequest.timeseries, 66 bytes
      '0a 0e', // TimeSeries.labels, 14 bytes
      '0a 08 5f 5f 6e 61 6d 65 5f 5f', // Label.name "__name__"
      '12 02 75 70', // Label.value "up"
      '0a 08', // TimeSeries.labels, 8 bytes
      '0a 03 6a 6f 62', // "job"
      '12 01 61', // "a"
      '12 0c', // TimeSeries.samples, 12 bytes
      '09 00 00 00 00 00 00 f0 3f', // value 1.0, little-endian
      '10 e8 07', // timestamp 1000
      '12 14', // 20 bytes
      '09 02 00 00 00 00 00 f0 7f', // StaleNaN, bit-exact
      '10 ff ff ff ff ff ff ff ff ff 01', // timestamp -1: 10-byte two's complement
      '12 02', // 2 bytes: value +0 omitted (proto3 default)
      '10 05', // timestamp 5
      '1a 09', // WriteRequest.metadata, 9 bytes
      '08 02', // type GAUGE
      '12 02 75 70', // metric_family_name "up"
      '22 01 68', // help "h" (the empty unit is omitted)
    ].join(' ');
    assert.equal(Buffer.from(encodeWriteRequestV1(series, metadata)).toString('hex'), want.replace(/ /g, ''));
  });

  test('round-trips hostile values, negative timestamps and unicode through the strict decoder', () => {
    const series = hostileSeries();
    const metadata: WireMetadata[] = [
      { family: 'pos_events', type: 'counter', help: 'Events at the till – ünïcode', unit: '' },
      { family: 'edge_temp_celsius', type: 'gauge', help: '', unit: 'celsius' },
      { family: 'x', type: 'stateset', help: '', unit: '' },
    ];
    const decoded = decodeWriteRequestV1(encodeWriteRequestV1(series, metadata));
    assert.deepEqual(decoded.series, expected(series));
    assert.deepEqual(decoded.metadata, metadata);
    assert.equal(decoded.series[0]!.samples[0]!.bits, STALE_BITS);
  });

  test('round-trips 10k series (the buffer grows past its estimate)', () => {
    const series: WireSeries[] = [];
    for (let i = 0; i < 10_000; i++) {
      const n = (i % 5) + 1;
      const ts = Array.from({ length: n }, (_, j) => 1_700_000_000_000 + j * 15_000 - i);
      const bits = ts.map((_, j) => (j === n - 1 && i % 7 === 0 ? STALE_BITS : bitsOfNumber(i * 0.5 + j)));
      series.push({
        labels: lbl({
          __name__: `m_${i % 13}`,
          instance: `10.0.${i % 256}.${i % 97}:9100`,
          long: 'v'.repeat(i % 400),
          n: `${i}`,
        }),
        timestamps: ts,
        values: valuesFromBits(bits),
      });
    }
    assert.deepEqual(decodeWriteRequestV1(encodeWriteRequestV1(series)).series, expected(series));
  });

  test('an empty request encodes to zero bytes', () => {
    assert.equal(encodeWriteRequestV1([]).length, 0);
    assert.deepEqual(decodeWriteRequestV1(new Uint8Array(0)), { series: [], metadata: [] });
  });

  test('a Float64Array view at an offset is read from the right place', () => {
    const backing = valuesFromBits([1n, STALE_BITS, NAN_BITS, 2n]);
    const view = backing.subarray(1, 3);
    const s: WireSeries = { labels: lbl({ __name__: 'm' }), timestamps: [1, 2], values: view };
    assert.deepEqual(
      decodeWriteRequestV1(encodeWriteRequestV1([s])).series[0]!.samples.map((x) => x.bits),
      [STALE_BITS, NAN_BITS],
    );
  });

  test('rejects what it cannot represent', () => {
    const labels = lbl({ __name__: 'm' });
    for (const bad of [
      { labels, timestamps: [1, 2], values: new Float64Array(1) },
      { labels, timestamps: [1.5], values: new Float64Array(1) },
      { labels, timestamps: [NaN], values: new Float64Array(1) },
      { labels, timestamps: [2 ** 53], values: new Float64Array(1) },
    ]) {
      assert.throws(() => encodeWriteRequestV1([bad]), WireError);
      assert.throws(() => encodeWriteRequestV2([bad]), WireError);
    }
    assert.throws(
      () => encodeWriteRequestV1([], [{ family: 'm', type: 'bogus' as 'gauge', help: '', unit: '' }]),
      WireError,
    );
  });
});

describe('v2 encoding', () => {
  test('matches a hand-computed byte sequence', () => {
    const series: WireSeries[] = [
      {
        labels: lbl({ __name__: 'up', job: 'a' }),
        timestamps: [1000],
        values: valuesFromBits([bitsOfNumber(1)]),
      },
    ];
    const md = new Map([['up', { family: 'up', type: 'gauge', help: 'h', unit: '' } as const]]);
    const want = [
      '22 00', // symbols[0] = ""
      '22 08 5f 5f 6e 61 6d 65 5f 5f', // 1 "__name__"
      '22 02 75 70', // 2 "up"
      '22 03 6a 6f 62', // 3 "job"
      '22 01 61', // 4 "a"
      '22 01 68', // 5 "h" (help)
      '2a 1a', // timeseries, 26 bytes
      '0a 04 01 02 03 04', // labels_refs, packed
      '12 0c 09 00 00 00 00 00 00 f0 3f 10 e8 07', // sample 1.0 @ 1000
      '2a 04 08 02 18 05', // metadata: type GAUGE, help_ref 5 (unit_ref 0 omitted)
    ].join(' ');
    assert.equal(Buffer.from(encodeWriteRequestV2(series, md)).toString('hex'), want.replace(/ /g, ''));
  });

  test('round-trips hostile values with a deduplicated symbol table starting with ""', () => {
    const series = hostileSeries();
    const body = encodeWriteRequestV2(series);
    assert.deepEqual(decodeWriteRequestV2(body).series, expected(series));

    // Read the symbol table directly: "" first, no duplicates, and every label string present.
    const symbols: string[] = [];
    const r = new ProtoReader(body);
    while (!r.done()) {
      const [field, wt] = r.tag();
      if (field === 4) symbols.push(r.string());
      else r.skip(wt);
    }
    assert.equal(symbols[0], '');
    assert.equal(new Set(symbols).size, symbols.length);
    const strings = new Set(['', ...series.flatMap((s) => s.labels.flatMap((l) => [l.name, l.value]))]);
    assert.deepEqual(new Set(symbols), strings);
  });

  test('round-trips 10k series', () => {
    const series: WireSeries[] = [];
    for (let i = 0; i < 10_000; i++) {
      series.push({
        labels: lbl({ __name__: `m_${i % 13}`, id: `${i}`, zone: i % 2 === 0 ? 'nord' : 'süd' }),
        timestamps: [i, i + 1],
        values: valuesFromBits([BigInt(i), i % 3 === 0 ? STALE_BITS : NAN_BITS]),
      });
    }
    assert.deepEqual(decodeWriteRequestV2(encodeWriteRequestV2(series)).series, expected(series));
  });

  test('attaches family metadata to each series by metric name', () => {
    const md = new Map<string, WireMetadata>([
      ['http_requests', { family: 'http_requests', type: 'counter', help: 'Requests.', unit: '' }],
      [
        'latency_seconds',
        { family: 'latency_seconds', type: 'histogram', help: 'Latency.', unit: 'seconds' },
      ],
      ['queue', { family: 'queue', type: 'gauge', help: 'Queue length.', unit: '' }],
      ['build', { family: 'build', type: 'info', help: '', unit: '' }],
    ]);
    const names = [
      'http_requests_total',
      'latency_seconds_bucket',
      'latency_seconds_count',
      'queue',
      'queue_count',
      'build_info',
    ];
    const series: WireSeries[] = names.map((n, i) => ({
      labels: lbl({ __name__: n, le: '+Inf' }),
      timestamps: [i + 1],
      values: new Float64Array([i]),
    }));
    const got = decodeWriteRequestV2(encodeWriteRequestV2(series, md)).series;
    assert.deepEqual(stripMetadata(got), expected(series));
    assert.deepEqual(
      got.map((s) => s.metadata),
      [
        { type: 'counter', help: 'Requests.', unit: '' },
        { type: 'histogram', help: 'Latency.', unit: 'seconds' },
        { type: 'histogram', help: 'Latency.', unit: 'seconds' },
        { type: 'gauge', help: 'Queue length.', unit: '' },
        undefined, // a gauge has no _count series: no borrowed metadata
        { type: 'info', help: '', unit: '' },
      ],
    );
  });

  test('lookupFamilyMetadata prefers the exact name and checks the suffix against the type', () => {
    const md = new Map<string, WireMetadata>([
      ['a_total', { family: 'a_total', type: 'gauge', help: 'exact', unit: '' }],
      ['a', { family: 'a', type: 'counter', help: 'family', unit: '' }],
      ['s', { family: 's', type: 'summary', help: '', unit: '' }],
      ['g', { family: 'g', type: 'gaugehistogram', help: '', unit: '' }],
    ]);
    assert.equal(lookupFamilyMetadata('a_total', md)?.help, 'exact');
    assert.equal(lookupFamilyMetadata('s_sum', md)?.family, 's');
    assert.equal(lookupFamilyMetadata('s_bucket', md), undefined);
    assert.equal(lookupFamilyMetadata('g_gcount', md)?.family, 'g');
    assert.equal(lookupFamilyMetadata('_total', md), undefined);
    assert.equal(lookupFamilyMetadata('nothing', md), undefined);
  });
});

describe('strict decoders', () => {
  const body = encodeWriteRequestV1(hostileSeries(), [
    { family: 'f', type: 'counter', help: 'h', unit: 'u' },
  ]);
  const bodyV2 = encodeWriteRequestV2(
    hostileSeries(),
    new Map([['long_value', { family: 'long_value', type: 'gauge', help: 'H', unit: 'U' } as const]]),
  );

  /** Offsets where a top-level field ends: a cut there leaves a valid, shorter message. */
  function topLevelBoundaries(b: Uint8Array): number[] {
    const out = [0];
    const r = new ProtoReader(b);
    while (!r.done()) {
      r.skip(r.tag()[1]);
      out.push(r.pos);
    }
    return out;
  }

  for (const [name, bytes, decode] of [
    ['v1', body, decodeWriteRequestV1],
    ['v2', bodyV2, decodeWriteRequestV2],
  ] as const) {
    test(`${name}: a cut at every byte either fails with WireError or lands on a field boundary`, () => {
      const boundaries = new Set(topLevelBoundaries(bytes));
      assert.ok(boundaries.size >= 3);
      for (let k = 0; k < bytes.length; k++) {
        const cut = bytes.subarray(0, k);
        if (boundaries.has(k)) {
          // v2 references may point at symbols that were cut away; v1 prefixes are always valid.
          if (name === 'v1') assert.doesNotThrow(() => decode(cut));
        } else {
          assert.throws(() => decode(cut), WireError, `cut at ${k} of ${bytes.length}`);
        }
      }
    });

    test(`${name}: random garbage throws only WireError`, () => {
      let seed = 12345;
      const rnd = (): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed >>> 16;
      };
      let failures = 0;
      for (let i = 0; i < 3000; i++) {
        const g = new Uint8Array(1 + (rnd() % 64));
        for (let j = 0; j < g.length; j++) g[j] = rnd() & 0xff;
        // Also corrupt one byte of a real body, which exercises deeper paths.
        const c = Uint8Array.from(bytes);
        c[rnd() % c.length] = rnd() & 0xff;
        for (const input of [g, c]) {
          try {
            decode(input);
          } catch (err) {
            assert.ok(err instanceof WireError, `unexpected ${String(err)}`);
            failures++;
          }
        }
      }
      assert.ok(failures > 1000, `only ${failures} inputs rejected`);
    });
  }

  test('rejects wire types 3, 4, 6 and 7, field 0 and wrong wire types for known fields', () => {
    for (const b of [
      '0b',
      '0c',
      '0e',
      '0f',
      '1b 00',
      '00 00',
      '02 00',
      '08 01',
      '09 00 00 00 00 00 00 00 00',
      '1d 00 00 00 00',
    ]) {
      assert.throws(() => decodeWriteRequestV1(hex(b)), WireError, b);
    }
    // Inside a series, a label sent as a varint and a sample value sent as fixed32.
    assert.throws(() => decodeWriteRequestV1(hex('0a 02 08 01')), WireError);
    assert.throws(() => decodeWriteRequestV1(hex('0a 07 12 05 0d 00 00 00 00')), WireError);
    assert.throws(() => decodeWriteRequestV2(hex('22 00 2a 02 12 00 2a 02 28 01')), WireError);
  });

  test('rejects oversize declared lengths and overlong varints', () => {
    for (const b of [
      '0a ff ff ff ff 0f', // 4 GiB - 1 declared, nothing there
      '0a 80 80 80 80 10', // 2^32: does not even fit a length
      '0a 05 0a 10 0a 01 61', // label longer than its series
      '0a 80 80 80 80 80 80 80 80 80 80 01', // 11-byte varint
      '0a 80 80 80 80 80 80 80 80 80 02', // 10th byte carries more than bit 64
      '0a 0b 12 09 10 80 80 80 80 80 80 80 80 01', // timestamp 2^63 is not a safe integer
      '0a 04 12 02 09 00', // fixed64 cut short
      '1a 02 08 08', // metric type 8 does not exist
      '1a 0b 08 ff ff ff ff ff ff ff ff ff 01', // metric type -1
      '0a 04 0a 02 0a ff', // truncated string length
      '0a 05 0a 03 0a 01 ff', // invalid UTF-8 in a label name
    ]) {
      assert.throws(() => decodeWriteRequestV1(hex(b)), WireError, b);
    }
  });

  test('skips unknown fields of every wire type at every level', () => {
    const unknown = '78 05 79 01 02 03 04 05 06 07 08 7a 02 aa bb 7d 01 02 03 04'; // fields 15: varint, fixed64, bytes, fixed32
    const n = (s: string): string => (s.replace(/ /g, '').length / 2).toString(16).padStart(2, '0');
    const label = `${unknown} 0a 01 61 ${unknown} 12 01 62`;
    const sample = `${unknown} 09 00 00 00 00 00 00 f0 3f ${unknown} 10 02`;
    const series = `0a ${n(label)} ${label} 12 ${n(sample)} ${sample} 22 00 ${unknown}`;
    const req = `${unknown} 0a ${n(series)} ${series} 12 00 ${unknown}`;
    assert.deepEqual(decodeWriteRequestV1(hex(req)).series, [
      { labels: [{ name: 'a', value: 'b' }], samples: [{ t: 2, bits: bitsOfNumber(1) }] },
    ]);
  });

  test('v2: checks the symbol table and references', () => {
    const ok = '22 00 22 01 61 2a 04 0a 02 01 01';
    assert.deepEqual(decodeWriteRequestV2(hex(ok)).series[0]!.labels, [{ name: 'a', value: 'a' }]);
    // Unpacked labels_refs are legal protobuf and must decode the same.
    assert.deepEqual(decodeWriteRequestV2(hex('22 00 22 01 61 2a 04 08 01 08 01')).series[0]!.labels, [
      { name: 'a', value: 'a' },
    ]);
    for (const b of [
      '22 01 61 2a 04 0a 02 00 00', // symbols[0] is not ""
      '22 00 22 01 61 2a 03 0a 01 01', // odd number of references
      '22 00 22 01 61 2a 04 0a 02 01 02', // reference past the table
      '22 00 2a 04 2a 02 18 07', // help_ref past the table
      '2a 04 0a 02 00 00', // references without any table
    ]) {
      assert.throws(() => decodeWriteRequestV2(hex(b)), WireError, b);
    }
  });

  test('a v2 body read as v1 is an empty message (what a v1-only receiver sees)', () => {
    assert.deepEqual(decodeWriteRequestV1(encodeWriteRequestV2(hostileSeries())), {
      series: [],
      metadata: [],
    });
  });
});

describe('snappy', () => {
  const inputs: Uint8Array[] = [
    new Uint8Array(0),
    Uint8Array.of(7),
    Uint8Array.from(Buffer.from('abcabcabcabcabcabcabcabcabcabcabcabcabc')),
    encodeWriteRequestV1(hostileSeries()),
    new Uint8Array(200_000).fill(0x61),
    Uint8Array.from({ length: 100_000 }, (_, i) => (Math.imul(i, 2654435761) >>> 13) & 0xff),
  ];

  test('round-trips, in block format (never the framed stream)', () => {
    for (const input of inputs) {
      const c = snappyCompress(input);
      assert.notDeepEqual([...c.subarray(0, FRAMED_MAGIC.length)], FRAMED_MAGIC);
      assert.notEqual(c[0], 0xff);
      // The block starts with the uvarint of the uncompressed length.
      let len = 0;
      for (let i = 0, shift = 0; ; i++, shift += 7) {
        len += (c[i]! & 0x7f) * 2 ** shift;
        if (c[i]! < 0x80) break;
      }
      assert.equal(len, input.length);
      assert.deepEqual(snappyDecompress(c, input.length), input);
      assert.deepEqual(Uint8Array.from(uncompress(c)), input); // and snappyjs agrees
    }
  });

  test('decodes hand-made blocks: literals, copies, overlapping copies', () => {
    assert.deepEqual(snappyDecompress(hex('03 08 61 62 63'), 10), Uint8Array.from(Buffer.from('abc')));
    // "ab" then copy offset 2 length 6 (1-byte-offset form: len-4 in bits 2-4) = "abababab".
    assert.deepEqual(snappyDecompress(hex('08 04 61 62 09 02'), 8), Uint8Array.from(Buffer.from('abababab')));
    // Same with the 2-byte-offset form, and a 61-byte literal with a 1-byte extra length.
    assert.deepEqual(
      snappyDecompress(hex('08 04 61 62 16 02 00'), 8),
      Uint8Array.from(Buffer.from('abababab')),
    );
    const lit = hex(`3d f0 3c ${'41 '.repeat(61)}`);
    assert.deepEqual(snappyDecompress(lit, 61), new Uint8Array(61).fill(0x41));
  });

  test('rejects bombs before allocating, and every malformed block', () => {
    for (const [b, max] of [
      ['ff ff ff ff 0f 00', 64 << 20], // declares 4 GiB - 1
      ['80 80 80 80 10 00', 64 << 20], // 2^32
      ['80 80 80 80 80 01', 64 << 20], // 6-byte length
      ['0b 28 61 62 63', 10], // 11 bytes declared, more than max 10
      ['', 10], // no length
      ['80', 10], // truncated length
      ['03', 10], // declared 3, nothing follows
      ['03 08 61 62', 10], // literal cut short
      ['02 08 61 62 63', 10], // literal longer than declared
      ['04 00 61 05 00', 10], // copy offset 0
      ['04 00 61 05 02', 10], // copy offset before the start
      ['05 00 61 05 01', 10], // copy past the declared length
      ['03 00 61', 10], // output shorter than declared
      ['03 f0', 10], // literal with missing extra length byte
      ['03 04 61 62 0a', 10], // 2-byte copy cut short
      ['03 04 61 62 0b 01 00', 10], // 4-byte copy cut short
    ] as const) {
      assert.throws(() => snappyDecompress(hex(b), max), WireError, b);
    }
    // A bomb is refused even when the limit itself is huge but the declared size is bigger still.
    assert.throws(() => snappyDecompress(hex('ff ff ff ff 0f'), 2 ** 31), WireError);
  });

  test('every strict prefix of a compressed block is rejected', () => {
    const c = snappyCompress(inputs[3]!);
    for (let k = 0; k < c.length; k++) {
      assert.throws(() => snappyDecompress(c.subarray(0, k), 1 << 20), WireError, `prefix ${k}`);
    }
  });
});

describe('validateSeries', () => {
  const good: WireSeries = {
    labels: lbl({ __name__: 'ns:metric_total', instance: '10.0.0.1:9100', job: 'node', note: 'Café ☕ 𝄞' }),
    timestamps: [1, 2, 3],
    values: valuesFromBits([1n, STALE_BITS, NAN_BITS]),
  };

  test('accepts a valid series', () => {
    assert.equal(validateSeries(good), null);
    assert.equal(validateSeries({ ...good, timestamps: [-5, 0], values: new Float64Array(2) }), null);
  });

  const cases: [string, Partial<WireSeries>, RegExp][] = [
    ['no labels', { labels: [] }, /no labels/],
    ['empty name', { labels: [{ name: '', value: 'x' }] }, /empty name/],
    ['bad label name (digit first)', { labels: [{ name: '1abc', value: 'x' }] }, /invalid label name/],
    ['bad label name (dash)', { labels: [{ name: 'a-b', value: 'x' }] }, /invalid label name/],
    ['bad label name (colon)', { labels: [{ name: 'a:b', value: 'x' }] }, /invalid label name/],
    ['empty value', { labels: [{ name: 'a', value: '' }] }, /empty value/],
    ['bad metric name', { labels: [{ name: '__name__', value: 'http-requests' }] }, /invalid metric name/],
    [
      'metric name starting with a digit',
      { labels: [{ name: '__name__', value: '1up' }] },
      /invalid metric name/,
    ],
    ['lone surrogate', { labels: [{ name: 'a', value: 'x\ud800y' }] }, /lone surrogate/],
    ['trailing lone surrogate', { labels: [{ name: 'a', value: 'x\udc00' }] }, /lone surrogate/],
    [
      'unsorted',
      {
        labels: [
          { name: 'job', value: 'a' },
          { name: 'instance', value: 'b' },
        ],
      },
      /not sorted/,
    ],
    [
      'duplicate',
      {
        labels: [
          { name: 'job', value: 'a' },
          { name: 'job', value: 'b' },
        ],
      },
      /duplicate/,
    ],
    ['length mismatch', { timestamps: [1, 2] }, /timestamps for 3 values/],
    ['fractional timestamp', { timestamps: [1, 2.5, 3] }, /not an integer/],
    ['NaN timestamp', { timestamps: [1, NaN, 3] }, /not an integer/],
    ['unsafe timestamp', { timestamps: [1, 2, 2 ** 53] }, /not an integer/],
    ['out of order', { timestamps: [1, 3, 2] }, /not after/],
    ['repeated timestamp', { timestamps: [1, 2, 2] }, /not after/],
  ];
  for (const [name, patch, reason] of cases) {
    test(`rejects: ${name}`, () => {
      const s = { ...good, ...patch };
      assert.match(validateSeries(s) ?? 'accepted', reason);
    });
  }
});

test('headers', () => {
  assert.deepEqual(RW1_HEADERS, {
    'Content-Encoding': 'snappy',
    'Content-Type': 'application/x-protobuf',
    'X-Prometheus-Remote-Write-Version': '0.1.0',
  });
  assert.equal(RW2_HEADERS['Content-Type'], 'application/x-protobuf;proto=io.prometheus.write.v2.Request');
  assert.equal(RW2_HEADERS['X-Prometheus-Remote-Write-Version'], '2.0.0');
  assert.equal(RW2_HEADERS['Content-Encoding'], 'snappy');
  assert.ok(Object.isFrozen(RW1_HEADERS) && Object.isFrozen(RW2_HEADERS));
});

test('v1: cached label bytes (labelsV1) encode exactly like the labels themselves, non-ASCII included', () => {
  const sets: Labels[] = [
    [
      { name: '__name__', value: 'pos_sales_total' },
      { name: 'store', value: 's001' },
    ],
    [
      { name: '__name__', value: 'up' },
      { name: 'city', value: 'Zürich ☃ 東京' },
      { name: 'long', value: 'x'.repeat(300) },
    ],
  ];
  const series: WireSeries[] = sets.map((labels, i) => ({
    labels,
    timestamps: [1_700_000_000_000 + i, 1_700_000_015_000 + i],
    values: new Float64Array([i, i + 0.5]),
  }));
  const plain = encodeWriteRequestV1(series);
  const cached = encodeWriteRequestV1(series.map((s) => ({ ...s, labelsV1: encodeLabelsV1(s.labels) })));
  assert.deepEqual(Buffer.from(cached), Buffer.from(plain));
  assert.deepEqual(
    decodeWriteRequestV1(cached).series.map((s) => s.labels),
    sets.map((l) => l.map((x) => ({ ...x }))),
  );
});
