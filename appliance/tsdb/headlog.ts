// The head log: what makes a committed scrape round survive kill -9 before its samples are in a chunk.
//
// Each Appender.commit() appends one record to the current segment file with a single write(2). The page
// cache keeps it across a process crash; like SQLite's synchronous=NORMAL, the last seconds may be lost on
// power failure. Records are small because values are XOR-ed with the same series' previous value in the
// same segment (most bytes are then zero) and the record is deflated, so the log costs about a byte per
// sample instead of the 7.8 KB a row-per-sample table writes.
//
// Segment file: "SWLOG001" then records of  uint32 length | uint32 crc32(payload) | payload.
// Payload: byte kind (1 raw, 2 deflate-raw) then, after inflating,
//   varint count, and per sample: zigzag varint ref delta, zigzag varint timestamp delta, value.
// Value: byte 0 = same bits as the series' previous value in this segment; else 0x80 | L<<3 | T, followed by
// the 8-L-T middle bytes of the xor (L leading, T trailing zero bytes).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const MAGIC = Buffer.from('SWLOG001');
const RECORD_HEADER = 8;
const KIND_RAW = 1;
const KIND_DEFLATE = 2;
/** Records above this size are deflated; smaller ones gain nothing. */
const DEFLATE_MIN_BYTES = 128;
/** A record larger than this is corrupt (a commit never holds that much). */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Raised for a record that cannot be decoded. */
export class LogCorruptError extends Error {
  override readonly name = 'LogCorruptError';
}

/** Per-series previous value, as the writer and the reader of one segment both track it. */
export interface LogValueState {
  /** Writes the previous bits of `ref` in this segment to out[0] (low) and out[1] (high); false if none. */
  get(ref: number, out: Uint32Array): boolean;
  set(ref: number, lo: number, hi: number): void;
}

/** A LogValueState backed by a Map, for replay and tests. */
export class MapValueState implements LogValueState {
  private readonly m = new Map<number, Uint32Array>();
  get(ref: number, out: Uint32Array): boolean {
    const v = this.m.get(ref);
    if (!v) return false;
    out[0] = v[0]!;
    out[1] = v[1]!;
    return true;
  }
  set(ref: number, lo: number, hi: number): void {
    let v = this.m.get(ref);
    if (!v) this.m.set(ref, (v = new Uint32Array(2)));
    v[0] = lo;
    v[1] = hi;
  }
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const bytes8 = new Uint8Array(f64.buffer);

class ByteWriter {
  buf = new Uint8Array(1024);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  /** Unsigned varint for values up to 2^53. */
  uvarint(x: number): void {
    this.ensure(8);
    while (x >= 0x80) {
      this.buf[this.pos++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.pos++] = x;
  }
  svarint(x: number): void {
    this.uvarint(x >= 0 ? x * 2 : -x * 2 - 1);
  }
}

class ByteReader {
  pos = 0;
  readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new LogCorruptError('record truncated');
    return this.buf[this.pos++]!;
  }
  uvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      x += (b & 0x7f) * mul;
      if (b < 0x80) return x;
      mul *= 0x80;
    }
    throw new LogCorruptError('varint too long');
  }
  svarint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
}

/**
 * The writer's view of the previous values, addressed by the sample's index in the record (the writer
 * already holds each sample's series, so no lookup by reference is needed on the hot path).
 */
export interface RecordValueState {
  /** Writes the previous bits of sample i's series to out[0] (low) and out[1] (high); false if none. */
  get(i: number, out: Uint32Array): boolean;
  set(i: number, lo: number, hi: number): void;
}

/**
 * Encodes the samples of one commit. `values` is a Float64Array so that NaN payloads (StaleNaN) survive.
 * The state is updated as the record is built; the caller restores it if the write fails.
 */
