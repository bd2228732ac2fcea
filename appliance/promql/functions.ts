// The numeric kernels of PromQL functions and aggregations, following Prometheus's promql/functions.go and
// quantile.go (Kahan-compensated sums, extrapolated rates, classic-histogram quantiles). Pure functions.

/** Neumaier's improved Kahan summation step, exactly as Prometheus's kahanSumInc. Returns [sum, c]. */
export function kahanSumInc(inc: number, sum: number, c: number): [number, number] {
  const t = sum + inc;
  if (!Number.isFinite(t) && !Number.isNaN(t)) c = 0;
  else if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  return [t, c];
}

/** Go's math.Pow special cases, which differ from JS's ** for a base of 1 or -1 with NaN/Inf exponents. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

/** Go's sort order for PromQL value heaps: NaN is smaller than everything. */
function lessNaNFirst(a: number, b: number): number {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
  if (Number.isNaN(b)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Prometheus's quantile(): linear interpolation between closest ranks; NaN sorts first. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...values].sort(lessNaNFirst);
  const n = sorted.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lower]! * (1 - weight) + sorted[upper]! * weight;
}

export interface FPoint {
  t: number;
  v: number;
}

/**
 * Prometheus's extrapolatedRate for rate, increase and delta over the window (rangeStart, rangeEnd], reading
 * the samples ts[lo..hi) / vs[lo..hi) in place (no per-window allocation).
 */
