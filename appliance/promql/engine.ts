// The PromQL engine: evaluates parsed expressions over a Queryable with Prometheus 3.x semantics.
//
// Supported:
// - Parsing with @prometheus-io/lezer-promql into a typed AST (parser.ts), type checking with Prometheus's
//   messages and positions; number literals (decimal, hex, Inf/NaN, underscores, durations as seconds),
//   string literals with Go escapes, duration arithmetic in ranges/steps (e.g. [1m+30s]).
// - Instant and range queries; selectors with =, !=, =~, !~ (anchored); 5 m lookback (configurable) that is
//   left-open; staleness markers treated as absent; offset (also negative); @ <time>, @ start(), @ end();
//   left-open range selectors; subqueries (default step 1 m); metric-name dropping.
// - Every float function of Prometheus 3.x (rate/increase/delta with extrapolation, irate/idelta, deriv,
//   predict_linear, *_over_time incl. mad/first/ts_of_*, double_exponential_smoothing, label_replace/join,
//   sort*, date functions, math and trig functions, clamp*, round, absent*, scalar, vector, time, timestamp,
//   histogram_quantile and histogram_fraction over classic `le` buckets).
// - All aggregations: sum, avg, min, max, count, group, stddev, stdvar, topk, bottomk, quantile, count_values,
//   limitk, limit_ratio, with by/without.
// - Binary operators with one-to-one/many-to-one/one-to-many matching (on, ignoring, group_left, group_right,
//   bool) and set operators and/or/unless, with Prometheus's error messages for ambiguous matches.
// - Metric-name dropping, immediate (Prometheus's default) or delayed (EngineOptions.delayedNameRemoval).
// - Limits: maxSamples ("query processing would load too many samples into memory in query execution"),
//   timeoutMs ("query timed out in query execution"), abort signals (kind 'canceled'). Evaluation yields to the
//   event loop regularly so scrapes keep running.
// Not supported:
// - Native histograms: the storage holds floats only; histogram_count/sum/avg/stddev/stdvar return nothing
//   for float series (as in Prometheus), and `{{...}}` data cannot be stored.
// - Experimental modifiers `anchored`, `smoothed`, `fill(...)`, step()/range() in durations, info() data
//   enrichment (info() returns its first argument unchanged).
// - Regular expressions are RE2 in Prometheus and JavaScript here: see regex.ts for how the differences are
//   closed (lookarounds and backreferences are rejected, RE2 flag groups and escapes are translated).
import type { Labels, Label } from '../model/labels.ts';
import { compareLabels, labelsKey, METRIC_NAME, getLabel, LabelsBuilder } from '../model/labels.ts';
import { isStaleNaN } from '../model/sample.ts';
import type { Querier, Queryable, Series } from '../storage/interface.ts';
import { PromQLError } from './errors.ts';
import type { PromQLErrorKind } from './errors.ts';
import { parseExpr, exprType, isComparisonOp, isSetOp, goQuote } from './parser.ts';
import type {
  Expr,
  AggregateExpr,
  BinaryExpr,
  Call,
  VectorSelector,
  AtModifier,
  VectorMatching,
} from './parser.ts';
import {
  kahanSumInc,
  goPow,
  quantile,
  extrapolatedRate,
  instantValue,
  linearRegression,
  avgOverTime,
  sumOverTime,
  varianceOverTime,
  doubleExponentialSmoothing,
  bucketQuantile,
  bucketFraction,
  formatFloatPlain,
  naturalCompare,
} from './functions.ts';
import type { FPoint, Bucket } from './functions.ts';
import { compileAnchoredForReplace, expandTemplate } from './regex.ts';

export { PromQLError };
export type { PromQLErrorKind };

export interface EngineOptions {
  /** Most samples a query may hold in memory at once (Prometheus's --query.max-samples; default 50,000,000). */
  maxSamples: number;
  /** Wall-clock budget of one query (default 120,000 ms). */
  timeoutMs: number;
  /** How far back an instant selector looks for the latest sample (default 300,000 ms). */
  lookbackDeltaMs: number;
  /** The clock for timeouts (injectable for tests). */
  now?: () => number;
  /**
   * Prometheus's `promql-delayed-name-removal` feature: functions and operators only mark `__name__` for
   * removal, which happens when the query's result is returned, so `label_replace(rate(x[5m]), "n", "$1",
   * "__name__", "(.+)")` can still read it. Off by default, as in Prometheus; Prometheus's own PromQL test
   * suite runs with it on.
   */
  delayedNameRemoval?: boolean;
}

export type Value =
  | { type: 'vector'; series: { labels: Labels; t: number; v: number }[] }
  | { type: 'matrix'; series: { labels: Labels; points: { t: number; v: number }[] }[] }
  | { type: 'scalar'; t: number; v: number }
  | { type: 'string'; t: number; v: string };

export type QueryResult =
  { ok: true; value: Value; warnings: string[]; infos: string[] } | { ok: false; error: PromQLError };

/** Subquery step when none is given: Prometheus's default evaluation interval. */
const DEFAULT_SUBQUERY_STEP_MS = 60_000;
/** Yield to the event loop after about this much work (milliseconds of CPU). */
const YIELD_EVERY_MS = 20;
/** Most steps one subquery evaluation may have (each step costs memory even when it finds no sample). */
const MAX_SUBQUERY_STEPS = 1_000_000;
/** Range queries are evaluated this many steps at a time (see Engine.evalBatched). */
const BATCH_STEPS = 240;
/** Most steps a range query may have (Prometheus's API refuses more than 11,000 points per series). */
const MAX_STEPS = 11_000;

/** Evaluates PromQL. Stateless between queries; safe to share. */
export class Engine {
  private readonly opts: Required<EngineOptions>;

  constructor(o: EngineOptions) {
    this.opts = {
      maxSamples: o.maxSamples,
      timeoutMs: o.timeoutMs,
      lookbackDeltaMs: o.lookbackDeltaMs,
      now: o.now ?? Date.now,
      delayedNameRemoval: o.delayedNameRemoval ?? false,
    };
  }

  /** Evaluates `expr` at one instant. Errors are returned, never thrown. */
  async instantQuery(q: Queryable, expr: string, timeMs: number, signal?: AbortSignal): Promise<QueryResult> {
    return this.run(q, expr, timeMs, timeMs, 0, true, signal);
  }

  /** Evaluates `expr` at every step from start to end (inclusive). Errors are returned, never thrown. */
  async rangeQuery(
    q: Queryable,
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    return this.run(q, expr, startMs, endMs, stepMs, false, signal);
  }

  /**
   * Evaluates a range query a batch of steps at a time and joins the batches. Every step of PromQL depends
   * only on its own time (and the query's start and end, which stay the query's), so the result is the same,
   * while intermediate results hold at most BATCH_STEPS steps of every series instead of all of them.
   */
  private async evalBatched(ctx: Context, expr: Expr, times: number[]): Promise<Value> {
    if (times.length <= BATCH_STEPS) return ctx.evalTop(expr, times, false);
    const byKey = new Map<string, { labels: Labels; points: { t: number; v: number }[] }>();
    // Balanced batches: none has a single step, which would make it look like an instant evaluation.
    const size = Math.ceil(times.length / Math.ceil(times.length / BATCH_STEPS));
    for (let i = 0; i < times.length; i += size) {
      const part = await ctx.evalTop(expr, times.slice(i, i + size), false);
      if (part.type !== 'matrix')
        throw new PromQLError('execution', `unexpected ${part.type} result of a range query`);
      for (const s of part.series) {
        const k = labelsKey(s.labels);
        const e = byKey.get(k);
        if (e === undefined) byKey.set(k, { labels: s.labels, points: s.points });
        else for (const p of s.points) e.points.push(p);
      }
    }
    return { type: 'matrix', series: [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels)) };
  }

  private async run(
    q: Queryable,
    text: string,
    start: number,
    end: number,
    step: number,
    instant: boolean,
    signal: AbortSignal | undefined,
  ): Promise<QueryResult> {
    try {
      const expr = parseExpr(text);
      if (!instant) {
        if (!(step > 0))
          throw new PromQLError(
            'bad_data',
            'zero or negative query resolution step widths are not accepted. Try a positive integer',
          );
        if (end < start) throw new PromQLError('bad_data', 'end timestamp must not be before start time');
        if ((end - start) / step > MAX_STEPS) {
          throw new PromQLError(
            'bad_data',
            'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
          );
        }
        const t = exprType(expr);
        if (t !== 'scalar' && t !== 'instant vector') {
          throw new PromQLError(
            'bad_data',
            `invalid expression type ${goQuote(t)} for range query, must be Scalar or instant Vector`,
          );
        }
      }
      if (!Number.isFinite(start) || !Number.isFinite(end))
        throw new PromQLError('bad_data', 'invalid query time');
      const ctx = new Context(q.querier(), this.opts, start, end, step, signal);
      const times: number[] = [];
      if (instant) times.push(start);
      else for (let t = start; t <= end; t += step) times.push(t);
      const value = instant ? await ctx.evalTop(expr, times, true) : await this.evalBatched(ctx, expr, times);
      return { ok: true, value, warnings: [...ctx.warnings], infos: [...ctx.infos] };
    } catch (err) {
      if (err instanceof PromQLError) return { ok: false, error: err };
      const msg = err instanceof Error ? err.message : String(err);
      return { ok: false, error: new PromQLError('execution', msg) };
    }
  }
}