export function encodeSamplesRecord(
  refs: ArrayLike<number>,
  ts: ArrayLike<number>,
  values: Float64Array,
  n: number,
  state: RecordValueState,
): Uint8Array {
  const w = new ByteWriter();
  w.uvarint(n);
  const prev = new Uint32Array(2);
  let prevRef = 0;
  let prevT = 0;
  for (let i = 0; i < n; i++) {
    const ref = refs[i]!;
    const t = ts[i]!;
    w.svarint(ref - prevRef);
    w.svarint(t - prevT);
    prevRef = ref;
    prevT = t;
    f64[0] = values[i]!;
    const lo = u32[0]!;
    const hi = u32[1]!;
    if (!state.get(i, prev)) {
      prev[0] = 0;
      prev[1] = 0;
    }
    const xlo = (lo ^ prev[0]!) >>> 0;
    const xhi = (hi ^ prev[1]!) >>> 0;
    state.set(i, lo, hi);
    if (xlo === 0 && xhi === 0) {
      w.byte(0);
      continue;
    }
    u32[0] = xlo;
    u32[1] = xhi;
    // bytes8 is little-endian: index 7 is the most significant byte.
    let lead = 0;
    while (lead < 7 && bytes8[7 - lead] === 0) lead++;
    let trail = 0;
    while (trail < 7 - lead && bytes8[trail] === 0) trail++;
    w.byte(0x80 | (lead << 3) | trail);
    w.ensure(8);
    for (let b = 7 - lead; b >= trail; b--) w.buf[w.pos++] = bytes8[b]!;
  }
  const raw = w.buf.subarray(0, w.pos);
  if (raw.length >= DEFLATE_MIN_BYTES) {
    const z = zlib.deflateRawSync(raw, { level: 1, windowBits: 11, memLevel: 5 });
    const out = new Uint8Array(z.length + 1);
    out[0] = KIND_DEFLATE;
    out.set(z, 1);
    return out;
  }
  const out = new Uint8Array(raw.length + 1);
  out[0] = KIND_RAW;
  out.set(raw, 1);
  return out;
}

/** Decodes one record's payload, calling `onSample` for each sample in order. */
export function decodeSamplesRecord(
  payload: Uint8Array,
  state: LogValueState,
  onSample: (ref: number, t: number, v: number) => void,
): void {
  if (payload.length < 1) throw new LogCorruptError('empty record');
  let body: Uint8Array;
  if (payload[0] === KIND_RAW) body = payload.subarray(1);
  else if (payload[0] === KIND_DEFLATE) {
    try {
      body = zlib.inflateRawSync(payload.subarray(1), { maxOutputLength: MAX_RECORD_BYTES });
    } catch (err) {
      throw new LogCorruptError(`cannot inflate record: ${(err as Error).message}`);
    }
  } else throw new LogCorruptError(`unknown record kind ${payload[0]}`);
  const r = new ByteReader(body);
  const n = r.uvarint();
  const prev = new Uint32Array(2);
  let ref = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    ref += r.svarint();
    t += r.svarint();
    if (!state.get(ref, prev)) {
      prev[0] = 0;
      prev[1] = 0;
    }
    const h = r.byte();
    let xlo = 0;
    let xhi = 0;
    if (h !== 0) {
      if ((h & 0x80) === 0) throw new LogCorruptError(`bad value header ${h}`);
      const lead = (h >> 3) & 7;
      const trail = h & 7;
      if (lead + trail > 7) throw new LogCorruptError(`bad value header ${h}`);
      bytes8.fill(0);
      for (let b = 7 - lead; b >= trail; b--) bytes8[b] = r.byte();
      xlo = u32[0]!;
      xhi = u32[1]!;
    }
    const lo = (prev[0]! ^ xlo) >>> 0;
    const hi = (prev[1]! ^ xhi) >>> 0;
    state.set(ref, lo, hi);
    u32[0] = lo;
    u32[1] = hi;
    onSample(ref, t, f64[0]!);
  }
  if (r.pos !== body.length) throw new LogCorruptError('trailing bytes in record');
}

/** Metadata of one segment file. */
export interface SegmentInfo {
  readonly index: number;
  readonly file: string;
  size: number;
  /** Largest sample timestamp in the segment, -Infinity when it holds none. */
  maxT: number;
  readonly createdAt: number;
}

/** Raised when the log cannot be written. `code` is the errno code (ENOSPC for a full disk). */
export class LogWriteError extends Error {
  override readonly name = 'LogWriteError';
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

function segmentName(index: number): string {
  return String(index).padStart(8, '0') + '.log';
}

/**
 * The segment files of the head log in one directory. Not thread-safe; one writer per directory.
 */
export class SegmentedLog {
  readonly dir: string;
  private readonly segments: SegmentInfo[] = [];
  private fd: number | null = null;
  private readonly now: () => number;

  constructor(dir: string, now: () => number) {
    this.dir = dir;
    this.now = now;
    fs.mkdirSync(dir, { recursive: true });
    for (const name of fs.readdirSync(dir).sort()) {
      const m = /^(\d{8})\.log$/.exec(name);
      if (!m) continue;
      const file = path.join(dir, name);
      this.segments.push({
        index: Number(m[1]),
        file,
        size: fs.statSync(file).size,
        maxT: -Infinity,
        createdAt: 0,
      });
    }
  }

