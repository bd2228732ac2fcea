// Bit-level writer and reader for the chunk codec. Numbers only (no BigInt): 64-bit values travel as two
// unsigned 32-bit halves, because BigInt arithmetic on the append path costs an order of magnitude more.

/** Appends bits, most significant first, to a growable byte buffer. */
export class BitWriter {
  buf: Uint8Array;
  /** Index of the byte being filled. */
  pos = 0;
  /** Bits already used in `buf[pos]` (0..7). */
  bit = 0;

  constructor(initialBytes = 32) {
    this.buf = new Uint8Array(initialBytes);
  }

  /** Number of bytes holding data (the last one may be partial). */
  get length(): number {
    return this.bit === 0 ? this.pos : this.pos + 1;
  }

  /** Total bits written. */
  get bitLength(): number {
    return this.pos * 8 + this.bit;
  }

  private grow(): void {
    const next = new Uint8Array(this.buf.length * 2);
    next.set(this.buf);
    this.buf = next;
  }

  /** Writes the low `n` bits of `v` (0 <= n <= 32). */
  writeBits(v: number, n: number): void {
    while (n > 0) {
      if (this.pos >= this.buf.length) this.grow();
      const free = 8 - this.bit;
      const take = free < n ? free : n;
      const shift = n - take;
      const bits = (v >>> shift) & ((1 << take) - 1);
      this.buf[this.pos]! |= bits << (free - take);
      this.bit += take;
      n -= take;
      if (this.bit === 8) {
        this.pos++;
        this.bit = 0;
      }
    }
  }

  writeBit(b: number): void {
    if (this.pos >= this.buf.length) this.grow();
    if (b) this.buf[this.pos]! |= 0x80 >>> this.bit;
    if (++this.bit === 8) {
      this.pos++;
      this.bit = 0;
    }
  }

  /** Writes the low `n` bits (0 <= n <= 64) of the 64-bit value hi:lo. */
  writeBits64(hi: number, lo: number, n: number): void {
    if (n > 32) {
      this.writeBits(hi, n - 32);
      this.writeBits(lo, 32);
    } else {
      this.writeBits(lo, n);
    }
  }

  /** Writes a whole byte-aligned byte sequence (the writer must be byte aligned). */
  writeAlignedBytes(bytes: Uint8Array): void {
    while (this.pos + bytes.length > this.buf.length) this.grow();
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A copy of the written bytes. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Raised when a reader runs past the end of its data: the input is truncated or corrupt. */
export class BitstreamError extends Error {
  override readonly name = 'BitstreamError';
}

/** Reads bits written by {@link BitWriter}. */
export class BitReader {
  readonly buf: Uint8Array;
  pos: number;
  bit = 0;
  private readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  readBit(): number {
    if (this.pos >= this.end) throw new BitstreamError('unexpected end of chunk data');
    const b = (this.buf[this.pos]! >>> (7 - this.bit)) & 1;
    if (++this.bit === 8) {
      this.pos++;
      this.bit = 0;
    }
    return b;
  }

  /** Reads `n` bits (0 <= n <= 32) as an unsigned number. */
  readBits(n: number): number {
    let v = 0;
    while (n > 0) {
      if (this.pos >= this.end) throw new BitstreamError('unexpected end of chunk data');
      const avail = 8 - this.bit;
      const take = avail < n ? avail : n;
      const bits = (this.buf[this.pos]! >>> (avail - take)) & ((1 << take) - 1);
      v = v * (1 << take) + bits; // Multiplication keeps values above 2^31 unsigned.
      this.bit += take;
      n -= take;
      if (this.bit === 8) {
        this.pos++;
        this.bit = 0;
      }
    }
    return v;
  }
}
