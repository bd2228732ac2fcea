// The samples committed in the last minutes, in commit order, in typed arrays: remote write's fast path once
// it has caught up. Reading the newest seconds through select() costs a query per step (every series matched,
// a chunk view and an iterator each, for one sample per series); this hands the same samples over from memory.

/** What one read returns: groups of samples per series ref, in commit order within a series. */
export interface RecentEntries {
  readonly count: number;
  readonly refs: Int32Array;
  readonly t: Float64Array;
  /** Float64Array, so that the bits of staleness markers survive. */
  readonly v: Float64Array;
}

/**
 * A bounded ring of (series ref, timestamp, value). Entries older than `spanMs` before the newest push are
 * dropped from the front; when full at `maxEntries` the oldest go too. Every sample committed with a timestamp
 * above `coveredAfter()` is in the ring: that is what lets a reader tell whether the ring can answer.
 */
export class RecentRing {
  private refs: Int32Array;
  private ts: Float64Array;
  private vs: Float64Array;
  private head = 0;
  private size = 0;
  private cover: number;
  private readonly spanMs: number;
  private readonly maxEntries: number;

  /** `coveredAfter`: samples at or before it may exist that the ring never saw (stored before it started). */
  constructor(coveredAfter: number, spanMs: number, maxEntries: number, initialEntries = 16_384) {
    this.cover = coveredAfter;
    this.spanMs = spanMs;
    this.maxEntries = maxEntries;
    const n = Math.min(initialEntries, maxEntries);
    this.refs = new Int32Array(n);
    this.ts = new Float64Array(n);
    this.vs = new Float64Array(n);
  }

  coveredAfter(): number {
    return this.cover;
  }

  get length(): number {
    return this.size;
  }

  /** Appends `n` committed samples; `now` expires what is older than the span. */
  push(refs: ArrayLike<number>, ts: ArrayLike<number>, values: Float64Array, n: number, now: number): void {
    this.expire(now - this.spanMs);
    for (let i = 0; i < n; i++) {
      if (this.size === this.refs.length && !this.grow()) this.dropOldest();
      const k = (this.head + this.size) % this.refs.length;
      this.refs[k] = refs[i]!;
      this.ts[k] = ts[i]!;
      // A Float64Array element copied to another keeps its NaN payload (the staleness marker).
      this.vs[k] = values[i]!;
      this.size++;
    }
  }

  /** Every entry with from < t <= to, in ring (commit) order. */
  read(from: number, to: number): RecentEntries {
    const cap = this.refs.length;
    let count = 0;
    for (let i = 0; i < this.size; i++) {
      const t = this.ts[(this.head + i) % cap]!;
      if (t > from && t <= to) count++;
    }
    const out = {
      count,
      refs: new Int32Array(count),
      t: new Float64Array(count),
      v: new Float64Array(count),
    };
    let j = 0;
    for (let i = 0; i < this.size; i++) {
      const k = (this.head + i) % cap;
      const t = this.ts[k]!;
      if (t > from && t <= to) {
        out.refs[j] = this.refs[k]!;
        out.t[j] = t;
        out.v[j] = this.vs[k]!;
        j++;
      }
    }
    return out;
  }

  private expire(before: number): void {
    while (this.size > 0 && this.ts[this.head]! < before) this.dropOldest();
  }

  private dropOldest(): void {
    const t = this.ts[this.head]!;
    if (t > this.cover) this.cover = t;
    this.head = (this.head + 1) % this.refs.length;
    this.size--;
  }

  private grow(): boolean {
    const cap = this.refs.length;
    if (cap >= this.maxEntries) return false;
    const next = Math.min(this.maxEntries, cap * 2);
    const refs = new Int32Array(next);
    const ts = new Float64Array(next);
    const vs = new Float64Array(next);
    for (let i = 0; i < this.size; i++) {
      const k = (this.head + i) % cap;
      refs[i] = this.refs[k]!;
      ts[i] = this.ts[k]!;
      vs[i] = this.vs[k]!;
    }
    this.refs = refs;
    this.ts = ts;
    this.vs = vs;
    this.head = 0;
    return true;
  }
}
