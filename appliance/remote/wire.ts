// The wire format of Prometheus remote write, 1.0 (prometheus.WriteRequest) and 2.0
// (io.prometheus.write.v2.Request), plus Snappy block compression. Pure functions: bytes in, values out.
//
// The protobuf is written by hand (field numbers from prompb/types.proto, prompb/remote.proto and
// prompb/io/prometheus/write/v2/types.proto) because the encoder runs for every sample sent and must keep
// float64 bits exact: values are copied from the caller's Float64Array as raw 32-bit words, so the staleness
// marker 0x7ff0000000000002 is never quieted into an ordinary NaN. Fields equal to their proto3 default are
// omitted, as Prometheus's own marshaller does, except that -0 is written (its bits are not zero).
//
// The decoders exist to check our own output in tests. Prometheus 2.42 accepts unsorted labels and empty
// names, so a real receiver cannot catch our mistakes; these decoders are strict and bounded instead.
import { compress } from 'snappyjs';
import type { Labels } from '../model/labels.ts';
import { LABEL_NAME_RE, METRIC_NAME, METRIC_NAME_RE } from '../model/labels.ts';
import {
  expectWireType,
  float64Words,
  lenPrefixedSize,
  ProtoReader,
  ProtoWriter,
  utf8Length,
  varint32Size,
  varint64Size,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  WireError,
} from './protobuf.ts';

export { WireError };

/** One series of a request: labels sorted by name, samples in timestamp order, values as raw float64 (StaleNaN kept). */
export interface WireSeries {
  readonly labels: Labels;
  /** Milliseconds since the epoch, safe integers, one per value. */
  readonly timestamps: ArrayLike<number>;
  /** Kept as a Float64Array so NaN payloads (the staleness marker) survive; never copy through a number[]. */
  readonly values: Float64Array;
  /**
   * `labels` as remote write 1.0 encodes them ({@link encodeLabelsV1}), when the caller keeps that per series:
   * a caught-up sender sends each series every few seconds with one sample, and encoding its labels was a
   * fifth of the sender's CPU. Must match `labels`; ignored by 2.0.
   */
  readonly labelsV1?: Uint8Array;
}

/** The metric types of both protocol versions; the index in {@link METRIC_TYPES} is the enum value on the wire. */
export type MetricType =
  'unknown' | 'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset';

/** Enum order of `MetricMetadata.MetricType` (v1) and `Metadata.MetricType` (v2); both use the same numbers. */
export const METRIC_TYPES: readonly MetricType[] = Object.freeze([
  'unknown',
  'counter',
  'gauge',
  'histogram',
  'gaugehistogram',
  'summary',
  'info',
  'stateset',
]);

/** Metadata of one metric family (the name without _total/_bucket/... suffixes). */
export interface WireMetadata {
  readonly family: string;
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

/** A series as decoded from the wire: exactly what was sent, in wire order, with float64 values as raw bits. */
export interface DecodedSeries {
  labels: { name: string; value: string }[];
  samples: { t: number; bits: bigint }[];
  /** Only in v2, and only when the series carried a metadata field. */
  metadata?: { type: MetricType; help: string; unit: string };
}

/** Headers every RW 1.0 request must carry. The sender adds `User-Agent: storewatch/<version>` itself. */
export const RW1_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
});

/** Headers of an RW 2.0 request. A plain `application/x-protobuf` would mean v1 to the receiver. */
export const RW2_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Encoding': 'snappy',
  'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'X-Prometheus-Remote-Write-Version': '2.0.0',
});

