// The chunk codec: a pure encoder and decoder for one series' samples, after Gorilla/Prometheus XOR chunks,
// with one change taken from Prometheus's XOR2 idea: a sample whose timestamp delta and value both repeat
// costs a single bit. Scrape timestamps are snapped to the schedule, so that is the common case for
// constants, and it is what gets node_exporter-like data towards 1 byte per sample.
//
// Layout (big-endian bits):
//   byte 0      encoding (CHUNK_ENCODING_XOR1)
//   bytes 1..2  sample count, uint16
//   64 bits     first timestamp (int64 ms, two's complement)
//   64 bits     first value (raw float64 bits)
//   then per sample:
//     '0'                         delta-of-delta 0 and value bits unchanged
//     '1' <dod> <value>           otherwise, where
//       dod:   '0' = 0 | '10' 14 bits | '110' 17 bits | '1110' 20 bits | '1111' 64 bits (signed)
//       value: '0' unchanged | '10' xor within the previous leading/trailing window
//              | '11' 5 bits leading zeros, 6 bits length (0 = 64), then the significant xor bits
// Values are raw float64 bits throughout, so StaleNaN and every other NaN payload survive bit-exactly.
import { BitReader, BitWriter, BitstreamError } from './bitstream.ts';
import type { SampleIterator } from '../storage/interface.ts';

export const CHUNK_ENCODING_XOR1 = 1;
const HEADER_BYTES = 3;
const TWO32 = 4294967296;

/** Raised for chunk bytes that cannot be decoded. */
export class ChunkError extends Error {
  override readonly name = 'ChunkError';
}

// Scratch views to move between a float64 and its two 32-bit halves without arithmetic (little-endian host).
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Appends samples to one chunk. Timestamps must strictly increase; the caller checks that. */
export class XorChunkEncoder {
  private readonly w: BitWriter;
  private n = 0;
  private tPrev = 0;
  private dPrev = 0;
  private vHi = 0;
  private vLo = 0;
  private leading = 0xff;
  private trailing = 0;
  /** First and last timestamps; valid when count > 0. */
  mint = 0;
  maxt = 0;

  constructor(initialBytes = 64) {
    this.w = new BitWriter(initialBytes);
    this.w.writeBits(CHUNK_ENCODING_XOR1, 8);
    this.w.writeBits(0, 16);
  }

  get count(): number {
    return this.n;
  }

  /** Encoded size so far, in bytes. */
  get byteLength(): number {
    return this.w.length;
  }

  append(t: number, v: number): void {
    f64[0] = v;
    const hi = u32[1]!;
    const lo = u32[0]!;
    const w = this.w;
    if (this.n === 0) {
      this.mint = t;
      writeInt64(w, t);
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
    } else {
      const delta = t - this.tPrev;
      const dod = delta - this.dPrev;
      const xhi = (hi ^ this.vHi) >>> 0;
      const xlo = (lo ^ this.vLo) >>> 0;
      if (dod === 0 && xhi === 0 && xlo === 0) {
        w.writeBit(0);
      } else {
        w.writeBit(1);
        if (dod === 0) w.writeBit(0);
        else if (dod >= -8192 && dod <= 8191) {
          w.writeBits(0b10, 2);
          w.writeBits(dod & 0x3fff, 14);
        } else if (dod >= -65536 && dod <= 65535) {
          w.writeBits(0b110, 3);
          w.writeBits(dod & 0x1ffff, 17);
        } else if (dod >= -524288 && dod <= 524287) {
          w.writeBits(0b1110, 4);
          w.writeBits(dod & 0xfffff, 20);
        } else {
          w.writeBits(0b1111, 4);
          writeInt64(w, dod);
        }
        this.writeValue(xhi, xlo);
      }
      this.dPrev = delta;
    }
    this.tPrev = t;
    this.maxt = t;
    this.vHi = hi;
    this.vLo = lo;
    this.n++;
    w.buf[1] = this.n >>> 8;
    w.buf[2] = this.n & 0xff;
  }

