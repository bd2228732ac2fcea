// Low-level protobuf wire primitives for remote write: a growing writer and a strict, bounded reader.
//
// Only what remote write needs is here (varints, fixed 64-bit, length-delimited bytes and strings). The
// message layouts live in wire.ts. Both classes are created per encode/decode call, so nothing is shared.
import { TextDecoder } from 'node:util';

/** Raised for every malformed, truncated or oversize input, and for values that cannot be encoded. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** Protobuf wire types this code understands. 3 and 4 (groups) and 6, 7 (undefined) are always rejected. */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** 2^32, to split a safe integer into two 32-bit words without bitwise overflow. */
const TWO_32 = 4294967296;

/**
 * True when the platform stores typed arrays little-endian. Float64Array elements are copied as two 32-bit
 * words, and which word is the low one depends on this.
 */
const PLATFORM_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes needed for an unsigned 32-bit varint. */
export function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/**
 * Bytes needed for an int64 varint holding the safe integer `v`. Negative values take 10 bytes because
 * protobuf int64 encodes them as their 64-bit two's complement.
 */
export function varint64Size(v: number): number {
  if (v < 0) return 10;
  if (v < 0x10000000) return varint32Size(v);
  // 2^35, 2^42, 2^49: safe integers stop at 2^53, which needs 8 bytes.
  return v < 34359738368 ? 5 : v < 4398046511104 ? 6 : v < 562949953421312 ? 7 : 8;
}

/** Bytes needed for a length-delimited field body of `len` bytes, without its tag. */
export function lenPrefixedSize(len: number): number {
  return varint32Size(len) + len;
}

/**
 * An append-only protobuf writer over one growing buffer.
 *
 * Callers reserve space with {@link ensure} before a run of small writes (the hot loops do that once per
 * message), and the `write*` methods themselves do not check capacity, which keeps per-sample work to a
 * few typed-array stores. Strings are written with Buffer's native UTF-8 encoder.
 */
export class ProtoWriter {
  private buf: Buffer;
  private view: DataView;
  pos = 0;

  constructor(initialSize: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, Math.ceil(initialSize)));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Makes room for at least `n` more bytes, doubling the buffer as needed. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** A tag byte (field number << 3 | wire type); every field number used in remote write fits in one byte. */
  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** An unsigned varint of a value in [0, 2^32). */
  varint32(v: number): void {
    const buf = this.buf;
    let pos = this.pos;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /**
   * An int64 varint of a safe integer. The value is split into 32-bit words with division so that values
   * above 2^32 and negative values (two's complement, 10 bytes) are exact.
   */
  varint64(v: number): void {
    if (v >= 0 && v < 0x80000000) {
      this.varint32(v);
      return;
    }
    const hiSigned = Math.floor(v / TWO_32);
    let lo = (v - hiSigned * TWO_32) >>> 0;
    let hi = hiSigned >>> 0;
    const buf = this.buf;
    let pos = this.pos;
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /**
   * The float64 at `index` of `values`, bit-exact. The two 32-bit halves are read as integers from `words`
   * (a Uint32Array over the same memory) and stored little-endian with a DataView, so the value never exists
   * as a JS number and a signalling NaN such as the staleness marker cannot be quieted on the way.
   */
  float64Bits(words: Uint32Array, index: number): void {
    const lo = PLATFORM_LE ? words[2 * index]! : words[2 * index + 1]!;
    const hi = PLATFORM_LE ? words[2 * index + 1]! : words[2 * index]!;
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  /**
   * Writes `s` if it is pure ASCII (then its UTF-8 length is `s.length`) and returns true; returns false,
   * leaving `pos` where it was, at the first non-ASCII code unit. This lets the encoder size a message from
   * `s.length` and touch each character once; the rare non-ASCII message is redone with {@link utf8}.
   */
  ascii(s: string): boolean {
    const buf = this.buf;
    const pos = this.pos;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) return false;
      buf[pos + i] = c;
    }
    this.pos = pos + n;
    return true;
  }

  /** Raw UTF-8 bytes of a string whose encoded length the caller already knows (and has reserved). */
  utf8(s: string, byteLength: number): void {
    if (byteLength === 0) return;
    if (byteLength === s.length) {
      // ASCII (the length test is exact: any non-ASCII code unit makes the UTF-8 longer). A plain loop beats
      // Buffer.write's native call for the short names and values labels are made of.
      const buf = this.buf;
      let pos = this.pos;
      for (let i = 0; i < byteLength; i++) buf[pos++] = s.charCodeAt(i);
      this.pos = pos;
      return;
    }
    const written = this.buf.write(s, this.pos, byteLength, 'utf8');
    if (written !== byteLength)
      throw new WireError(`string encoded to ${written} bytes, expected ${byteLength}`);
    this.pos += written;
  }

  /** Raw bytes, already encoded (a cached part of a message). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The bytes written so far, as a view over the buffer (no copy). */
  finish(): Uint8Array {
    return new Uint8Array(this.buf.buffer, this.buf.byteOffset, this.pos);
  }
}