/** One element of an instant vector during evaluation; `t` is set only where a sample timestamp matters. */
interface Sample {
  labels: Labels;
  v: number;
  t?: number;
  /** Delayed name removal: `__name__` is still present but goes when the result is returned. */
  dropName?: boolean;
}

/** Loaded raw series. Staleness markers are flagged separately because NaN payloads do not survive arrays. */
interface RawSeries {
  labels: Labels;
  ts: number[];
  vs: number[];
  stale: Uint8Array;
}

/** A range vector: per series all points, and per step the window (start, end]. */
interface RangeValue {
  kind: 'range';
  series: Iterable<{ labels: Labels; ts: number[]; vs: number[]; dropName?: boolean }>;
  windows: { start: number; end: number }[];
  rangeMs: number;
  /** The selector, for absent_over_time's labels and rate's counter-name check. */
  selector: VectorSelector | null;
}

type EvalValue =
  | { kind: 'vector'; steps: Sample[][] }
  | { kind: 'scalar'; steps: number[] }
  | { kind: 'string'; value: string }
  | RangeValue;

function dropName(labels: Labels): Labels {
  for (let i = 0; i < labels.length; i++) {
    if (labels[i]!.name === METRIC_NAME) return labels.filter((l) => l.name !== METRIC_NAME);
  }
  return labels;
}

/** Go's labels.String(): {a="b", c="d"}. */
function labelsGoString(labels: Labels): string {
  return '{' + labels.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ') + '}';
}

/** A label name is valid in Prometheus 3 (UTF-8 names) when it is non-empty valid UTF-8. */
function isValidLabelName(name: string): boolean {
  if (name === '') return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const n = name.charCodeAt(i + 1);
      if (c <= 0xdbff && n >= 0xdc00 && n <= 0xdfff) {
        i++;
        continue;
      }
      return false;
    }
  }
  return true;
}