export function extrapolatedRate(
  ts: readonly number[],
  vs: readonly number[],
  lo: number,
  hi: number,
  rangeStart: number,
  rangeEnd: number,
  rangeMs: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const n = hi - lo;
  if (n < 2) return undefined;
  const firstT = ts[lo]!;
  const firstV = vs[lo]!;
  const lastT = ts[hi - 1]!;
  let result = vs[hi - 1]! - firstV;
  if (isCounter) {
    let prev = firstV;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avg = sampledInterval / (n - 1);
  const threshold = avg * 1.1;
  if (durationToStart >= threshold) durationToStart = avg / 2;
  if (isCounter) {
    let durationToZero = durationToStart;
    if (result > 0 && firstV >= 0) durationToZero = sampledInterval * (firstV / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avg / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= rangeMs / 1000;
  return result * factor;
}

/** irate / idelta over the last two samples of ts[lo..hi). */
export function instantValue(
  ts: readonly number[],
  vs: readonly number[],
  lo: number,
  hi: number,
  isRate: boolean,
): number | undefined {
  if (hi - lo < 2) return undefined;
  const lastV = vs[hi - 1]!;
  const prevV = vs[hi - 2]!;
  const result = isRate && lastV < prevV ? lastV : lastV - prevV;
  const interval = ts[hi - 1]! - ts[hi - 2]!;
  if (interval === 0) return undefined;
  return isRate ? result / (interval / 1000) : result;
}

/** Least-squares slope and intercept with x in seconds relative to interceptTime (Prometheus's linearRegression). */
export function linearRegression(pts: readonly FPoint[], interceptTime: number): [number, number] {
  let n = 0;
  let sumX = 0,
    cX = 0,
    sumY = 0,
    cY = 0,
    sumXY = 0,
    cXY = 0,
    sumX2 = 0,
    cX2 = 0;
  const initY = pts[0]!.v;
  let constY = true;
  for (let i = 0; i < pts.length; i++) {
    const p = pts[i]!;
    if (constY && i > 0 && p.v !== initY) constY = false;
    n++;
    const x = (p.t - interceptTime) / 1000;
    [sumX, cX] = kahanSumInc(x, sumX, cX);
    [sumY, cY] = kahanSumInc(p.v, sumY, cY);
    [sumXY, cXY] = kahanSumInc(x * p.v, sumXY, cXY);
    [sumX2, cX2] = kahanSumInc(x * x, sumX2, cX2);
  }
  if (constY) {
    if (!Number.isFinite(initY) && !Number.isNaN(initY)) return [NaN, NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** avg_over_time with Prometheus's overflow-safe incremental mean. */
export function avgOverTime(values: readonly number[]): number {
  let sum = 0,
    mean = 0,
    count = 0,
    c = 0;
  let incremental = false;
  for (const f of values) {
    count++;
    if (!incremental) {
      const [ns, nc] = kahanSumInc(f, sum, c);
      if (count === 1 || Number.isFinite(ns) || Number.isNaN(ns)) {
        sum = ns;
        c = nc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    if (!Number.isFinite(mean) && !Number.isNaN(mean)) {
      if (!Number.isFinite(f) && !Number.isNaN(f) && mean > 0 === f > 0) continue;
      if (Number.isFinite(f)) continue;
    }
    const corrected = mean + c;
    [mean, c] = kahanSumInc(f / count - corrected / count, mean, c);
  }
  return incremental ? mean + c : (sum + c) / count;
}

export function sumOverTime(values: readonly number[]): number {
  let sum = 0,
    c = 0;
  for (const f of values) [sum, c] = kahanSumInc(f, sum, c);
  if (!Number.isFinite(sum) && !Number.isNaN(sum)) return sum;
  return sum + c;
}

/** Population variance with Kahan-compensated Welford updates (stdvar_over_time). */
export function varianceOverTime(values: readonly number[]): number {
  let count = 0,
    mean = 0,
    cMean = 0,
    aux = 0,
    cAux = 0;
  for (const f of values) {
    count++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/** double_exponential_smoothing (Holt's linear method), as Prometheus computes it. */
export function doubleExponentialSmoothing(
  values: readonly number[],
  sf: number,
  tf: number,
): number | undefined {
  const l = values.length;
  if (l < 2) return undefined;
  let s0 = 0;
  let s1 = values[0]!;
  let b = values[1]! - values[0]!;
  for (let i = 1; i < l; i++) {
    const x = sf * values[i]!;
    if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
    const y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

export interface Bucket {
  upperBound: number;
  count: number;
}

/** The result of a classic-histogram quantile, with the annotations Prometheus raises. */
export interface BucketQuantileResult {
  value: number;
  forcedMonotonic: boolean;
}

function almostEqual(a: number, b: number, epsilon: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  const minNormal = 2.2250738585072014e-308;
  if (a === 0 || b === 0 || absSum < minNormal) return diff < epsilon * minNormal;
  return diff / Math.min(absSum, Number.MAX_VALUE) < epsilon;
}

/** Prometheus's BucketQuantile over classic `le` buckets. */
export function bucketQuantile(q: number, input: readonly Bucket[]): BucketQuantileResult {
  if (Number.isNaN(q)) return { value: NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upperBound !== Infinity)
    return { value: NaN, forcedMonotonic: false };
  // Coalesce buckets with the same upper bound.
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  let forcedMonotonic = false;
  let prev = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const cur = buckets[i]!.count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, 1e-12)) {
      buckets[i]!.count = prev;
      continue;
    }
    if (cur < prev) {
      buckets[i]!.count = prev;
      forcedMonotonic = true;
      continue;
    }
    prev = cur;
  }
  if (buckets.length < 2) return { value: NaN, forcedMonotonic };
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return { value: NaN, forcedMonotonic };
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) return { value: buckets[buckets.length - 2]!.upperBound, forcedMonotonic };
  if (b === 0 && buckets[0]!.upperBound <= 0) return { value: buckets[0]!.upperBound, forcedMonotonic };
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return { value: bucketStart + (bucketEnd - bucketStart) * (rank / count), forcedMonotonic };
}

function sortAndCoalesce(input: readonly Bucket[]): Bucket[] | null {
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upperBound !== Infinity) return null;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last !== undefined && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ ...b });
  }
  return buckets;
}

/**
 * The estimated fraction of observations between lower and upper in classic `le` buckets (Prometheus's
 * BucketFraction): linear interpolation inside a bucket, the first bucket starting at 0 when its upper bound
 * is positive (as histogram_quantile assumes).
 */
export function bucketFraction(lower: number, upper: number, input: readonly Bucket[]): number {
  const buckets = sortAndCoalesce(input);
  if (buckets === null) return NaN;
  const count = buckets[buckets.length - 1]!.count;
  if (count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return NaN;
  if (lower >= upper) return 0;
  let rank = 0;
  let lowerRank = 0;
  let upperRank = 0;
  let lowerSet = false;
  let upperSet = false;
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i]!;
    const lowerBound = i > 0 ? buckets[i - 1]!.upperBound : b.upperBound > 0 ? 0 : -Infinity;
    const upperBound = b.upperBound;
    const interpolate = (v: number): number =>
      rank + ((b.count - rank) * (v - lowerBound)) / (upperBound - lowerBound);
    if (!lowerSet && lowerBound >= lower) {
      lowerRank = rank;
      lowerSet = true;
    }
    if (!upperSet && lowerBound >= upper) {
      upperRank = rank;
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    if (!lowerSet && lowerBound < lower && upperBound > lower) {
      lowerRank = interpolate(lower);
      lowerSet = true;
    }
    if (!upperSet && lowerBound < upper && upperBound > upper) {
      upperRank = interpolate(upper);
      upperSet = true;
    }
    if (lowerSet && upperSet) break;
    rank = b.count;
  }
  if (!lowerSet || lowerRank > count) lowerRank = count;
  if (!upperSet || upperRank > count) upperRank = count;
  return (upperRank - lowerRank) / count;
}

/** Go's strconv.FormatFloat(f, 'f', -1, 64) for count_values and le labels. */
export function formatFloatPlain(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  if (!/e/.test(s)) return s;
  const neg = v < 0;
  const [mant, expStr] = (neg ? s.slice(1) : s).split('e') as [string, string];
  const exp = Number(expStr);
  const [intPart, frac = ''] = mant.split('.') as [string, string?];
  const digits = intPart + frac;
  const pointPos = intPart.length + exp;
  let out: string;
  if (pointPos <= 0) out = '0.' + '0'.repeat(-pointPos) + digits;
  else if (pointPos >= digits.length) out = digits + '0'.repeat(pointPos - digits.length);
  else out = digits.slice(0, pointPos) + '.' + digits.slice(pointPos);
  return (neg ? '-' : '') + out;
}

/** Natural ("version") string comparison as used by sort_by_label. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