// Tags (field number << 3 | wire type). Every field number used here is below 16, so each tag is one byte.
const TAG_V1_TIMESERIES = 0x0a; // WriteRequest.timeseries = 1
const TAG_V1_METADATA = 0x1a; // WriteRequest.metadata = 3
const TAG_V1_LABELS = 0x0a; // TimeSeries.labels = 1
const TAG_SAMPLES = 0x12; // TimeSeries.samples = 2 (v1 and v2)
const TAG_LABEL_NAME = 0x0a; // Label.name = 1
const TAG_LABEL_VALUE = 0x12; // Label.value = 2
const TAG_SAMPLE_VALUE = 0x09; // Sample.value = 1, fixed64
const TAG_SAMPLE_TIMESTAMP = 0x10; // Sample.timestamp = 2, varint
const TAG_V1_MD_TYPE = 0x08; // MetricMetadata.type = 1
const TAG_V1_MD_FAMILY = 0x12; // MetricMetadata.metric_family_name = 2
const TAG_V1_MD_HELP = 0x22; // MetricMetadata.help = 4
const TAG_V1_MD_UNIT = 0x2a; // MetricMetadata.unit = 5
const TAG_V2_SYMBOLS = 0x22; // Request.symbols = 4
const TAG_V2_TIMESERIES = 0x2a; // Request.timeseries = 5
const TAG_V2_LABELS_REFS = 0x0a; // TimeSeries.labels_refs = 1, packed
const TAG_V2_METADATA = 0x2a; // TimeSeries.metadata = 5
const TAG_V2_MD_TYPE = 0x08; // Metadata.type = 1
const TAG_V2_MD_HELP = 0x18; // Metadata.help_ref = 3
const TAG_V2_MD_UNIT = 0x20; // Metadata.unit_ref = 4

// ---------------------------------------------------------------------------------------------------------
// Validation

/** True when a string has no lone UTF-16 surrogate (which UTF-8 cannot represent and would be replaced). */
function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/**
 * Validation a sender must do before encoding (spec MUSTs): names match the regexes, sorted, unique, no empty
 * names/values, samples ordered. Returns a reason string or null.
 *
 * Checked: at least one label; every name non-empty and matching `[a-zA-Z_][a-zA-Z0-9_]*`; `__name__`, when
 * present, matching `[a-zA-Z_:][a-zA-Z0-9_:]*`; names strictly increasing (sorted and unique); values non-empty
 * and valid Unicode (no lone surrogates, which UTF-8 cannot carry); as many timestamps as values; timestamps
 * safe integers and strictly increasing (a repeated timestamp is either a duplicate or a conflicting value,
 * both rejected by receivers). `__name__` is only a SHOULD and other `__` names a SHOULD NOT, so neither is
 * enforced here. A series without samples is allowed (it encodes, and receivers ignore it).
 */
