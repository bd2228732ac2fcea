// Samples and the staleness marker. This module is a leaf: it imports nothing.

/**
 * The bit pattern Prometheus uses to mark a series as stale: a NaN with a payload that arithmetic never
 * produces. It must survive storage and remote write bit-exactly, so never keep it in a plain JS number
 * array (V8 canonicalises NaNs stored in packed double arrays) or in a SQLite REAL column (NaN becomes NULL).
 */
export const STALE_NAN_BITS = 0x7ff0000000000002n;

const scratch = new DataView(new ArrayBuffer(8));

/** Reinterprets 64 bits as a float64 without any arithmetic. */
export function float64FromBits(bits: bigint): number {
  scratch.setBigUint64(0, bits);
  return scratch.getFloat64(0);
}

/** Reads the raw bits of a float64. */
export function float64Bits(v: number): bigint {
  scratch.setFloat64(0, v);
  return scratch.getBigUint64(0);
}

/** The staleness marker as a number. Compare with {@link isStaleNaN}, never with `===`. */
export const STALE_NAN: number = float64FromBits(STALE_NAN_BITS);

/** True when the value is exactly the staleness marker (not any other NaN). */
export function isStaleNaN(v: number): boolean {
  if (v === v) return false; // Not NaN: the fast path for almost every sample.
  scratch.setFloat64(0, v);
  return scratch.getUint32(0) === 0x7ff00000 && scratch.getUint32(4) === 2;
}

/** One sample: a timestamp in milliseconds since the epoch and a float64 value. */
export interface Sample {
  readonly t: number;
  readonly v: number;
}