  private writeValue(xhi: number, xlo: number): void {
    const w = this.w;
    if (xhi === 0 && xlo === 0) {
      w.writeBit(0);
      return;
    }
    let lead = xhi !== 0 ? Math.clz32(xhi) : 32 + Math.clz32(xlo);
    const trail = xlo !== 0 ? ctz32(xlo) : 32 + ctz32(xhi);
    if (lead > 31) lead = 31;
    let useLead: number;
    let useTrail: number;
    if (this.leading !== 0xff && lead >= this.leading && trail >= this.trailing) {
      w.writeBits(0b10, 2);
      useLead = this.leading;
      useTrail = this.trailing;
    } else {
      useLead = lead;
      useTrail = trail;
      const sig = 64 - lead - trail;
      w.writeBits(0b11, 2);
      w.writeBits(lead, 5);
      w.writeBits(sig & 63, 6);
      this.leading = lead;
      this.trailing = trail;
    }
    const sig = 64 - useLead - useTrail;
    let shi: number;
    let slo: number;
    if (useTrail === 0) {
      shi = xhi;
      slo = xlo;
    } else if (useTrail < 32) {
      slo = ((xlo >>> useTrail) | (xhi << (32 - useTrail))) >>> 0;
      shi = xhi >>> useTrail;
    } else {
      slo = xhi >>> (useTrail - 32);
      shi = 0;
    }
    w.writeBits64(shi, slo, sig);
  }

  /** A copy of the encoded chunk. */
  bytes(): Uint8Array {
    return this.w.bytes();
  }

  /**
   * The encoded chunk without a copy, for reading its first `count` samples only: later appends change the
   * header's count and the bits after those samples, never the bits before (a grown buffer leaves the old one
   * as it was), so decode it with `count` (see XorChunkIterator), not with the header.
   */
  view(): { readonly data: Uint8Array; readonly count: number } {
    return { data: this.w.buf.subarray(0, this.w.length), count: this.n };
  }
}

function writeInt64(w: BitWriter, x: number): void {
  const hi = Math.floor(x / TWO32);
  w.writeBits(hi >>> 0, 32);
  w.writeBits(x >>> 0, 32);
}

function readInt64(r: BitReader): number {
  const hi = r.readBits(32) | 0;
  const lo = r.readBits(32);
  return hi * TWO32 + lo;
}

/** Number of samples in an encoded chunk, without decoding it. */
export function chunkSampleCount(chunk: Uint8Array): number {
  if (chunk.length < HEADER_BYTES) throw new ChunkError(`chunk too short: ${chunk.length} bytes`);
  return (chunk[1]! << 8) | chunk[2]!;
}

/**
 * Iterates an encoded chunk, optionally bounded to [mint, maxt]. It throws {@link ChunkError} on corrupt
 * data rather than returning garbage.
 */
/**
 * Where a decoder stands after some sample of a chunk: enough to resume decoding the same byte stream (or a later,
 * longer copy of it: chunks only grow at the end) without decoding from the start again.
 */
export interface XorDecodeState {
  /** Samples decoded so far (the state is that after sample i - 1). */
  readonly i: number;
  readonly pos: number;
  readonly bit: number;
  /** Timestamp of the last decoded sample. */
  readonly t: number;
  readonly dPrev: number;
  readonly vHi: number;
  readonly vLo: number;
  readonly leading: number;
  readonly trailing: number;
}

export class XorChunkIterator implements SampleIterator {
  private readonly r: BitReader;
  private readonly total: number;
  private i = 0;
  private dPrev = 0;
  private vHi = 0;
  private vLo = 0;
  private leading = 0;
  private trailing = 0;
  t = 0;
  v = 0;

  /** The first next() yields the sample the resumed state stands on, instead of decoding the one after it. */
  private pendingCurrent = false;