export function validateSeries(s: WireSeries): string | null {
  const labels = s.labels;
  if (labels.length === 0) return 'series has no labels';
  let prev = '';
  for (let i = 0; i < labels.length; i++) {
    const { name, value } = labels[i]!;
    if (name === '') return `label ${i} has an empty name`;
    if (!LABEL_NAME_RE.test(name)) return `invalid label name ${JSON.stringify(name)}`;
    if (value === '') return `label ${name} has an empty value`;
    if (!wellFormed(value)) return `label ${name} value is not valid Unicode (lone surrogate)`;
    if (name === METRIC_NAME && !METRIC_NAME_RE.test(value))
      return `invalid metric name ${JSON.stringify(value)}`;
    if (i > 0) {
      if (name === prev) return `duplicate label name ${name}`;
      if (name < prev) return `labels not sorted: ${name} after ${prev}`;
    }
    prev = name;
  }
  const ts = s.timestamps;
  if (ts.length !== s.values.length) return `${ts.length} timestamps for ${s.values.length} values`;
  let last = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (!Number.isSafeInteger(t)) return `timestamp ${t} at ${i} is not an integer number of milliseconds`;
    if (t <= last) return `timestamp ${t} at ${i} is not after ${last}`;
    last = t;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

function checkShape(s: WireSeries): void {
  if (s.timestamps.length !== s.values.length) {
    throw new WireError(`${s.timestamps.length} timestamps for ${s.values.length} values`);
  }
}

/** A first guess at the encoded size, so that most requests never need the buffer to grow. */
function estimateSize(series: readonly WireSeries[]): number {
  let n = 64;
  for (const s of series) n += 16 + s.labels.length * 40 + s.values.length * 20;
  return n;
}

/** Size of one Sample message body (without its tag and length). */
function sampleSize(t: number, words: Uint32Array, j: number): number {
  const valueSize = words[2 * j] !== 0 || words[2 * j + 1] !== 0 ? 9 : 0;
  return valueSize + (t !== 0 ? 1 + varint64Size(t) : 0);
}

/** Size of all Sample fields of a series, tags and lengths included; also rejects non-integer timestamps. */
function samplesSize(ts: ArrayLike<number>, words: Uint32Array): number {
  let n = 0;
  for (let j = 0; j < ts.length; j++) {
    const t = ts[j]!;
    if (!Number.isSafeInteger(t)) throw new WireError(`timestamp ${t} is not a safe integer`);
    // A sample body is at most 9 + 11 = 20 bytes (value, then a 10-byte negative timestamp), so its length
    // prefix is always one byte.
    n += 2 + sampleSize(t, words, j);
  }
  return n;
}

/** Writes the Sample fields of a series; the caller has reserved the space. */
function writeSamples(w: ProtoWriter, ts: ArrayLike<number>, words: Uint32Array): void {
  for (let j = 0; j < ts.length; j++) {
    const t = ts[j]!;
    w.byte(TAG_SAMPLES);
    w.byte(sampleSize(t, words, j));
    if (words[2 * j] !== 0 || words[2 * j + 1] !== 0) {
      w.byte(TAG_SAMPLE_VALUE);
      w.float64Bits(words, j);
    }
    if (t !== 0) {
      w.byte(TAG_SAMPLE_TIMESTAMP);
      w.varint64(t);
    }
  }
}

/** Size of a string field (tag + length + bytes), or 0 for the empty string, which proto3 omits. */
function stringFieldSize(byteLength: number): number {
  return byteLength === 0 ? 0 : 1 + lenPrefixedSize(byteLength);
}

/**
 * Writes a string field sized as `byteLength`. In fast mode (`exact` false) the size was taken from
 * `s.length`, which is right only for ASCII; a non-ASCII string makes this return false so that the caller
 * redoes the whole message with exact UTF-8 lengths.
 */
function writeStringField(
  w: ProtoWriter,
  tag: number,
  s: string,
  byteLength: number,
  exact: boolean,
): boolean {
  if (byteLength === 0) return true;
  w.byte(tag);
  w.varint32(byteLength);
  if (!exact) return w.ascii(s);
  w.utf8(s, byteLength);
  return true;
}

/** The UTF-8 length of `s` in exact mode, its UTF-16 length (right for ASCII) in fast mode. */
function byteLen(s: string, exact: boolean): number {
  return exact ? utf8Length(s) : s.length;
}

function metricTypeNumber(type: MetricType): number {
  const n = METRIC_TYPES.indexOf(type);
  if (n < 0) throw new WireError(`unknown metric type ${String(type)}`);
  return n;
}

/** Bytes of the `labels` fields of a v1 TimeSeries (UTF-16 lengths in fast mode, see writeStringField). */
function v1LabelsSize(labels: Labels, exact: boolean): number {
  let size = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    size +=
      1 + lenPrefixedSize(stringFieldSize(byteLen(l.name, exact)) + stringFieldSize(byteLen(l.value, exact)));
  }
  return size;
}

/** Writes the `labels` fields of a v1 TimeSeries; false when fast mode met a non-ASCII string. */
function writeV1Labels(w: ProtoWriter, labels: Labels, exact: boolean): boolean {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const nl = byteLen(l.name, exact);
    const vl = byteLen(l.value, exact);
    w.byte(TAG_V1_LABELS);
    w.varint32(stringFieldSize(nl) + stringFieldSize(vl));
    if (!writeStringField(w, TAG_LABEL_NAME, l.name, nl, exact)) return false;
    if (!writeStringField(w, TAG_LABEL_VALUE, l.value, vl, exact)) return false;
  }
  return true;
}

/**
 * Writes one v1 TimeSeries. Returns false (with output to be discarded) when fast mode met a non-ASCII string.
 */
function writeV1Series(w: ProtoWriter, s: WireSeries, exact: boolean): boolean {
  const cached = s.labelsV1;
  const labelsBytes = cached !== undefined ? cached.length : v1LabelsSize(s.labels, exact);
  const words = float64Words(s.values);
  const seriesBytes = labelsBytes + samplesSize(s.timestamps, words);
  w.ensure(1 + lenPrefixedSize(seriesBytes));
  w.byte(TAG_V1_TIMESERIES);
  w.varint32(seriesBytes);
  if (cached !== undefined) w.bytes(cached);
  else if (!writeV1Labels(w, s.labels, exact)) return false;
  writeSamples(w, s.timestamps, words);
  return true;
}