/** The two 32-bit words of every element of `values`, in platform order. */
export function float64Words(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
}

/** UTF-8 length of a string, as Buffer's encoder (used by {@link ProtoWriter.utf8}) will produce it. */
export function utf8Length(s: string): number {
  // Plain ASCII is by far the common case for label names and values; check it without allocating.
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  }
  return s.length;
}

/**
 * A strict protobuf reader over `bytes[start, end)`. Every read is checked against `end`, so a truncated or
 * hostile input raises {@link WireError} instead of reading past the message or allocating more than the
 * input's size.
 */
export class ProtoReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private readonly utf8: TextDecoder;
  pos: number;
  readonly end: number;

  /** `utf8` is shared with sub-readers; a fresh fatal decoder is made for each top-level reader. */
  constructor(bytes: Uint8Array, start = 0, end = bytes.length, utf8?: TextDecoder) {
    if (start < 0 || end > bytes.length || start > end) throw new WireError('reader bounds out of range');
    this.bytes = bytes;
    this.utf8 = utf8 ?? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Reads a field tag and returns [field number, wire type]. Field 0 and wire types other than varint,
   * fixed64, length-delimited and fixed32 are rejected: groups (3, 4) are not used by remote write, and 6, 7
   * do not exist.
   */
  tag(): [field: number, wireType: number] {
    const key = this.uint32();
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 0) throw new WireError(`field number 0 at offset ${this.pos}`);
    if (
      wireType !== WIRE_VARINT &&
      wireType !== WIRE_FIXED64 &&
      wireType !== WIRE_LEN &&
      wireType !== WIRE_FIXED32
    ) {
      throw new WireError(`unsupported wire type ${wireType} for field ${field}`);
    }
    return [field, wireType];
  }

  /**
   * Reads a varint as two 32-bit words. At most 10 bytes, and the 10th may only carry the 64th bit, as in
   * every protobuf implementation.
   */
  private varint64Words(): [lo: number, hi: number] {
    let lo = 0;
    let hi = 0;
    const bytes = this.bytes;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = bytes[this.pos++]!;
      if (i < 4) {
        lo |= (b & 0x7f) << (7 * i);
      } else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >>> 4;
      } else {
        if (i === 9 && b > 1) throw new WireError('varint overflows 64 bits');
        hi |= (b & 0x7f) << (7 * i - 32);
      }
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** An unsigned varint that must fit in 32 bits (lengths, tags, uint32 fields). */
  uint32(): number {
    const [lo, hi] = this.varint64Words();
    if (hi !== 0) throw new WireError('varint exceeds 32 bits');
    return lo;
  }

  /** An int64 varint that must be a safe JS integer (timestamps). */
  int64(): number {
    const [lo, hi] = this.varint64Words();
    const value = (hi | 0) * TWO_32 + lo;
    if (!Number.isSafeInteger(value)) throw new WireError('int64 outside the safe integer range');
    return value;
  }

  /** An int32 varint (enums): negative values arrive sign-extended to 10 bytes. */
  int32(): number {
    const [lo, hi] = this.varint64Words();
    const value = lo | 0;
    // Valid int32 encodings have the high word equal to the sign extension of the low word.
    if (hi !== (value < 0 ? 0xffffffff : 0)) throw new WireError('varint exceeds int32');
    return value;
  }

  /** The raw bits of a fixed64 (double) field. */
  fixed64Bits(): bigint {
    if (this.end - this.pos < 8) throw new WireError('truncated fixed64');
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** The length prefix of a length-delimited field, checked against the bytes that remain. */
  length(): number {
    const len = this.uint32();
    if (len > this.end - this.pos) {
      throw new WireError(`declared length ${len} exceeds the ${this.end - this.pos} remaining bytes`);
    }
    return len;
  }

  /** A sub-reader over the next length-delimited field. */
  sub(): ProtoReader {
    const len = this.length();
    const r = new ProtoReader(this.bytes, this.pos, this.pos + len, this.utf8);
    this.pos += len;
    return r;
  }

  /** A length-delimited field decoded as strict UTF-8. */
  string(): string {
    const len = this.length();
    const start = this.pos;
    this.pos += len;
    if (len === 0) return '';
    try {
      return this.utf8.decode(this.bytes.subarray(start, start + len));
    } catch {
      throw new WireError(`invalid UTF-8 in string at offset ${start}`);
    }
  }

  /** Skips a field of the given wire type (an unknown field). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint64Words();
        return;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) throw new WireError('truncated fixed64');
        this.pos += 8;
        return;
      case WIRE_LEN: {
        // Read the length first: `this.pos += this.length()` would add it to the position before the prefix.
        const len = this.length();
        this.pos += len;
        return;
      }
      case WIRE_FIXED32:
        if (this.end - this.pos < 4) throw new WireError('truncated fixed32');
        this.pos += 4;
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }
}

/** Throws unless a known field arrived with the wire type its schema requires. */
export function expectWireType(field: number, got: number, want: number, message: string): void {
  if (got !== want) throw new WireError(`${message} field ${field}: wire type ${got}, expected ${want}`);
}