// Loops rather than Math.min(...xs): spreading a subquery's many steps would overflow the argument limit.
function minOf(xs: readonly number[]): number {
  let m = Infinity;
  for (const x of xs) if (x < m) m = x;
  return m;
}
function maxOf(xs: readonly number[]): number {
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

/** First index with ts > t. */
function upperBound(ts: readonly number[], t: number, from = 0): number {
  let lo = from;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

/** The state of one query: limits, annotations, the querier. */
class Context {
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();
  private readonly querier: Querier;
  private readonly opts: Required<EngineOptions>;
  private readonly queryStart: number;
  private readonly queryEnd: number;
  private readonly queryStep: number;
  private readonly signal: AbortSignal | undefined;
  private readonly deadline: number;
  private lastYield: number;
  private samples = 0;
  /** Label sets are shared between steps, so their map keys are computed once per query. */
  private readonly keys = new WeakMap<Labels, string>();

  private keyOf(labels: Labels): string {
    let k = this.keys.get(labels);
    if (k === undefined) {
      k = labelsKey(labels);
      this.keys.set(labels, k);
    }
    return k;
  }

  constructor(
    querier: Querier,
    opts: Required<EngineOptions>,
    start: number,
    end: number,
    step: number,
    signal: AbortSignal | undefined,
  ) {
    this.querier = querier;
    this.queryStep = step;
    this.opts = opts;
    this.queryStart = start;
    this.queryEnd = end;
    this.signal = signal;
    const now = opts.now();
    this.deadline = now + opts.timeoutMs;
    this.lastYield = now;
    this.checkAbort();
  }

  private checkAbort(): void {
    if (this.signal?.aborted === true)
      throw new PromQLError('canceled', 'query was canceled in query execution');
    if (this.opts.now() > this.deadline)
      throw new PromQLError('timeout', 'query timed out in query execution');
  }

  /** Called in hot loops: yields to the event loop every few milliseconds and checks abort and deadline. */
  private async tick(): Promise<void> {
    const now = this.opts.now();
    if (now - this.lastYield < YIELD_EVERY_MS && now <= this.deadline && this.signal?.aborted !== true)
      return;
    this.checkAbort();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = this.opts.now();
    this.checkAbort();
  }

  private addSamples(n: number): void {
    this.samples += n;
    if (this.samples > this.opts.maxSamples) {
      throw new PromQLError(
        'too_many_samples',
        'query processing would load too many samples into memory in query execution',
      );
    }
  }

  async evalTop(expr: Expr, times: number[], instant: boolean): Promise<Value> {
    const v = await this.eval(expr, times);
    const t0 = times[0]!;
    switch (v.kind) {
      case 'string':
        return { type: 'string', t: t0, v: v.value };
      case 'scalar':
        if (instant) return { type: 'scalar', t: t0, v: v.steps[0]! };
        return {
          type: 'matrix',
          series: [{ labels: [], points: times.map((t, i) => ({ t, v: v.steps[i]! })) }],
        };
      case 'range': {
        const w = v.windows[0]!;
        const series = [];
        for (const s of v.series) {
          const lo = upperBound(s.ts, w.start);
          const hi = upperBound(s.ts, w.end);
          if (hi <= lo) continue;
          const points = [];
          for (let i = lo; i < hi; i++) points.push({ t: s.ts[i]!, v: s.vs[i]! });
          series.push({
            labels: this.cleanup({ labels: s.labels, v: 0, dropName: s.dropName === true }),
            points,
          });
        }
        series.sort((a, b) => compareLabels(a.labels, b.labels));
        return { type: 'matrix', series };
      }
      case 'vector': {
        if (instant) {
          const step = v.steps[0]!.map((s) => ({ labels: this.cleanup(s), v: s.v }));
          this.checkDuplicates(step);
          return { type: 'vector', series: step.map((s) => ({ labels: s.labels, t: t0, v: s.v })) };
        }
        const byKey = new Map<string, { labels: Labels; points: { t: number; v: number }[] }>();
        v.steps.forEach((raw, i) => {
          const step = raw.map((s) => ({ labels: this.cleanup(s), v: s.v }));
          this.checkDuplicates(step);
          for (const s of step) {
            const k = this.keyOf(s.labels);
            let e = byKey.get(k);
            if (e === undefined) {
              e = { labels: s.labels, points: [] };
              byKey.set(k, e);
            }
            e.points.push({ t: times[i]!, v: s.v });
          }
        });
        const series = [...byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
        return { type: 'matrix', series };
      }
    }
  }

  private readonly droppedCache = new WeakMap<Labels, Labels>();
  /** dropName with a per-query cache, so that a series keeps one Labels object across steps. */
  private readonly drop = (l: Labels): Labels => {
    let d = this.droppedCache.get(l);
    if (d === undefined) {
      d = dropName(l);
      this.droppedCache.set(l, d);
    }
    return d;
  };

  /** The labels (and removal mark) of a sample whose metric name an operation drops. */
  private dropped(s: { labels: Labels }): { labels: Labels; dropName?: boolean } {
    return this.opts.delayedNameRemoval
      ? { labels: s.labels, dropName: true }
      : { labels: this.drop(s.labels) };
  }

  /** Removes marked metric names on the way out (delayed name removal). */
  private cleanup(s: Sample): Labels {
    return s.dropName === true ? this.drop(s.labels) : s.labels;
  }

  /**
   * Fails on two samples with one label set. With delayed name removal an instant query checks only its final
   * result (names still differ until then), as Prometheus does; pass nSteps to get that behaviour.
   */
  private checkDuplicates(step: readonly Sample[], nSteps = 2): void {
    if (step.length < 2) return;
    if (this.opts.delayedNameRemoval && nSteps === 1) return;
    const seen = new Set<string>();
    for (const s of step) {
      const k = this.keyOf(s.labels);
      if (seen.has(k))
        throw new PromQLError('execution', 'vector cannot contain metrics with the same labelset');
      seen.add(k);
    }
  }

  private resolveAt(at: AtModifier | null, t: number): number {
    if (at === null) return t;
    if (at.kind === 'time') return at.ms;
    return at.kind === 'start' ? this.queryStart : this.queryEnd;
  }

  async eval(e: Expr, times: number[]): Promise<EvalValue> {
    await this.tick();
    switch (e.kind) {
      case 'number':
        return { kind: 'scalar', steps: times.map(() => e.value) };
      case 'string':
        return { kind: 'string', value: e.value };
      case 'paren':
        return this.eval(e.expr, times);
      case 'unary': {
        const v = await this.eval(e.expr, times);
        if (e.op === '+') return v;
        if (v.kind === 'scalar') return { kind: 'scalar', steps: v.steps.map((x) => -x) };
        if (v.kind === 'vector') {
          return {
            kind: 'vector',
            steps: v.steps.map((st) => st.map((s) => ({ ...this.dropped(s), v: -s.v }))),
          };
        }
        throw new PromQLError('execution', 'unary minus on unsupported type');
      }
      case 'vectorSelector':
        return this.evalVectorSelector(e, times, false);
      case 'matrixSelector':
        return this.evalMatrixSelector(e.selector, e.rangeMs, times);
      case 'subquery':
        return this.evalSubquery(e, times);
      case 'call':
        return this.evalCall(e, times);
      case 'aggregate':
        return this.evalAggregate(e, times);
      case 'binary':
        return this.evalBinary(e, times);
    }
  }

  /**
   * Reads one series' samples in [mint, maxt]; with dropStale, staleness markers are left out (range
   * selectors). Series are read one at a time so that a query holds one series' raw samples, not all of them.
   */
  private readSeries(s: Series, mint: number, maxt: number, dropStale: boolean): RawSeries {
    const ts: number[] = [];
    const vs: number[] = [];
    const stale: number[] = [];
    const it = s.iterator();
    let ok = it.seek(mint);
    while (ok && it.t <= maxt) {
      const v = it.v;
      if (isStaleNaN(v)) {
        if (!dropStale) {
          ts.push(it.t);
          stale.push(1);
          vs.push(NaN);
        }
      } else {
        ts.push(it.t);
        if (!dropStale) stale.push(0);
        vs.push(v);
      }
      ok = it.next();
    }
    return { labels: s.labels, ts, vs, stale: dropStale ? new Uint8Array(0) : Uint8Array.from(stale) };
  }

  private async evalVectorSelector(
    vs: VectorSelector,
    times: number[],
    keepTimestamps: boolean,
  ): Promise<EvalValue> {
    const refs = times.map((t) => this.resolveAt(vs.at, t) - vs.offsetMs);
    const lb = this.opts.lookbackDeltaMs;
    const mint = minOf(refs) - lb + 1;
    const maxt = maxOf(refs);
    const steps: Sample[][] = times.map(() => []);
    let produced = 0;
    for (const series of this.querier.select(vs.matchers, mint, maxt)) {
      const s = this.readSeries(series, mint, maxt, false);
      for (let i = 0; i < refs.length; i++) {
        const ref = refs[i]!;
        const idx = upperBound(s.ts, ref) - 1;
        if (idx < 0) continue;
        const t = s.ts[idx]!;
        if (t <= ref - lb || s.stale[idx] === 1) continue;
        const sample: Sample = { labels: s.labels, v: s.vs[idx]! };
        if (keepTimestamps) sample.t = t;
        steps[i]!.push(sample);
        produced++;
      }
      await this.tick();
    }
    this.addSamples(produced);
    return { kind: 'vector', steps };
  }

  private evalMatrixSelector(vs: VectorSelector, rangeMs: number, times: number[]): RangeValue {
    const refs = times.map((t) => this.resolveAt(vs.at, t) - vs.offsetMs);
    const mint = minOf(refs) - rangeMs + 1;
    const maxt = maxOf(refs);
    const selected = this.querier.select(vs.matchers, mint, maxt);
    const read = (x: Series): RawSeries => this.readSeries(x, mint, maxt, true);
    // Read lazily, one series at a time, by whoever consumes the range vector.
    const series = {
      *[Symbol.iterator](): Iterator<RawSeries> {
        for (const x of selected) yield read(x);
      },
    };
    return {
      kind: 'range',
      series,
      windows: refs.map((r) => ({ start: r - rangeMs, end: r })),
      rangeMs,
      selector: vs,
    };
  }

  private async evalSubquery(e: Expr & { kind: 'subquery' }, times: number[]): Promise<RangeValue> {
    const refs = times.map((t) => this.resolveAt(e.at, t) - e.offsetMs);
    const step = e.stepMs > 0 ? e.stepMs : DEFAULT_SUBQUERY_STEP_MS;
    const lo = minOf(refs) - e.rangeMs;
    let start = step * Math.trunc(lo / step);
    if (start <= lo) start += step;
    const end = maxOf(refs);
    // Counted before anything is allocated: `x[30d:1ms]` must fail cleanly, not exhaust memory.
    const count = end >= start ? Math.floor((end - start) / step) + 1 : 0;
    const limit = Math.min(MAX_SUBQUERY_STEPS, this.opts.maxSamples);
    if (count > limit) {
      throw new PromQLError(
        'execution',
        `subquery would evaluate ${count} steps (more than ${limit}); use a larger subquery step`,
        e.pos,
      );
    }
    const inner: number[] = [];
    for (let t = start; t <= end; t += step) inner.push(t);
    const series: { labels: Labels; ts: number[]; vs: number[] }[] = [];
    if (inner.length > 0) {
      const v = await this.eval(e.expr, inner);
      if (v.kind === 'vector') {
        const byKey = new Map<string, { labels: Labels; ts: number[]; vs: number[]; dropName: boolean }>();
        v.steps.forEach((st, i) => {
          for (const s of st) {
            const k = this.keyOf(s.labels);
            let x = byKey.get(k);
            if (x === undefined) {
              x = { labels: s.labels, ts: [], vs: [], dropName: s.dropName === true };
              byKey.set(k, x);
            }
            x.ts.push(inner[i]!);
            x.vs.push(s.v);
          }
        });
        series.push(...byKey.values());
      } else if (v.kind === 'scalar') {
        series.push({ labels: [], ts: [...inner], vs: v.steps });
      }
    }
    return {
      kind: 'range',
      series,
      windows: refs.map((r) => ({ start: r - e.rangeMs, end: r })),
      rangeMs: e.rangeMs,
      selector: null,
    };
  }

  private async scalarArg(e: Expr | undefined, times: number[], dflt: number): Promise<number[]> {
    if (e === undefined) return times.map(() => dflt);
    const v = await this.eval(e, times);
    if (v.kind !== 'scalar') throw new PromQLError('execution', 'expected a scalar argument');
    return v.steps;
  }
  private async stringArg(e: Expr | undefined): Promise<string> {
    if (e === undefined) throw new PromQLError('execution', 'missing string argument');
    const v = await this.eval(e, [0]);
    if (v.kind !== 'string') throw new PromQLError('execution', 'expected a string argument');
    return v.value;
  }
  private async vectorArg(e: Expr | undefined, times: number[]): Promise<Sample[][]> {
    if (e === undefined) throw new PromQLError('execution', 'missing vector argument');
    const v = await this.eval(e, times);
    if (v.kind !== 'vector') throw new PromQLError('execution', 'expected an instant vector argument');
    return v.steps;
  }

  private async evalCall(e: Call, times: number[]): Promise<EvalValue> {
    const name = e.func.name;
    const rangeArgIdx = e.func.argTypes.indexOf('range vector');
    if (rangeArgIdx >= 0) return this.evalRangeFunction(e, times, rangeArgIdx);
    const mapVec = async (fn: (v: number) => number): Promise<EvalValue> => {
      const steps = await this.vectorArg(e.args[0], times);
      return {
        kind: 'vector',
        steps: steps.map((st) => st.map((s) => ({ ...this.dropped(s), v: fn(s.v) }))),
      };
    };
    switch (name) {
      case 'abs':
        return mapVec(Math.abs);
      case 'ceil':
        return mapVec(Math.ceil);
      case 'floor':
        return mapVec(Math.floor);
      case 'exp':
        return mapVec(Math.exp);
      case 'sqrt':
        return mapVec(Math.sqrt);
      case 'ln':
        return mapVec(Math.log);
      case 'log2':
        return mapVec(Math.log2);
      case 'log10':
        return mapVec(Math.log10);
      case 'sgn':
        return mapVec((v) => (v > 0 ? 1 : v < 0 ? -1 : v));
      case 'deg':
        return mapVec((v) => (v * 180) / Math.PI);
      case 'rad':
        return mapVec((v) => (v * Math.PI) / 180);
      case 'sin':
        return mapVec(Math.sin);
      case 'cos':
        return mapVec(Math.cos);
      case 'tan':
        return mapVec(Math.tan);
      case 'asin':
        return mapVec(Math.asin);
      case 'acos':
        return mapVec(Math.acos);
      case 'atan':
        return mapVec(Math.atan);
      case 'sinh':
        return mapVec(Math.sinh);
      case 'cosh':
        return mapVec(Math.cosh);
      case 'tanh':
        return mapVec(Math.tanh);
      case 'asinh':
        return mapVec(Math.asinh);
      case 'acosh':
        return mapVec(Math.acosh);
      case 'atanh':
        return mapVec(Math.atanh);
      case 'histogram_count':
      case 'histogram_sum':
      case 'histogram_avg':
      case 'histogram_stddev':
      case 'histogram_stdvar': {
        // These read native histograms only; float samples are ignored, as in Prometheus.
        await this.vectorArg(e.args[0], times);
        return { kind: 'vector', steps: times.map(() => []) };
      }
      case 'histogram_fraction':
        return this.histogramQuantile(e, times);
      case 'round': {
        const to = await this.scalarArg(e.args[1], times, 1);
        const steps = await this.vectorArg(e.args[0], times);
        return {
          kind: 'vector',
          steps: steps.map((st, i) => {
            const inv = 1 / to[i]!;
            return st.map((s) => ({ ...this.dropped(s), v: Math.floor(s.v * inv + 0.5) / inv }));
          }),
        };
      }
      case 'clamp':
      case 'clamp_min':
      case 'clamp_max': {
        const steps = await this.vectorArg(e.args[0], times);
        const a = await this.scalarArg(e.args[1], times, NaN);
        const b = name === 'clamp' ? await this.scalarArg(e.args[2], times, NaN) : [];
        return {
          kind: 'vector',
          steps: steps.map((st, i) => {
            const x = a[i]!;
            if (name === 'clamp') {
              const max = b[i]!;
              if (max < x) return [];
              return st.map((s) => ({ ...this.dropped(s), v: Math.max(x, Math.min(max, s.v)) }));
            }
            return st.map((s) => ({
              ...this.dropped(s),
              v: name === 'clamp_min' ? Math.max(x, s.v) : Math.min(x, s.v),
            }));
          }),
        };
      }
      case 'timestamp': {
        let arg = e.args[0]!;
        while (arg.kind === 'paren') arg = arg.expr;
        const v =
          arg.kind === 'vectorSelector'
            ? await this.evalVectorSelector(arg, times, true)
            : await this.eval(arg, times);
        if (v.kind !== 'vector') throw new PromQLError('execution', 'expected an instant vector argument');
        return {
          kind: 'vector',
          steps: v.steps.map((st, i) =>
            st.map((s) => ({ ...this.dropped(s), v: (s.t ?? times[i]!) / 1000 })),
          ),
        };
      }
      case 'sort':
      case 'sort_desc': {
        if (times.length > 1)
          this.warnings.add(
            `PromQL warning: sort is ineffective for range queries since results are always ordered by labels (${posString(e)})`,
          );
        const steps = await this.vectorArg(e.args[0], times);
        const desc = name === 'sort_desc';
        return {
          kind: 'vector',
          steps: steps.map((st) =>
            [...st].sort((x, y) => {
              const xn = Number.isNaN(x.v);
              const yn = Number.isNaN(y.v);
              if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
              return desc ? y.v - x.v : x.v - y.v;
            }),
          ),
        };
      }
      case 'sort_by_label':
      case 'sort_by_label_desc': {
        if (times.length > 1)
          this.warnings.add(
            `PromQL warning: sort is ineffective for range queries since results are always ordered by labels (${posString(e)})`,
          );
        const steps = await this.vectorArg(e.args[0], times);
        const names: string[] = [];
        for (const a of e.args.slice(1)) names.push(await this.stringArg(a));
        const dir = name === 'sort_by_label_desc' ? -1 : 1;
        return {
          kind: 'vector',
          steps: steps.map((st) =>
            [...st].sort((x, y) => {
              for (const n of names) {
                const c = naturalCompare(getLabel(x.labels, n), getLabel(y.labels, n));
                if (c !== 0) return dir * c;
              }
              return dir * compareLabels(x.labels, y.labels);
            }),
          ),
        };
      }
      case 'label_replace':
        return this.labelReplace(e, times);
      case 'label_join':
        return this.labelJoin(e, times);
      case 'info': {
        const steps = await this.vectorArg(e.args[0], times);
        return { kind: 'vector', steps };
      }
      case 'pi':
        return { kind: 'scalar', steps: times.map(() => Math.PI) };
      case 'start':
        return { kind: 'scalar', steps: times.map(() => this.queryStart / 1000) };
      case 'end':
        return { kind: 'scalar', steps: times.map(() => this.queryEnd / 1000) };
      case 'range':
        return { kind: 'scalar', steps: times.map(() => (this.queryEnd - this.queryStart) / 1000) };
      case 'step':
        return { kind: 'scalar', steps: times.map(() => this.queryStep / 1000) };
      case 'min_of':
      case 'max_of': {
        const a = await this.scalarArg(e.args[0], times, NaN);
        const b = await this.scalarArg(e.args[1], times, NaN);
        return {
          kind: 'scalar',
          steps: a.map((x, i) => (name === 'min_of' ? Math.min(x, b[i]!) : Math.max(x, b[i]!))),
        };
      }
      case 'time':
        return { kind: 'scalar', steps: times.map((t) => t / 1000) };
      case 'scalar': {
        const steps = await this.vectorArg(e.args[0], times);
        return { kind: 'scalar', steps: steps.map((st) => (st.length === 1 ? st[0]!.v : NaN)) };
      }
      case 'vector': {
        const s = await this.scalarArg(e.args[0], times, NaN);
        return { kind: 'vector', steps: s.map((v) => [{ labels: [], v }]) };
      }
      case 'absent': {
        const steps = await this.vectorArg(e.args[0], times);
        const labels = absentLabels(e.args[0]!);
        return { kind: 'vector', steps: steps.map((st) => (st.length === 0 ? [{ labels, v: 1 }] : [])) };
      }
      case 'histogram_quantile':
        return this.histogramQuantile(e, times);
      case 'day_of_month':
      case 'day_of_week':
      case 'day_of_year':
      case 'days_in_month':
      case 'hour':
      case 'minute':
      case 'month':
      case 'year': {
        const steps: Sample[][] =
          e.args.length === 0
            ? times.map((t) => [{ labels: [], v: t / 1000 }])
            : await this.vectorArg(e.args[0], times);
        const fn = dateFunction(name);
        return {
          kind: 'vector',
          steps: steps.map((st) => st.map((s) => ({ ...this.dropped(s), v: fn(s.v) }))),
        };
      }
    }
    throw new PromQLError('execution', `function ${goQuote(name)} is not implemented`);
  }

  private async labelReplace(e: Call, times: number[]): Promise<EvalValue> {
    const steps = await this.vectorArg(e.args[0], times);
    const dst = await this.stringArg(e.args[1]);
    const repl = await this.stringArg(e.args[2]);
    const src = await this.stringArg(e.args[3]);
    const regexText = await this.stringArg(e.args[4]);
    let re: RegExp;
    try {
      re = compileAnchoredForReplace(regexText);
    } catch (err) {
      throw new PromQLError(
        'execution',
        `invalid regular expression in label_replace(): ${regexText}: ${(err as Error).message}`,
      );
    }
    if (!isValidLabelName(dst))
      throw new PromQLError('execution', `invalid destination label name in label_replace(): ${dst}`);
    const cache = new Map<string, Labels>();
    const out = steps.map((st) =>
      st.map((s) => {
        const k = this.keyOf(s.labels);
        let labels = cache.get(k);
        if (labels === undefined) {
          labels = s.labels;
          const m = re.exec(getLabel(s.labels, src));
          if (m !== null) {
            const res = expandTemplate(repl, m);
            labels = new LabelsBuilder(s.labels).set(dst, res).labels();
          }
          cache.set(k, labels);
        }
        // Writing __name__ explicitly keeps it (delayed name removal).
        return { labels, v: s.v, dropName: dst === METRIC_NAME ? false : s.dropName === true };
      }),
    );
    for (const st of out) this.checkDuplicates(st, times.length);
    return { kind: 'vector', steps: out };
  }

  private async labelJoin(e: Call, times: number[]): Promise<EvalValue> {
    const steps = await this.vectorArg(e.args[0], times);
    const dst = await this.stringArg(e.args[1]);
    const sep = await this.stringArg(e.args[2]);
    const srcs: string[] = [];
    for (const a of e.args.slice(3)) srcs.push(await this.stringArg(a));
    if (!isValidLabelName(dst))
      throw new PromQLError('execution', `invalid destination label name in label_join(): ${dst}`);
    for (const s of srcs)
      if (!isValidLabelName(s))
        throw new PromQLError('execution', `invalid source label name in label_join(): ${s}`);
    const out = steps.map((st) =>
      st.map((s) => {
        const joined = srcs.map((n) => getLabel(s.labels, n)).join(sep);
        return {
          labels: new LabelsBuilder(s.labels).set(dst, joined).labels(),
          v: s.v,
          dropName: dst === METRIC_NAME ? false : s.dropName === true,
        };
      }),
    );
    for (const st of out) this.checkDuplicates(st, times.length);
    return { kind: 'vector', steps: out };
  }

  /** histogram_quantile and histogram_fraction over classic `le` buckets (grouped by the other labels). */
  private async histogramQuantile(e: Call, times: number[]): Promise<EvalValue> {
    const fraction = e.func.name === 'histogram_fraction';
    const qs = await this.scalarArg(e.args[0], times, NaN);
    const uppers = fraction ? await this.scalarArg(e.args[1], times, NaN) : [];
    const vecArg = e.args[fraction ? 2 : 1]!;
    const steps = await this.vectorArg(vecArg, times);
    const out: Sample[][] = [];
    for (let i = 0; i < steps.length; i++) {
      const q = qs[i]!;
      if (!fraction && (q < 0 || q > 1 || Number.isNaN(q))) {
        this.warnings.add(
          `PromQL warning: quantile value should be between 0 and 1, got ${formatFloatPlain(q)} (${posString(e.args[0]!)})`,
        );
      }
      const groups = new Map<string, { labels: Labels; buckets: Bucket[] }>();
      for (const s of steps[i]!) {
        const le = getLabel(s.labels, 'le');
        const ub = parseLe(le);
        if (ub === null) {
          this.warnings.add(
            `PromQL warning: bucket label "le" is missing or has a malformed value of ${goQuote(le)} for metric name ${goQuote(getLabel(s.labels, METRIC_NAME))} (${posString(vecArg)})`,
          );
          continue;
        }
        const withoutLe = s.labels.filter((l) => l.name !== 'le');
        const labels = this.opts.delayedNameRemoval ? withoutLe : dropName(withoutLe);
        const k = labelsKey(labels);
        let g = groups.get(k);
        if (g === undefined) {
          g = { labels, buckets: [] };
          groups.set(k, g);
        }
        g.buckets.push({ upperBound: ub, count: s.v });
      }
      const vec: Sample[] = [];
      for (const g of groups.values()) {
        if (fraction) {
          vec.push({ labels: g.labels, v: bucketFraction(q, uppers[i]!, g.buckets), dropName: true });
          continue;
        }
        const r = bucketQuantile(q, g.buckets);
        if (r.forcedMonotonic) {
          this.infos.add(
            `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${goQuote(getLabel(steps[i]![0]!.labels, METRIC_NAME).replace(/_bucket$/, ''))} (${posString(vecArg)})`,
          );
        }
        vec.push({ labels: g.labels, v: r.value, dropName: true });
      }
      out.push(vec);
      await this.tick();
    }
    return { kind: 'vector', steps: out };
  }

  private async evalRangeFunction(e: Call, times: number[], idx: number): Promise<EvalValue> {
    const name = e.func.name;
    const arg = e.args[idx]!;
    let inner = arg;
    while (inner.kind === 'paren') inner = inner.expr;
    const scalars: number[][] = [];
    for (let i = 0; i < e.args.length; i++) {
      if (i === idx) continue;
      scalars.push(await this.scalarArg(e.args[i], times, NaN));
    }
    const m = await this.eval(arg, times);
    if (m.kind !== 'range')
      throw new PromQLError('execution', `expected a range vector in call to ${goQuote(name)}`);
    if (name === 'double_exponential_smoothing') {
      for (let i = 0; i < times.length; i++) {
        const sf = scalars[0]![i]!;
        const tf = scalars[1]![i]!;
        if (!(sf > 0 && sf < 1))
          throw new PromQLError(
            'execution',
            `invalid smoothing factor. Expected: 0 < sf < 1, got: ${sf.toFixed(6)}`,
          );
        if (!(tf > 0 && tf < 1))
          throw new PromQLError(
            'execution',
            `invalid trend factor. Expected: 0 < tf < 1, got: ${tf.toFixed(6)}`,
          );
      }
    }
    const keepName = name === 'last_over_time' || name === 'first_over_time';
    const steps: Sample[][] = times.map(() => []);
    const counterCheck = name === 'rate' || name === 'increase' || name === 'irate';
    let produced = 0;
    const outKeys = new Set<string>();
    let seriesCount = 0;
    for (const s of m.series) {
      const out = keepName ? { labels: s.labels, dropName: s.dropName === true } : this.dropped(s);
      outKeys.add(this.keyOf(out.labels));
      seriesCount++;
      let lo = 0;
      let hi = 0;
      let anyValue = false;
      const n = s.ts.length;
      for (let i = 0; i < m.windows.length; i++) {
        const w = m.windows[i]!;
        // Windows move forward with the steps (or stay put under @), so the bounds only ever advance.
        if (i > 0 && w.start < m.windows[i - 1]!.start) lo = 0;
        if (i > 0 && w.end < m.windows[i - 1]!.end) hi = 0;
        while (lo < n && s.ts[lo]! <= w.start) lo++;
        if (hi < lo) hi = lo;
        while (hi < n && s.ts[hi]! <= w.end) hi++;
        if (hi <= lo) continue;
        // Like Prometheus, the samples of the current window count on top of everything held so far.
        if (this.samples + produced + (hi - lo) > this.opts.maxSamples) this.addSamples(produced + (hi - lo));
        if (name === 'quantile_over_time') {
          // Like Prometheus, warn only when a series is actually evaluated with the bad parameter.
          const q = scalars[0]![i]!;
          if (!(q >= 0 && q <= 1))
            this.warnings.add(
              `PromQL warning: quantile value should be between 0 and 1, got ${formatFloatPlain(q)} (${posString(e.args[0]!)})`,
            );
        }
        let v = fastRangeFunction(name, s.ts, s.vs, lo, hi, w.start, w.end, m.rangeMs);
        if (v === null) {
          const pts: FPoint[] = [];
          for (let j = lo; j < hi; j++) pts.push({ t: s.ts[j]!, v: s.vs[j]! });
          v = rangeFunction(name, pts, m.rangeMs, scalars, i, times[i]!);
        }
        if (v === undefined) continue;
        anyValue = true;
        steps[i]!.push({ ...out, v });
        produced++;
      }
      if (counterCheck && anyValue) {
        const metric = getLabel(s.labels, METRIC_NAME);
        if (metric !== '' && !COUNTER_SUFFIXES.some((suf) => metric.endsWith(suf))) {
          this.infos.add(
            `PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${goQuote(metric)} (${posString(arg)})`,
          );
        }
      }
      await this.tick();
    }
    if (name === 'absent_over_time') {
      const labels = inner.kind === 'matrixSelector' ? absentLabels(inner.selector) : [];
      return { kind: 'vector', steps: steps.map((st) => (st.length === 0 ? [{ labels, v: 1 }] : [])) };
    }
    // Output series keep their label sets at every step, so distinct label sets rule out duplicates at once.
    const distinct = outKeys.size === seriesCount;
    if (!distinct) for (const st of steps) this.checkDuplicates(st, times.length);
    this.addSamples(produced);
    return { kind: 'vector', steps };
  }

  private async evalAggregate(e: AggregateExpr, times: number[]): Promise<EvalValue> {
    let params: number[] = [];
    let labelParam = '';
    if (e.op === 'count_values') {
      labelParam = await this.stringArg(e.param!);
      if (!isValidLabelName(labelParam))
        throw new PromQLError('execution', `invalid label name ${goQuote(labelParam)}`);
    } else if (e.param !== null) {
      params = await this.scalarArg(e.param, times, NaN);
    }
    const steps = await this.vectorArg(e.expr, times);
    const groupingSet = new Set(e.grouping);
    // Keyed by label-set identity: the same series carries the same Labels object at every step.
    const keyCache = new WeakMap<Labels, { key: string; labels: Labels }>();
    const groupOf = (labels: Labels): { key: string; labels: Labels } => {
      let g = keyCache.get(labels);
      if (g === undefined) {
        const kept: Label[] = e.without
          ? labels.filter((l) => l.name !== METRIC_NAME && !groupingSet.has(l.name))
          : labels.filter((l) => groupingSet.has(l.name));
        g = { key: labelsKey(kept), labels: kept };
        keyCache.set(labels, g);
      }
      return g;
    };
    const out: Sample[][] = [];
    for (let i = 0; i < steps.length; i++) {
      out.push(this.aggregateStep(e, steps[i]!, params[i] ?? NaN, labelParam, groupOf));
      await this.tick();
    }
    return { kind: 'vector', steps: out };
  }

  private aggregateStep(
    e: AggregateExpr,
    vec: Sample[],
    param: number,
    labelParam: string,
    groupOf: (l: Labels) => { key: string; labels: Labels },
  ): Sample[] {
    const op = e.op;
    if (op === 'topk' || op === 'bottomk' || op === 'limitk') {
      if (Number.isNaN(param)) throw new PromQLError('execution', 'Parameter value is NaN');
      if (vec.length === 0) return [];
      const k = Math.min(Math.trunc(param), Number.MAX_SAFE_INTEGER);
      if (k < 1) return [];
      const groups = new Map<string, Sample[]>();
      for (const s of vec) {
        const g = groupOf(s.labels).key;
        let arr = groups.get(g);
        if (arr === undefined) groups.set(g, (arr = []));
        arr.push(s);
      }
      const res: Sample[] = [];
      for (const arr of groups.values()) {
        if (op === 'limitk') {
          res.push(...arr.slice(0, k));
          continue;
        }
        const top = op === 'topk';
        // NaN always ranks last, in both directions.
        const sorted = [...arr].sort((a, b) => {
          const an = Number.isNaN(a.v);
          const bn = Number.isNaN(b.v);
          if (an || bn) return an === bn ? 0 : an ? 1 : -1;
          return top ? b.v - a.v : a.v - b.v;
        });
        res.push(...sorted.slice(0, k));
      }
      return res;
    }
    if (op === 'limit_ratio') {
      if (Number.isNaN(param)) throw new PromQLError('execution', 'Ratio value is NaN');
      let r = param;
      if (r > 1) r = 1;
      if (r < -1) r = -1;
      if (param > 1 || param < -1)
        this.warnings.add(
          `PromQL warning: ratio value should be between -1 and 1, got ${formatFloatPlain(param)} (${posString(e.param!)})`,
        );
      return vec.filter((s) => {
        const off = labelsHashFraction(s.labels);
        return r >= 0 ? off < r : off >= 1 + r;
      });
    }
    if (op === 'quantile' && !(param >= 0 && param <= 1)) {
      this.warnings.add(
        `PromQL warning: quantile value should be between 0 and 1, got ${formatFloatPlain(param)} (${posString(e.param!)})`,
      );
    }
    interface Group {
      labels: Labels;
      value: number;
      c: number;
      mean: number;
      count: number;
      incremental: boolean;
      values: number[];
      dropName: boolean;
    }
    const groups = new Map<string, Group>();
    for (const s of vec) {
      let gk = groupOf(s.labels);
      if (op === 'count_values') {
        const labels = new LabelsBuilder(gk.labels).set(labelParam, formatFloatPlain(s.v)).labels();
        gk = { key: labelsKey(labels), labels };
      }
      const f = s.v;
      const g = groups.get(gk.key);
      if (g === undefined) {
        groups.set(gk.key, {
          labels: gk.labels,
          // A group keeps __name__ only with by (__name__); it is dropped if any member's name is.
          dropName: s.dropName === true,
          value:
            op === 'stddev' || op === 'stdvar'
              ? Number.isFinite(f)
                ? 0
                : NaN
              : op === 'count' || op === 'count_values' || op === 'group'
                ? 1
                : f,
          c: 0,
          mean: f,
          count: 1,
          incremental: false,
          values: op === 'quantile' ? [f] : [],
        });
        continue;
      }
      if (s.dropName === true) g.dropName = true;
      switch (op) {
        case 'sum':
          [g.value, g.c] = kahanSumInc(f, g.value, g.c);
          break;
        case 'avg': {
          g.count++;
          if (!g.incremental) {
            const [nv, nc] = kahanSumInc(f, g.value, g.c);
            if (Number.isFinite(nv) || Number.isNaN(nv)) {
              g.value = nv;
              g.c = nc;
              break;
            }
            g.incremental = true;
            g.mean = g.value / (g.count - 1);
            g.c /= g.count - 1;
          }
          if (!Number.isFinite(g.mean) && !Number.isNaN(g.mean)) {
            if (!Number.isFinite(f) && !Number.isNaN(f) && g.mean > 0 === f > 0) break;
            if (Number.isFinite(f)) break;
          }
          const cur = g.mean + g.c;
          [g.mean, g.c] = kahanSumInc(f / g.count - cur / g.count, g.mean, g.c);
          break;
        }
        case 'count':
        case 'count_values':
          g.value++;
          break;
        case 'group':
          break;
        case 'max':
          if (g.value < f || Number.isNaN(g.value)) g.value = f;
          break;
        case 'min':
          if (g.value > f || Number.isNaN(g.value)) g.value = f;
          break;
        case 'stddev':
        case 'stdvar': {
          g.count++;
          const delta = f - g.mean;
          g.mean += delta / g.count;
          g.value += delta * (f - g.mean);
          break;
        }
        case 'quantile':
          g.values.push(f);
          break;
      }
    }
    const res: Sample[] = [];
    for (const g of groups.values()) {
      let v = g.value;
      switch (op) {
        case 'sum':
          if (Number.isFinite(v)) v += g.c;
          break;
        case 'avg':
          v = g.incremental ? g.mean + g.c : (g.value + g.c) / g.count;
          break;
        case 'stdvar':
          v = g.value / g.count;
          break;
        case 'stddev':
          v = Math.sqrt(g.value / g.count);
          break;
        case 'quantile':
          v = quantile(param, g.values);
          break;
      }
      res.push(g.dropName ? { labels: g.labels, v, dropName: true } : { labels: g.labels, v });
    }
    return res;
  }

  private async evalBinary(e: BinaryExpr, times: number[]): Promise<EvalValue> {
    const l = await this.eval(e.lhs, times);
    const r = await this.eval(e.rhs, times);
    const op = e.op;
    if (l.kind === 'scalar' && r.kind === 'scalar') {
      return {
        kind: 'scalar',
        steps: l.steps.map((a, i) => {
          const [v, keep] = scalarBinop(op, a, r.steps[i]!);
          return isComparisonOp(op) ? (keep ? 1 : 0) : v;
        }),
      };
    }
    if (l.kind === 'vector' && r.kind === 'vector') {
      const m = e.matching!;
      // Per-node caches keyed by label-set identity: series keep their Labels objects across steps.
      const results = new WeakMap<Labels, WeakMap<Labels, Labels>>();
      const resultLabels = (lhs: Labels, rhs: Labels, compute: () => Labels): Labels => {
        let inner = results.get(lhs);
        if (inner === undefined) results.set(lhs, (inner = new WeakMap()));
        let res = inner.get(rhs);
        if (res === undefined) inner.set(rhs, (res = compute()));
        return res;
      };
      const sigs = new WeakMap<Labels, string>();
      const sig = (labels: Labels): string => {
        let x = sigs.get(labels);
        if (x === undefined) sigs.set(labels, (x = signature(labels, m)));
        return x;
      };
      const out: Sample[][] = [];
      for (let i = 0; i < times.length; i++) {
        const lv = l.steps[i]!;
        const rv = r.steps[i]!;
        let res: Sample[];
        if (op === 'and') res = setAnd(lv, rv, sig);
        else if (op === 'or') res = setOr(lv, rv, sig);
        else if (op === 'unless') res = setUnless(lv, rv, sig);
        else res = vectorBinop(op, lv, rv, m, e.returnBool, sig, resultLabels, this.opts.delayedNameRemoval);
        out.push(res);
        await this.tick();
      }
      if (!isSetOp(op)) for (const st of out) this.checkDuplicates(st, times.length);
      return { kind: 'vector', steps: out };
    }
    if (l.kind === 'vector' && r.kind === 'scalar') {
      return {
        kind: 'vector',
        steps: l.steps.map((st, i) =>
          vectorScalarBinop(op, st, r.steps[i]!, false, e.returnBool, (x) => this.dropped(x)),
        ),
      };
    }
    if (l.kind === 'scalar' && r.kind === 'vector') {
      return {
        kind: 'vector',
        steps: r.steps.map((st, i) =>
          vectorScalarBinop(op, st, l.steps[i]!, true, e.returnBool, (x) => this.dropped(x)),
        ),
      };
    }
    throw new PromQLError('execution', 'binary expression must contain only scalar and instant vector types');
  }
}

function posString(e: Expr): string {
  return `${1}:${e.pos.start + 1}`;
}

function parseLe(le: string): number | null {
  if (le === '') return null;
  const t = le.trim();
  if (/^[+]?inf$/i.test(t)) return Infinity;
  if (/^-inf$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t) && !/^[+-]?0x[0-9a-f]+$/i.test(t)) return null;
  return Number(t);
}

/** The labels absent() reports: the equality matchers of a selector, except the metric name. */
function absentLabels(e: Expr): Labels {
  let x = e;
  while (x.kind === 'paren') x = x.expr;
  const vs = x.kind === 'vectorSelector' ? x : x.kind === 'matrixSelector' ? x.selector : null;
  if (vs === null) return [];
  // A label constrained by more than one matcher has no single value to report, so it is left out.
  const counts = new Map<string, number>();
  for (const m of vs.matchers) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  const b = new LabelsBuilder();
  for (const m of vs.matchers) {
    if (m.name !== METRIC_NAME && m.type === '=' && counts.get(m.name) === 1) b.set(m.name, m.value);
  }
  return b.labels();
}

/** A stable fraction in [0, 1) from the label set (FNV-1a 64-bit over name/value bytes), for limit_ratio. */
function labelsHashFraction(labels: Labels): number {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = (1n << 64n) - 1n;
  for (const byte of Buffer.from(labelsKey(labels), 'utf8')) {
    h ^= BigInt(byte);
    h = (h * prime) & mask;
  }
  return Number(h % mask) / Number(mask);
}

function dateFunction(name: string): (v: number) => number {
  return (v) => {
    if (!Number.isFinite(v)) return NaN;
    const d = new Date(Math.trunc(v) * 1000);
    if (Number.isNaN(d.getTime())) return NaN;
    switch (name) {
      case 'day_of_month':
        return d.getUTCDate();
      case 'day_of_week':
        return d.getUTCDay();
      case 'day_of_year': {
        const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1);
        return Math.floor((d.getTime() - startOfYear) / 86_400_000) + 1;
      }
      case 'days_in_month':
        return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      case 'hour':
        return d.getUTCHours();
      case 'minute':
        return d.getUTCMinutes();
      case 'month':
        return d.getUTCMonth() + 1;
      default:
        return d.getUTCFullYear();
    }
  };
}

/** The common range functions computed in place over ts/vs[lo..hi); null for the others. */
function fastRangeFunction(
  name: string,
  ts: readonly number[],
  vs: readonly number[],
  lo: number,
  hi: number,
  start: number,
  end: number,
  rangeMs: number,
): number | undefined | null {
  switch (name) {
    case 'rate':
      return extrapolatedRate(ts, vs, lo, hi, start, end, rangeMs, true, true);
    case 'increase':
      return extrapolatedRate(ts, vs, lo, hi, start, end, rangeMs, true, false);
    case 'delta':
      return extrapolatedRate(ts, vs, lo, hi, start, end, rangeMs, false, false);
    case 'irate':
      return instantValue(ts, vs, lo, hi, true);
    case 'idelta':
      return instantValue(ts, vs, lo, hi, false);
    case 'count_over_time':
      return hi - lo;
    case 'present_over_time':
    case 'absent_over_time':
      return 1;
    case 'last_over_time':
      return vs[hi - 1]!;
    case 'first_over_time':
      return vs[lo]!;
    case 'max_over_time':
    case 'min_over_time': {
      const isMax = name === 'max_over_time';
      let m = vs[lo]!;
      for (let j = lo + 1; j < hi; j++) {
        const v = vs[j]!;
        if ((isMax ? v > m : v < m) || Number.isNaN(m)) m = v;
      }
      return m;
    }
    case 'sum_over_time': {
      let sum = 0;
      let c = 0;
      for (let j = lo; j < hi; j++) [sum, c] = kahanSumInc(vs[j]!, sum, c);
      return !Number.isFinite(sum) && !Number.isNaN(sum) ? sum : sum + c;
    }
  }
  return null;
}

function rangeFunction(
  name: string,
  pts: FPoint[],
  rangeMs: number,
  scalars: number[][],
  step: number,
  evalTime: number,
): number | undefined {
  const values = (): number[] => pts.map((p) => p.v);
  switch (name) {
    case 'deriv': {
      if (pts.length < 2) return undefined;
      return linearRegression(pts, pts[0]!.t)[0];
    }
    case 'predict_linear': {
      if (pts.length < 2) return undefined;
      const [slope, intercept] = linearRegression(pts, evalTime);
      return slope * scalars[0]![step]! + intercept;
    }
    case 'changes':
    case 'resets': {
      let n = 0;
      for (let i = 1; i < pts.length; i++) {
        const prev = pts[i - 1]!.v;
        const cur = pts[i]!.v;
        if (name === 'changes') {
          if (!(cur === prev || (Number.isNaN(cur) && Number.isNaN(prev)))) n++;
        } else if (cur < prev) n++;
      }
      return n;
    }
    case 'avg_over_time':
      return avgOverTime(values());
    case 'sum_over_time':
      return sumOverTime(values());
    case 'count_over_time':
      return pts.length;
    case 'max_over_time': {
      let m = pts[0]!.v;
      for (const p of pts) if (p.v > m || Number.isNaN(m)) m = p.v;
      return m;
    }
    case 'min_over_time': {
      let m = pts[0]!.v;
      for (const p of pts) if (p.v < m || Number.isNaN(m)) m = p.v;
      return m;
    }
    case 'stddev_over_time':
      return Math.sqrt(varianceOverTime(values()));
    case 'stdvar_over_time':
      return varianceOverTime(values());
    case 'last_over_time':
      return pts[pts.length - 1]!.v;
    case 'first_over_time':
      return pts[0]!.v;
    case 'ts_of_last_over_time':
      return pts[pts.length - 1]!.t / 1000;
    case 'ts_of_first_over_time':
      return pts[0]!.t / 1000;
    case 'ts_of_max_over_time':
    case 'ts_of_min_over_time': {
      const isMax = name === 'ts_of_max_over_time';
      let m = pts[0]!.v;
      let t = pts[0]!.t;
      for (const p of pts) {
        if ((isMax ? p.v >= m : p.v <= m) || Number.isNaN(m)) {
          m = p.v;
          t = p.t;
        }
      }
      return t / 1000;
    }
    case 'present_over_time':
      return 1;
    case 'absent_over_time':
      return 1;
    case 'quantile_over_time':
      return quantile(scalars[0]![step]!, values());
    case 'mad_over_time': {
      const vs = values();
      if (vs.some((v) => Number.isNaN(v))) return NaN;
      const med = quantile(0.5, vs);
      return quantile(
        0.5,
        vs.map((v) => Math.abs(v - med)),
      );
    }
    case 'double_exponential_smoothing':
      return doubleExponentialSmoothing(values(), scalars[0]![step]!, scalars[1]![step]!);
  }
  throw new PromQLError('execution', `function ${goQuote(name)} is not implemented`);
}

/** Applies a binary operator to two floats; the boolean is "keep" for comparisons. */
function scalarBinop(op: string, l: number, r: number): [number, boolean] {
  switch (op) {
    case '+':
      return [l + r, true];
    case '-':
      return [l - r, true];
    case '*':
      return [l * r, true];
    case '/':
      return [l / r, true];
    case '%':
      return [l % r, true];
    case '^':
      return [goPow(l, r), true];
    case 'atan2':
      return [Math.atan2(l, r), true];
    case '==':
      return [l, l === r];
    case '!=':
      return [l, l !== r];
    case '>':
      return [l, l > r];
    case '<':
      return [l, l < r];
    case '>=':
      return [l, l >= r];
    case '<=':
      return [l, l <= r];
  }
  throw new PromQLError('execution', `operator ${goQuote(op)} not allowed for scalar operations`);
}

function vectorScalarBinop(
  op: string,
  vec: Sample[],
  scalar: number,
  swap: boolean,
  returnBool: boolean,
  dropped: (s: Sample) => { labels: Labels; dropName?: boolean },
): Sample[] {
  const out: Sample[] = [];
  const cmp = COMPARISON.has(op);
  for (const s of vec) {
    const [l, r] = swap ? [scalar, s.v] : [s.v, scalar];
    let [v, keep] = scalarBinop(op, l, r);
    if (cmp && swap) v = r;
    if (returnBool) {
      v = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    out.push(
      !cmp || returnBool ? { ...dropped(s), v } : { labels: s.labels, v, dropName: s.dropName === true },
    );
  }
  return out;
}

const COMPARISON = new Set(['==', '!=', '>', '<', '>=', '<=']);

function signature(labels: Labels, m: VectorMatching): string {
  let s = '';
  if (m.on) {
    const names = new Set(m.matchingLabels);
    for (const l of labels) if (names.has(l.name)) s += l.name + '\uffff' + l.value + '\ufffe';
  } else {
    const names = new Set(m.matchingLabels);
    for (const l of labels)
      if (l.name !== METRIC_NAME && !names.has(l.name)) s += l.name + '\uffff' + l.value + '\ufffe';
  }
  return s;
}

function matchedLabels(labels: Labels, m: VectorMatching): Labels {
  const names = new Set(m.matchingLabels);
  return m.on
    ? labels.filter((l) => names.has(l.name))
    : labels.filter((l) => l.name !== METRIC_NAME && !names.has(l.name));
}

type SigFn = (labels: Labels) => string;

function setAnd(l: Sample[], r: Sample[], sig: SigFn): Sample[] {
  const sigs = new Set(r.map((s) => sig(s.labels)));
  return l.filter((s) => sigs.has(sig(s.labels)));
}
function setOr(l: Sample[], r: Sample[], sig: SigFn): Sample[] {
  const sigs = new Set(l.map((s) => sig(s.labels)));
  return [...l, ...r.filter((s) => !sigs.has(sig(s.labels)))];
}
function setUnless(l: Sample[], r: Sample[], sig: SigFn): Sample[] {
  const sigs = new Set(r.map((s) => sig(s.labels)));
  return l.filter((s) => !sigs.has(sig(s.labels)));
}

/** Prometheus's VectorBinop for arithmetic and comparison operators between two instant vectors. */
function vectorBinop(
  op: string,
  lhsIn: Sample[],
  rhsIn: Sample[],
  m: VectorMatching,
  returnBool: boolean,
  sigOf: SigFn,
  cached: (lhs: Labels, rhs: Labels, compute: () => Labels) => Labels,
  delayed: boolean,
): Sample[] {
  const oneToMany = m.card === 'one-to-many';
  const lhs = oneToMany ? rhsIn : lhsIn;
  const rhs = oneToMany ? lhsIn : rhsIn;
  const cmp = COMPARISON.has(op);
  const right = new Map<string, Sample>();
  for (const rs of rhs) {
    const sig = sigOf(rs.labels);
    const dup = right.get(sig);
    if (dup !== undefined) {
      const side = oneToMany ? 'left' : 'right';
      throw new PromQLError(
        'execution',
        `found duplicate series for the match group ${labelsGoString(matchedLabels(rs.labels, m))} on the ${side} hand-side of the operation: [${labelsGoString(dup.labels)}, ${labelsGoString(rs.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
      );
    }
    right.set(sig, rs);
  }
  const out: Sample[] = [];
  const inserted = new Map<string, Labels>();
  const insertedOut = new Set<string>();
  for (const ls of lhs) {
    const sig = sigOf(ls.labels);
    const rs = right.get(sig);
    if (rs === undefined) continue;
    let [vl, vr] = [ls.v, rs.v];
    if (oneToMany) [vl, vr] = [vr, vl];
    let [v, keep] = scalarBinop(op, vl, vr);
    if (returnBool) {
      v = keep ? 1 : 0;
      keep = true;
    }
    if (m.card === 'one-to-one') {
      const prev = inserted.get(sig);
      if (prev !== undefined) {
        throw new PromQLError(
          'execution',
          `found duplicate series for the match group ${labelsGoString(matchedLabels(ls.labels, m))} on the left hand-side of the operation: [${labelsGoString(prev)}, ${labelsGoString(ls.labels)}];many-to-many matching not allowed: matching labels must be unique on one side`,
        );
      }
      inserted.set(sig, ls.labels);
    }
    if (!keep) continue;
    // Arithmetic drops the name at once even with delayed name removal (Prometheus's resultMetric does);
    // a bool comparison only marks it then.
    const keepName = cmp && (!returnBool || delayed);
    const metric = cached(ls.labels, rs.labels, () => resultMetric(ls.labels, rs.labels, m, keepName));
    if (m.card !== 'one-to-one') {
      const k = labelsKey(metric);
      if (insertedOut.has(k))
        throw new PromQLError(
          'execution',
          'multiple matches for labels: grouping labels must ensure unique matches',
        );
      insertedOut.add(k);
    }
    out.push({ labels: metric, v, dropName: returnBool ? delayed : cmp && ls.dropName === true });
  }
  return out;
}

function resultMetric(lhs: Labels, rhs: Labels, m: VectorMatching, keepName: boolean): Labels {
  const b = new LabelsBuilder(lhs);
  if (!keepName) b.delete(METRIC_NAME);
  if (m.card === 'one-to-one') {
    if (m.on) {
      const keep = new Set(m.matchingLabels);
      for (const n of b.names()) if (!keep.has(n)) b.delete(n);
    } else {
      for (const n of m.matchingLabels) b.delete(n);
    }
  }
  for (const n of m.include) {
    const v = getLabel(rhs, n);
    if (v !== '') b.set(n, v);
    else b.delete(n);
  }
  return b.labels();
}