/** The `labels` fields of a v1 TimeSeries for a label set: what {@link WireSeries.labelsV1} holds. */
export function encodeLabelsV1(labels: Labels): Uint8Array {
  let w = new ProtoWriter(v1LabelsSize(labels, false));
  if (!writeV1Labels(w, labels, false)) {
    w = new ProtoWriter(v1LabelsSize(labels, true));
    writeV1Labels(w, labels, true);
  }
  // A view, not a copy: small writers come from Buffer's shared pool, and 50,000 separate ArrayBuffers cost the GC.
  return w.finish();
}

/**
 * Encodes a `prometheus.WriteRequest`. Series are written as given: call {@link validateSeries} first, the
 * encoder only rejects what it cannot represent (mismatched lengths, non-integer timestamps).
 */
export function encodeWriteRequestV1(
  series: readonly WireSeries[],
  metadata?: readonly WireMetadata[],
): Uint8Array {
  const w = new ProtoWriter(estimateSize(series));
  for (const s of series) {
    checkShape(s);
    const start = w.pos;
    if (!writeV1Series(w, s, false)) {
      w.pos = start;
      writeV1Series(w, s, true);
    }
  }
  for (const m of metadata ?? []) {
    const type = metricTypeNumber(m.type);
    const fl = utf8Length(m.family);
    const hl = utf8Length(m.help);
    const ul = utf8Length(m.unit);
    const body =
      (type !== 0 ? 1 + varint32Size(type) : 0) +
      stringFieldSize(fl) +
      stringFieldSize(hl) +
      stringFieldSize(ul);
    w.ensure(1 + lenPrefixedSize(body));
    w.byte(TAG_V1_METADATA);
    w.varint32(body);
    if (type !== 0) {
      w.byte(TAG_V1_MD_TYPE);
      w.varint32(type);
    }
    writeStringField(w, TAG_V1_MD_FAMILY, m.family, fl, true);
    writeStringField(w, TAG_V1_MD_HELP, m.help, hl, true);
    writeStringField(w, TAG_V1_MD_UNIT, m.unit, ul, true);
  }
  return w.finish();
}

/**
 * Which metric name suffixes belong to a family of which types. A suffix only maps a name to its family when
 * the family has a type that produces that suffix, so a gauge `queue_count` with no metadata of its own does
 * not borrow the metadata of an unrelated gauge `queue`.
 */
const FAMILY_SUFFIXES: readonly { readonly suffix: string; readonly types: readonly MetricType[] }[] = [
  { suffix: '_total', types: ['counter'] },
  { suffix: '_bucket', types: ['histogram', 'gaugehistogram'] },
  { suffix: '_sum', types: ['histogram', 'summary'] },
  { suffix: '_count', types: ['histogram', 'summary'] },
  { suffix: '_gsum', types: ['gaugehistogram'] },
  { suffix: '_gcount', types: ['gaugehistogram'] },
  { suffix: '_info', types: ['info'] },
];

/**
 * Finds the metadata of the family a metric name belongs to: the exact name first (text-format families such
 * as a counter literally named `x_total`), then the name without one of the suffixes `_total`, `_bucket`,
 * `_sum`, `_count`, `_gsum`, `_gcount`, `_info`, if that family's type produces the suffix.
 */
export function lookupFamilyMetadata(
  metricName: string,
  metadata: ReadonlyMap<string, WireMetadata>,
): WireMetadata | undefined {
  const exact = metadata.get(metricName);
  if (exact !== undefined) return exact;
  for (const { suffix, types } of FAMILY_SUFFIXES) {
    if (metricName.length > suffix.length && metricName.endsWith(suffix)) {
      const m = metadata.get(metricName.slice(0, -suffix.length));
      if (m !== undefined && types.includes(m.type)) return m;
    }
  }
  return undefined;
}

/**
 * Encodes an `io.prometheus.write.v2.Request`. All strings go into one deduplicated symbol table whose entry
 * 0 is the empty string; labels become packed (name, value) reference pairs. When `metadata` is given, each
 * series whose metric name maps to a family (see {@link lookupFamilyMetadata}) carries that family's type,
 * help and unit inline. Start timestamps, histograms and exemplars are not sent.
 */