  /** Segments, oldest first (the last one is the one being written once `openNew` ran). */
  list(): readonly SegmentInfo[] {
    return this.segments;
  }

  totalBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  /**
   * Reads every record of every existing segment, oldest first. A torn or corrupt record ends its segment
   * (it can only be the tail of a crashed write); the damage is reported through `onCorrupt`.
   */
  replay(
    onRecord: (payload: Uint8Array, seg: SegmentInfo) => void,
    onCorrupt: (seg: SegmentInfo, offset: number, reason: string) => void,
  ): void {
    for (const seg of this.segments) {
      const data = fs.readFileSync(seg.file);
      if (data.length < MAGIC.length || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
        if (data.length > 0) onCorrupt(seg, 0, 'bad segment header');
        continue;
      }
      let off = MAGIC.length;
      while (off < data.length) {
        if (off + RECORD_HEADER > data.length) {
          onCorrupt(seg, off, 'torn record header');
          break;
        }
        const len = data.readUInt32LE(off);
        const crc = data.readUInt32LE(off + 4);
        if (len > MAX_RECORD_BYTES || off + RECORD_HEADER + len > data.length) {
          onCorrupt(seg, off, 'torn record');
          break;
        }
        const payload = data.subarray(off + RECORD_HEADER, off + RECORD_HEADER + len);
        if (zlib.crc32(payload) !== crc) {
          onCorrupt(seg, off, 'checksum mismatch');
          break;
        }
        onRecord(payload, seg);
        off += RECORD_HEADER + len;
      }
    }
  }

  /** Closes the current segment (if any) and starts a new one. */
  openNew(): SegmentInfo {
    this.closeCurrent();
    const last = this.segments[this.segments.length - 1];
    const index = last ? last.index + 1 : 1;
    const file = path.join(this.dir, segmentName(index));
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, MAGIC);
    } catch (err) {
      fs.closeSync(fd);
      fs.rmSync(file, { force: true });
      throw toWriteError(err);
    }
    this.fd = fd;
    const seg: SegmentInfo = { index, file, size: MAGIC.length, maxT: -Infinity, createdAt: this.now() };
    this.segments.push(seg);
    return seg;
  }

  current(): SegmentInfo | undefined {
    return this.fd === null ? undefined : this.segments[this.segments.length - 1];
  }

  /**
   * Appends one record with a single write. On failure the segment is cut back to its previous length, so a
   * later record never follows a torn one, and a LogWriteError is thrown.
   */
  append(payload: Uint8Array, maxT: number): void {
    const seg = this.current();
    if (!seg || this.fd === null) throw new LogWriteError('head log is not open', 'ECLOSED');
    const rec = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
    rec.writeUInt32LE(payload.length, 0);
    rec.writeUInt32LE(zlib.crc32(payload), 4);
    rec.set(payload, RECORD_HEADER);
    try {
      let off = 0;
      while (off < rec.length) off += fs.writeSync(this.fd, rec, off, rec.length - off, seg.size + off);
    } catch (err) {
      try {
        fs.ftruncateSync(this.fd, seg.size);
      } catch {
        // Truncating to a smaller size needs no space; if even that fails, replay stops at the torn record.
      }
      throw toWriteError(err);
    }
    seg.size += rec.length;
    if (maxT > seg.maxT) seg.maxT = maxT;
  }

  /** Deletes closed segments for which `canDelete` is true, oldest first, stopping at the first kept one. */
  truncate(canDelete: (seg: SegmentInfo) => boolean): number {
    let removed = 0;
    const cur = this.current();
    while (this.segments.length > 0) {
      const seg = this.segments[0]!;
      if (seg === cur || !canDelete(seg)) break;
      fs.rmSync(seg.file, { force: true });
      this.segments.shift();
      removed++;
    }
    return removed;
  }

  /** Deletes every segment (after the head was flushed completely on a clean stop). */
  removeAll(): void {
    this.closeCurrent();
    for (const seg of this.segments) fs.rmSync(seg.file, { force: true });
    this.segments.length = 0;
  }

  close(): void {
    this.closeCurrent();
  }

  private closeCurrent(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

function toWriteError(err: unknown): LogWriteError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  return new LogWriteError(`head log write failed: ${(err as Error).message}`, code, { cause: err });
}