  /**
   * `from` resumes after a sample decoded earlier from the same stream (see {@link state}); with `yieldFrom`,
   * that sample itself is the first one next() yields. `count` overrides the header's sample count.
   */
  constructor(chunk: Uint8Array, from?: XorDecodeState, yieldFrom = false, count?: number) {
    if (chunk.length < HEADER_BYTES) throw new ChunkError(`chunk too short: ${chunk.length} bytes`);
    if (chunk[0] !== CHUNK_ENCODING_XOR1) throw new ChunkError(`unknown chunk encoding ${chunk[0]}`);
    // `count` reads a live head chunk's view as of when it was taken (see XorChunkEncoder.view).
    this.total = count ?? (chunk[1]! << 8) | chunk[2]!;
    this.r = new BitReader(chunk, HEADER_BYTES);
    if (from !== undefined && from.i > 0 && from.i <= this.total && from.pos <= chunk.length) {
      this.i = from.i;
      this.r.pos = from.pos;
      this.r.bit = from.bit;
      this.t = from.t;
      this.dPrev = from.dPrev;
      this.vHi = from.vHi;
      this.vLo = from.vLo;
      this.leading = from.leading;
      this.trailing = from.trailing;
      u32[1] = this.vHi;
      u32[0] = this.vLo;
      this.v = f64[0]!;
      this.pendingCurrent = yieldFrom;
    }
  }

  /** The decoder's position after the last decoded sample; null before the first. */
  state(): XorDecodeState | null {
    if (this.i === 0) return null;
    const r = this.r;
    return {
      i: this.i,
      pos: r.pos,
      bit: r.bit,
      t: this.t,
      dPrev: this.dPrev,
      vHi: this.vHi,
      vLo: this.vLo,
      leading: this.leading,
      trailing: this.trailing,
    };
  }

  next(): boolean {
    if (this.pendingCurrent) {
      this.pendingCurrent = false;
      return true;
    }
    if (this.i >= this.total) return false;
    try {
      this.decodeOne();
    } catch (err) {
      if (err instanceof BitstreamError)
        throw new ChunkError(`corrupt chunk at sample ${this.i}: ${err.message}`);
      throw err;
    }
    this.i++;
    return true;
  }

  seek(t: number): boolean {
    if (this.i > 0 && this.t >= t) return true;
    while (this.next()) if (this.t >= t) return true;
    return false;
  }

  private decodeOne(): void {
    const r = this.r;
    if (this.i === 0) {
      this.t = readInt64(r);
      this.vHi = r.readBits(32);
      this.vLo = r.readBits(32);
    } else if (r.readBit() === 0) {
      this.t += this.dPrev;
    } else {
      let dod: number;
      if (r.readBit() === 0) dod = 0;
      else if (r.readBit() === 0) dod = signExtend(r.readBits(14), 14);
      else if (r.readBit() === 0) dod = signExtend(r.readBits(17), 17);
      else if (r.readBit() === 0) dod = signExtend(r.readBits(20), 20);
      else dod = readInt64(r);
      this.dPrev += dod;
      this.t += this.dPrev;
      if (r.readBit() === 1) this.readValue();
    }
    u32[1] = this.vHi;
    u32[0] = this.vLo;
    this.v = f64[0]!;
  }

  private readValue(): void {
    const r = this.r;
    if (r.readBit() === 1) {
      this.leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
      if (this.trailing < 0) throw new ChunkError('corrupt chunk: significant bits exceed 64');
    }
    const sig = 64 - this.leading - this.trailing;
    let shi = 0;
    let slo: number;
    if (sig > 32) {
      shi = r.readBits(sig - 32);
      slo = r.readBits(32);
    } else {
      slo = r.readBits(sig);
    }
    const tr = this.trailing;
    let xhi: number;
    let xlo: number;
    if (tr === 0) {
      xhi = shi;
      xlo = slo;
    } else if (tr < 32) {
      xhi = ((shi << tr) | (slo >>> (32 - tr))) >>> 0;
      xlo = (slo << tr) >>> 0;
    } else {
      xhi = (slo << (tr - 32)) >>> 0;
      xlo = 0;
    }
    this.vHi = (this.vHi ^ xhi) >>> 0;
    this.vLo = (this.vLo ^ xlo) >>> 0;
  }
}

function signExtend(x: number, bits: number): number {
  return x >= 2 ** (bits - 1) ? x - 2 ** bits : x;
}

/** Decodes a whole chunk into parallel arrays (values as a Float64Array, which keeps NaN payloads). */
export function decodeChunk(chunk: Uint8Array): { t: Float64Array; v: Float64Array } {
  const n = chunkSampleCount(chunk);
  const it = new XorChunkIterator(chunk);
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  for (let i = 0; i < n && it.next(); i++) {
    t[i] = it.t;
    v[i] = it.v;
  }
  return { t, v };
}