export function encodeWriteRequestV2(
  series: readonly WireSeries[],
  metadata?: ReadonlyMap<string, WireMetadata>,
): Uint8Array {
  const symbols: string[] = [''];
  const index = new Map<string, number>([['', 0]]);
  const ref = (s: string): number => {
    let r = index.get(s);
    if (r === undefined) {
      r = symbols.length;
      symbols.push(s);
      index.set(s, r);
    }
    return r;
  };

  // First pass: the symbol table, every series' references, and per-series metadata refs (type, help, unit;
  // type -1 means "no metadata").
  let totalLabels = 0;
  for (const s of series) totalLabels += s.labels.length;
  const refs = new Uint32Array(totalLabels * 2);
  const meta = new Int32Array(series.length * 3).fill(-1);
  let r = 0;
  for (let k = 0; k < series.length; k++) {
    const s = series[k]!;
    checkShape(s);
    let name = '';
    for (const l of s.labels) {
      refs[r++] = ref(l.name);
      refs[r++] = ref(l.value);
      if (l.name === METRIC_NAME) name = l.value;
    }
    const m = metadata === undefined || name === '' ? undefined : lookupFamilyMetadata(name, metadata);
    if (m !== undefined) {
      meta[3 * k] = metricTypeNumber(m.type);
      meta[3 * k + 1] = ref(m.help);
      meta[3 * k + 2] = ref(m.unit);
    }
  }

  const w = new ProtoWriter(estimateSize(series) + symbols.length * 24);
  for (const sym of symbols) {
    const len = utf8Length(sym);
    w.ensure(1 + lenPrefixedSize(len));
    w.byte(TAG_V2_SYMBOLS);
    w.varint32(len);
    w.utf8(sym, len);
  }

  r = 0;
  for (let k = 0; k < series.length; k++) {
    const s = series[k]!;
    const pairs = s.labels.length * 2;
    let refsBytes = 0;
    for (let i = r; i < r + pairs; i++) refsBytes += varint32Size(refs[i]!);
    const type = meta[3 * k]!;
    const helpRef = meta[3 * k + 1]!;
    const unitRef = meta[3 * k + 2]!;
    const metaBytes =
      type < 0
        ? 0
        : (type !== 0 ? 1 + varint32Size(type) : 0) +
          (helpRef !== 0 ? 1 + varint32Size(helpRef) : 0) +
          (unitRef !== 0 ? 1 + varint32Size(unitRef) : 0);
    const words = float64Words(s.values);
    const seriesBytes =
      (pairs > 0 ? 1 + lenPrefixedSize(refsBytes) : 0) +
      samplesSize(s.timestamps, words) +
      (type < 0 ? 0 : 1 + lenPrefixedSize(metaBytes));

    w.ensure(1 + lenPrefixedSize(seriesBytes));
    w.byte(TAG_V2_TIMESERIES);
    w.varint32(seriesBytes);
    if (pairs > 0) {
      w.byte(TAG_V2_LABELS_REFS);
      w.varint32(refsBytes);
      for (let i = r; i < r + pairs; i++) w.varint32(refs[i]!);
    }
    r += pairs;
    writeSamples(w, s.timestamps, words);
    if (type >= 0) {
      w.byte(TAG_V2_METADATA);
      w.varint32(metaBytes);
      if (type !== 0) {
        w.byte(TAG_V2_MD_TYPE);
        w.varint32(type);
      }
      if (helpRef !== 0) {
        w.byte(TAG_V2_MD_HELP);
        w.varint32(helpRef);
      }
      if (unitRef !== 0) {
        w.byte(TAG_V2_MD_UNIT);
        w.varint32(unitRef);
      }
    }
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------------------
// Decoding (strict, bounded; for tests and diagnostics)

function metricTypeFromNumber(n: number): MetricType {
  const t = METRIC_TYPES[n];
  if (t === undefined) throw new WireError(`unknown metric type ${n}`);
  return t;
}

function decodeSample(r: ProtoReader): { t: number; bits: bigint } {
  let t = 0;
  let bits = 0n;
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      expectWireType(field, wt, WIRE_FIXED64, 'Sample');
      bits = r.fixed64Bits();
    } else if (field === 2) {
      expectWireType(field, wt, WIRE_VARINT, 'Sample');
      t = r.int64();
    } else {
      // v2 start_timestamp (3) and anything newer.
      r.skip(wt);
    }
  }
  return { t, bits };
}

function decodeLabel(r: ProtoReader): { name: string; value: string } {
  let name = '';
  let value = '';
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      expectWireType(field, wt, WIRE_LEN, 'Label');
      name = r.string();
    } else if (field === 2) {
      expectWireType(field, wt, WIRE_LEN, 'Label');
      value = r.string();
    } else {
      r.skip(wt);
    }
  }
  return { name, value };
}

