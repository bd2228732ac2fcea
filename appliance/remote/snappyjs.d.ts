// Types for snappyjs 0.7 (pure-JS Snappy, block format). Only one npm install was allowed for the remote
// writer, so this small declaration stands in for @types/snappyjs; it covers the two functions the package
// exports. A Uint8Array in gives a Uint8Array out (a Buffer in gives a Buffer).
declare module 'snappyjs' {
  /** Compresses to the Snappy block format (uvarint length + elements), never the framed stream format. */
  export function compress(uncompressed: Uint8Array): Uint8Array;
  /** Decompresses a Snappy block; throws when the declared length exceeds `maxLength`. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
}