function decodeV1Series(r: ProtoReader): DecodedSeries {
  const out: DecodedSeries = { labels: [], samples: [] };
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      expectWireType(field, wt, WIRE_LEN, 'TimeSeries');
      out.labels.push(decodeLabel(r.sub()));
    } else if (field === 2) {
      expectWireType(field, wt, WIRE_LEN, 'TimeSeries');
      out.samples.push(decodeSample(r.sub()));
    } else {
      // Exemplars (3) and histograms (4) are outside RW 1.0; storewatch never sends them.
      r.skip(wt);
    }
  }
  return out;
}

function decodeV1Metadata(r: ProtoReader): WireMetadata {
  let type: MetricType = 'unknown';
  let family = '';
  let help = '';
  let unit = '';
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      expectWireType(field, wt, WIRE_VARINT, 'MetricMetadata');
      type = metricTypeFromNumber(r.int32());
    } else if (field === 2 || field === 4 || field === 5) {
      expectWireType(field, wt, WIRE_LEN, 'MetricMetadata');
      const s = r.string();
      if (field === 2) family = s;
      else if (field === 4) help = s;
      else unit = s;
    } else {
      r.skip(wt);
    }
  }
  return { family, type, help, unit };
}

/** Decodes a `prometheus.WriteRequest`; throws {@link WireError} on anything malformed or truncated. */
export function decodeWriteRequestV1(bytes: Uint8Array): {
  series: DecodedSeries[];
  metadata: WireMetadata[];
} {
  const r = new ProtoReader(bytes);
  const series: DecodedSeries[] = [];
  const metadata: WireMetadata[] = [];
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      expectWireType(field, wt, WIRE_LEN, 'WriteRequest');
      series.push(decodeV1Series(r.sub()));
    } else if (field === 3) {
      expectWireType(field, wt, WIRE_LEN, 'WriteRequest');
      metadata.push(decodeV1Metadata(r.sub()));
    } else {
      r.skip(wt);
    }
  }
  return { series, metadata };
}

interface RawV2Series {
  refs: number[];
  samples: { t: number; bits: bigint }[];
  meta?: { type: MetricType; helpRef: number; unitRef: number };
}

function decodeV2Metadata(r: ProtoReader): { type: MetricType; helpRef: number; unitRef: number } {
  const out = { type: 'unknown' as MetricType, helpRef: 0, unitRef: 0 };
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      expectWireType(field, wt, WIRE_VARINT, 'Metadata');
      out.type = metricTypeFromNumber(r.int32());
    } else if (field === 3) {
      expectWireType(field, wt, WIRE_VARINT, 'Metadata');
      out.helpRef = r.uint32();
    } else if (field === 4) {
      expectWireType(field, wt, WIRE_VARINT, 'Metadata');
      out.unitRef = r.uint32();
    } else {
      r.skip(wt);
    }
  }
  return out;
}

function decodeV2Series(r: ProtoReader): RawV2Series {
  const out: RawV2Series = { refs: [], samples: [] };
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 1) {
      // Repeated scalars are packed when written, but parsers must accept the unpacked form too.
      if (wt === WIRE_LEN) {
        const packed = r.sub();
        while (!packed.done()) out.refs.push(packed.uint32());
      } else {
        expectWireType(field, wt, WIRE_VARINT, 'TimeSeries');
        out.refs.push(r.uint32());
      }
    } else if (field === 2) {
      expectWireType(field, wt, WIRE_LEN, 'TimeSeries');
      out.samples.push(decodeSample(r.sub()));
    } else if (field === 5) {
      expectWireType(field, wt, WIRE_LEN, 'TimeSeries');
      out.meta = decodeV2Metadata(r.sub());
    } else {
      // Histograms (3), exemplars (4), the reserved 6 and anything newer.
      r.skip(wt);
    }
  }
  return out;
}

/**
 * Decodes an `io.prometheus.write.v2.Request` and resolves every symbol reference. Throws {@link WireError}
 * on malformed input, a symbol table whose first entry is not empty, an odd number of label references or a
 * reference outside the table.
 */
export function decodeWriteRequestV2(bytes: Uint8Array): { series: DecodedSeries[] } {
  const r = new ProtoReader(bytes);
  const symbols: string[] = [];
  const raw: RawV2Series[] = [];
  while (!r.done()) {
    const [field, wt] = r.tag();
    if (field === 4) {
      expectWireType(field, wt, WIRE_LEN, 'Request');
      symbols.push(r.string());
    } else if (field === 5) {
      expectWireType(field, wt, WIRE_LEN, 'Request');
      raw.push(decodeV2Series(r.sub()));
    } else {
      r.skip(wt);
    }
  }
  if (symbols.length > 0 && symbols[0] !== '') throw new WireError('symbols[0] is not the empty string');
  const sym = (ref: number): string => {
    const s = symbols[ref];
    if (s === undefined) throw new WireError(`symbol reference ${ref} outside a table of ${symbols.length}`);
    return s;
  };
  const series = raw.map((s): DecodedSeries => {
    if (s.refs.length % 2 !== 0) throw new WireError(`odd number (${s.refs.length}) of label references`);
    const labels: { name: string; value: string }[] = [];
    for (let i = 0; i < s.refs.length; i += 2)
      labels.push({ name: sym(s.refs[i]!), value: sym(s.refs[i + 1]!) });
    const out: DecodedSeries = { labels, samples: s.samples };
    if (s.meta !== undefined)
      out.metadata = { type: s.meta.type, help: sym(s.meta.helpRef), unit: sym(s.meta.unitRef) };
    return out;
  });
  return { series };
}

// ---------------------------------------------------------------------------------------------------------
// Snappy (block format)

/**
 * Compresses with Snappy's block format (uvarint length + elements), the only format remote write allows.
 * The framed stream format (which starts with `ff 06 00 00 73 4e 61 50 50 59`) is never produced.
 */
export function snappyCompress(b: Uint8Array): Uint8Array {
  return compress(b);
}

/**
 * Decompresses a Snappy block, strictly: the declared length is checked against `maxBytes` before anything
 * is allocated (a 10-byte "bomb" can declare 4 GB), every element is bounds-checked, and the output must be
 * exactly the declared length.
 */
export function snappyDecompress(b: Uint8Array, maxBytes: number): Uint8Array {
  // Declared length: a uvarint of at most 32 bits (5 bytes), as in Go's snappy.
  let length = 0;
  let pos = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= b.length) throw new WireError('snappy: truncated length');
    if (shift > 28) throw new WireError('snappy: length varint too long');
    const c = b[pos++]!;
    length += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) break;
  }
  if (length > 0xffffffff) throw new WireError('snappy: declared length exceeds 32 bits');
  if (length > maxBytes)
    throw new WireError(`snappy: declared length ${length} exceeds the limit of ${maxBytes}`);

  const out = new Uint8Array(length);
  let op = 0;
  while (pos < b.length) {
    const tag = b[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      // Literal: length - 1 in the tag's upper 6 bits, or in 1-4 following bytes (tag values 60-63).
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > b.length) throw new WireError('snappy: truncated literal length');
        len = 0;
        for (let i = extra - 1; i >= 0; i--) len = len * 256 + b[pos + i]!;
        pos += extra;
      }
      len += 1;
      if (len > b.length - pos) throw new WireError('snappy: literal runs past the input');
      if (len > length - op) throw new WireError('snappy: literal runs past the declared length');
      out.set(b.subarray(pos, pos + len), op);
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos + 1 > b.length) throw new WireError('snappy: truncated copy');
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | b[pos]!;
      pos += 1;
    } else if (kind === 2) {
      if (pos + 2 > b.length) throw new WireError('snappy: truncated copy');
      len = 1 + (tag >>> 2);
      offset = b[pos]! | (b[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > b.length) throw new WireError('snappy: truncated copy');
      len = 1 + (tag >>> 2);
      offset = (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > op) throw new WireError(`snappy: bad copy offset ${offset} at output ${op}`);
    if (len > length - op) throw new WireError('snappy: copy runs past the declared length');
    if (offset >= len) {
      out.copyWithin(op, op - offset, op - offset + len);
      op += len;
    } else {
      // Overlapping copy (a repeated pattern): byte by byte, as the format defines it.
      for (let i = 0; i < len; i++, op++) out[op] = out[op - offset]!;
    }
  }
  if (op !== length) throw new WireError(`snappy: decoded ${op} bytes, declared ${length}`);
  return out;
}
