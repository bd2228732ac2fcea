// The Prometheus-compatible query API: /api/v1/query, /query_range, /series, /labels, /label/<name>/values,
// /metadata (and /status/buildinfo, /query_exemplars for clients that probe them). Grafana, PromLens and
// Perses point at the appliance and work unchanged, so everything observable follows Prometheus's
// web/api/v1/api.go: parameter parsing (r.FormValue semantics: a form body before the URL query, the first
// value wins; `match[]` repeated), defaults, error texts, error types and their status codes (bad_data 400,
// execution 422, canceled and timeout 503, internal 500), and the JSON encoding of samples (timestamps as
// seconds with millisecond fractions, values as strings in Go's shortest form, "+Inf", "-Inf", "NaN").
//
// The router is stateless: every request evaluates against `deps.queryable` through `deps.engine`.
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { parseDuration } from '../config/duration.ts';
import type { Labels } from '../model/labels.ts';
import { compareLabels, labelsKey, LABEL_NAME_RE, METRIC_NAME } from '../model/labels.ts';
import type { Matcher } from '../model/matcher.ts';
import { newMatcher } from '../model/matcher.ts';
import { parseExpr } from '../promql/parser.ts';
import type { Queryable } from '../storage/interface.ts';

// ---- the engine as this module sees it (appliance/promql/engine.ts satisfies it) ----

/** A PromQL value, as the engine returns it. Timestamps in milliseconds. */
export type QueryValue =
  | { type: 'vector'; series: { labels: Labels; t: number; v: number }[] }
  | { type: 'matrix'; series: { labels: Labels; points: { t: number; v: number }[] }[] }
  | { type: 'scalar'; t: number; v: number }
  | { type: 'string'; t: number; v: string };

/** Engine error kinds; `too_many_samples` is an execution error in the API, as in Prometheus. */
export type QueryErrorKind = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'too_many_samples';

export type QueryOutcome =
  | { ok: true; value: QueryValue; warnings: string[]; infos: string[] }
  | { ok: false; error: { kind: QueryErrorKind; message: string } };

/**
 * The PromQL engine's interface. Contract: never throws for a bad query or an evaluation failure (those are
 * `ok: false` outcomes); aborting `signal` ends evaluation with kind 'canceled'.
 */
export interface QueryEngine {
  instantQuery(q: Queryable, expr: string, timeMs: number, signal?: AbortSignal): Promise<QueryOutcome>;
  rangeQuery(
    q: Queryable,
    expr: string,
    startMs: number,
    endMs: number,
    stepMs: number,
    signal?: AbortSignal,
  ): Promise<QueryOutcome>;
}

/** Metric metadata by family name (what the scrapes' `# TYPE`, `# HELP`, `# UNIT` lines said). */
export type MetadataSource = () => ReadonlyMap<string, { type: string; help: string; unit: string }>;

/** The subset of the logger this module uses. */
export interface ApiLogger {
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface ApiDeps {
  readonly queryable: Queryable;
  readonly engine: QueryEngine;
  readonly metadata: MetadataSource;
  /**
   * Served at /api/v1/status/buildinfo when given. Leave it out when the app already answers that path
   * (server.ts does).
   */
  readonly buildInfo?: Readonly<Record<string, string>>;
  readonly now: () => number;
  readonly logger: ApiLogger;
}

// ---- errors ----

export type ApiErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

/** An API failure with Prometheus's error type; the HTTP status follows from the type. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly type: ApiErrorType;
  constructor(type: ApiErrorType, message: string) {
    super(message);
    this.type = type;
  }
}

/** Prometheus's respondError mapping (2.x: canceled and timeout are both 503). */
export function statusOf(type: ApiErrorType): number {
  switch (type) {
    case 'bad_data':
      return 400;
    case 'execution':
      return 422;
    case 'canceled':
    case 'timeout':
      return 503;
    case 'internal':
      return 500;
  }
}

function invalidParam(name: string, message: string): ApiError {
  return new ApiError('bad_data', `invalid parameter ${JSON.stringify(name)}: ${message}`);
}

// ---- parameters ----

/** Request parameters with Go's r.Form order: form body values first, then URL query values. */
export type Params = ReadonlyMap<string, readonly string[]>;

function collect(into: Map<string, string[]>, src: unknown): void {
  if (typeof src !== 'object' || src === null) return;
  for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
    const list = into.get(k) ?? [];
    if (typeof v === 'string') list.push(v);
    else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') list.push(x);
    into.set(k, list);
  }
}

function paramsOf(req: Request): Params {
  const m = new Map<string, string[]>();
  if (req.method === 'POST') collect(m, req.body);
  collect(m, req.query);
  return m;
}

function formValue(p: Params, name: string): string {
  return p.get(name)?.[0] ?? '';
}

/** Prometheus's minTime/maxTime, as milliseconds and as the strings its clients send for them. */
export const MIN_TIME_MS = -9223309901257974000;
export const MAX_TIME_MS = 9223309901257974000;
const MIN_TIME_FORMATTED = '-292273086-05-16T16:47:06Z';
const MAX_TIME_FORMATTED = '292277025-08-18T07:12:54.999999999Z';

const GO_FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Go's math.Round: halves away from zero. */
function goRound(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * Prometheus's parseTime: unix seconds as a float (rounded to milliseconds) or RFC 3339 with optional
 * fractional seconds (truncated to milliseconds). Returns milliseconds; throws the message Prometheus gives.
 */
export function parseTime(s: string): number {
  if (GO_FLOAT_RE.test(s)) {
    const f = Number(s);
    if (Number.isFinite(f)) {
      const sec = Math.trunc(f);
      return sec * 1000 + goRound((f - sec) * 1000);
    }
  }
  const m = RFC3339_RE.exec(s);
  if (m) {
    const [, y, mo, d, h, mi, sec, frac, zone] = m;
    const month = Number(mo);
    const day = Number(d);
    const base = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(sec));
    const check = new Date(base);
    if (
      check.getUTCDate() === day &&
      check.getUTCMonth() === month - 1 &&
      Number(h) < 24 &&
      Number(mi) < 60 &&
      Number(sec) < 60
    ) {
      let ms = base + (frac ? Math.trunc(Number(`0${frac}`) * 1000 + 1e-9) : 0);
      if (zone !== 'Z') {
        const sign = zone![0] === '-' ? -1 : 1;
        ms -= sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
      }
      return ms;
    }
  }
  if (s === MIN_TIME_FORMATTED) return MIN_TIME_MS;
  if (s === MAX_TIME_FORMATTED) return MAX_TIME_MS;
  throw new Error(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

/** Prometheus's parseDuration: float seconds or a Prometheus duration ("5m", "1h30m"). Milliseconds. */
export function parseDurationParam(s: string): number {
  if (GO_FLOAT_RE.test(s)) {
    const f = Number(s);
    const ns = f * 1e9;
    if (ns > 9.223372036854776e18 || ns < -9.223372036854776e18) {
      throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`);
    }
    // time.Duration truncates to nanoseconds; the engine works in milliseconds.
    return Math.trunc(ns) / 1e6;
  }
  try {
    return parseDuration(s);
  } catch {
    throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration`);
  }
}

function timeParam(p: Params, name: string, dflt: number): number {
  const v = formValue(p, name);
  if (v === '') return dflt;
  try {
    return parseTime(v);
  } catch (err) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(err as Error).message}`);
  }
}

/** Parses `match[]` selectors like Prometheus's parseMatchersParam. */
export function parseMatchers(values: readonly string[]): Matcher[][] {
  const sets: Matcher[][] = [];
  for (const s of values) {
    let e;
    try {
      e = parseExpr(s);
    } catch (err) {
      throw new ApiError('bad_data', (err as Error).message);
    }
    if (e.kind !== 'vectorSelector' || e.offsetMs !== 0 || e.at !== null) {
      throw new ApiError('bad_data', `1:1: parse error: ${JSON.stringify(s)} is not a metric selector`);
    }
    sets.push([...e.matchers]);
  }
  for (const set of sets) {
    if (!set.some((m) => !m.matches(''))) {
      throw new ApiError('bad_data', 'match[] must contain at least one non-empty matcher');
    }
  }
  return sets;
}

/** The `limit` parameter of series, labels and label values: 0 or absent means no limit. */
function limitParam(p: Params): number {
  const s = formValue(p, 'limit');
  if (s === '') return 0;
  if (!/^[+-]?\d+$/.test(s))
    throw invalidParam('limit', `cannot parse ${JSON.stringify(s)} to a valid limit`);
  const n = Number(s);
  if (n < 0) throw invalidParam('limit', 'limit must be non-negative');
  return n;
}

// ---- JSON encoding ----

/** A sample timestamp as Prometheus writes it: seconds, with the milliseconds as a fraction when non-zero. */
export function formatTimestamp(ms: number): string {
  const neg = ms < 0;
  const a = Math.abs(ms);
  const sec = Math.trunc(a / 1000);
  const frac = a - sec * 1000;
  const s = frac === 0 ? String(sec) : `${sec}.${String(frac).padStart(3, '0')}`;
  return neg ? `-${s}` : s;
}

/**
 * A sample value as Prometheus writes it: Go's strconv.FormatFloat(v, 'f', -1, 64), switching to the 'e'
 * format below 1e-6 and from 1e21 on (JavaScript's own thresholds), "+Inf", "-Inf", "NaN".
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const s = String(v);
  // Go writes at least two exponent digits (1e-07, 1e+21); JavaScript writes 1e-7.
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function labelsJson(labels: Labels): string {
  let out = '{';
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (i > 0) out += ',';
    out += JSON.stringify(l.name) + ':' + JSON.stringify(l.value);
  }
  return out + '}';
}

function pointJson(t: number, v: number): string {
  return `[${formatTimestamp(t)},"${formatValue(v)}"]`;
}

/** The `data` object of a query response ({"resultType":…,"result":…}) as JSON text. */
export function queryDataJson(value: QueryValue): string {
  const parts: string[] = [];
  switch (value.type) {
    case 'vector':
      for (const s of value.series)
        parts.push(`{"metric":${labelsJson(s.labels)},"value":${pointJson(s.t, s.v)}}`);
      return `{"resultType":"vector","result":[${parts.join(',')}]}`;
    case 'matrix':
      for (const s of value.series) {
        const pts = s.points.map((p) => pointJson(p.t, p.v)).join(',');
        parts.push(`{"metric":${labelsJson(s.labels)},"values":[${pts}]}`);
      }
      return `{"resultType":"matrix","result":[${parts.join(',')}]}`;
    case 'scalar':
      return `{"resultType":"scalar","result":${pointJson(value.t, value.v)}}`;
    case 'string':
      return `{"resultType":"string","result":[${formatTimestamp(value.t)},${JSON.stringify(value.v)}]}`;
  }
}

function sendSuccess(
  res: Response,
  dataJson: string,
  warnings: readonly string[] = [],
  infos: readonly string[] = [],
): void {
  let body = `{"status":"success","data":${dataJson}`;
  if (warnings.length > 0) body += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos.length > 0) body += `,"infos":${JSON.stringify(infos)}`;
  res
    .status(200)
    .set('Content-Type', 'application/json')
    .end(body + '}');
}

function sendError(res: Response, err: ApiError, warnings: readonly string[] = []): void {
  const body: Record<string, unknown> = { status: 'error', errorType: err.type, error: err.message };
  if (warnings.length > 0) body.warnings = warnings;
  res.status(statusOf(err.type)).set('Content-Type', 'application/json').end(JSON.stringify(body));
}

/** Maps an engine failure to the API error Prometheus gives for it (returnAPIError). */
export function apiErrorOf(e: { kind: QueryErrorKind; message: string }): ApiError {
  switch (e.kind) {
    case 'bad_data':
      return invalidParam('query', e.message);
    case 'timeout':
      return new ApiError('timeout', e.message);
    case 'canceled':
      return new ApiError('canceled', e.message);
    case 'execution':
    case 'too_many_samples':
      return new ApiError('execution', e.message);
  }
}

// ---- the router ----

/** Largest number of points per series a range query may ask for (Prometheus's limit). */
export const MAX_RANGE_POINTS = 11_000;

const form = express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 10_000 });

type Handler = (p: Params, req: Request, res: Response, signal: AbortSignal) => Promise<void> | void;

/**
 * Builds the /api/v1 query router (paths are absolute, mount it at the app's root before any /api catch-all).
 * Each handler answers in Prometheus's JSON shape; nothing escapes to Express's error handler except body
 * parsing failures.
 */
export function apiRouter(deps: ApiDeps): express.Router {
  const router = express.Router();

  const wrap =
    (h: Handler) =>
    async (req: Request, res: Response, _next: NextFunction): Promise<void> => {
      const ac = new AbortController();
      // A client that goes away cancels its query, as Prometheus's request context does.
      const onClose = (): void => {
        if (!res.writableEnded) ac.abort(new Error('client closed the connection'));
      };
      res.on('close', onClose);
      try {
        await h(paramsOf(req), req, res, ac.signal);
      } catch (err) {
        if (err instanceof ApiError) {
          if (err.type === 'internal')
            deps.logger.error({ path: req.path, err: err.message }, 'query API failed');
          sendError(res, err);
        } else {
          deps.logger.error({ path: req.path, err: (err as Error).message }, 'query API failed');
          sendError(res, new ApiError('internal', (err as Error).message));
        }
      } finally {
        res.off('close', onClose);
      }
    };

  const both = (path: string, h: Handler): void => {
    router.get(path, wrap(h));
    router.post(path, form, wrap(h));
  };

  /** Runs the engine with the request's optional `timeout` parameter as an extra deadline. */
  const run = async (
    p: Params,
    signal: AbortSignal,
    exec: (s: AbortSignal) => Promise<QueryOutcome>,
  ): Promise<QueryOutcome> => {
    const to = formValue(p, 'timeout');
    if (to === '') return exec(signal);
    let ms: number;
    try {
      ms = parseDurationParam(to);
    } catch (err) {
      throw invalidParam('timeout', (err as Error).message);
    }
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        ac.abort(new Error('query timed out'));
      },
      Math.max(0, ms),
    );
    try {
      const r = await exec(ac.signal);
      if (!r.ok && timedOut && r.error.kind === 'canceled') {
        return { ok: false, error: { kind: 'timeout', message: 'query timed out in query execution' } };
      }
      return r;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  };

  const answer = (res: Response, r: QueryOutcome): void => {
    if (!r.ok) {
      sendError(res, apiErrorOf(r.error));
      return;
    }
    sendSuccess(res, queryDataJson(r.value), r.warnings, r.infos);
  };

  both('/api/v1/query', async (p, _req, res, signal) => {
    const t = timeParam(p, 'time', deps.now());
    const expr = formValue(p, 'query');
    answer(res, await run(p, signal, (s) => deps.engine.instantQuery(deps.queryable, expr, t, s)));
  });

  both('/api/v1/query_range', async (p, _req, res, signal) => {
    const parse = (name: string): number => {
      try {
        return parseTime(formValue(p, name));
      } catch (err) {
        throw invalidParam(name, (err as Error).message);
      }
    };
    const start = parse('start');
    const end = parse('end');
    if (end < start) throw invalidParam('end', 'end timestamp must not be before start time');
    let step: number;
    try {
      step = parseDurationParam(formValue(p, 'step'));
    } catch (err) {
      throw invalidParam('step', (err as Error).message);
    }
    if (step <= 0) {
      throw invalidParam(
        'step',
        'zero or negative query resolution step widths are not accepted. Try a positive integer',
      );
    }
    // Go divides two Durations (integers): the quotient is truncated.
    if (Math.trunc((end - start) / step) > MAX_RANGE_POINTS) {
      throw new ApiError(
        'bad_data',
        'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)',
      );
    }
    const expr = formValue(p, 'query');
    // The engine steps in whole milliseconds; a sub-millisecond float step is rounded up to 1 ms.
    const stepMs = Math.max(1, Math.round(step));
    answer(
      res,
      await run(p, signal, (s) => deps.engine.rangeQuery(deps.queryable, expr, start, end, stepMs, s)),
    );
  });

  both('/api/v1/series', (p, _req, res) => {
    const values = p.get('match[]') ?? [];
    if (values.length === 0) throw new ApiError('bad_data', 'no match[] parameter provided');
    const start = timeParam(p, 'start', MIN_TIME_MS);
    const end = timeParam(p, 'end', MAX_TIME_MS);
    let sets: Matcher[][];
    try {
      sets = parseMatchers(values);
    } catch (err) {
      throw invalidParam('match[]', (err as Error).message);
    }
    const limit = limitParam(p);
    const q = deps.queryable.querier();
    const seen = new Map<string, Labels>();
    for (const set of sets) {
      for (const s of q.select(set, start, end)) {
        const k = labelsKey(s.labels);
        if (!seen.has(k)) seen.set(k, s.labels);
      }
    }
    let all = [...seen.values()].sort(compareLabels);
    const warnings: string[] = [];
    if (limit > 0 && all.length > limit) {
      all = all.slice(0, limit);
      warnings.push('results truncated due to limit');
    }
    sendSuccess(res, `[${all.map(labelsJson).join(',')}]`, warnings);
  });

  both('/api/v1/labels', (p, _req, res) => {
    const start = timeParam(p, 'start', MIN_TIME_MS);
    const end = timeParam(p, 'end', MAX_TIME_MS);
    const sets = timeBounded(parseMatchers(p.get('match[]') ?? []), p);
    const limit = limitParam(p);
    const q = deps.queryable.querier();
    let names: string[];
    if (sets.length === 0) names = q.labelNames(start, end);
    else {
      const u = new Set<string>();
      for (const set of sets) for (const n of q.labelNames(start, end, set)) u.add(n);
      names = [...u].sort();
    }
    sendStrings(res, names, limit);
  });

  both('/api/v1/label/:name/values', (p, req, res) => {
    const name = String(req.params.name ?? '');
    if (!LABEL_NAME_RE.test(name))
      throw new ApiError('bad_data', `invalid label name: ${JSON.stringify(name)}`);
    const start = timeParam(p, 'start', MIN_TIME_MS);
    const end = timeParam(p, 'end', MAX_TIME_MS);
    const sets = timeBounded(parseMatchers(p.get('match[]') ?? []), p);
    const limit = limitParam(p);
    const q = deps.queryable.querier();
    let values: string[];
    if (sets.length === 0) values = q.labelValues(name, start, end);
    else {
      const u = new Set<string>();
      for (const set of sets) for (const v of q.labelValues(name, start, end, set)) u.add(v);
      values = [...u].sort();
    }
    sendStrings(res, values, limit);
  });

  router.get(
    '/api/v1/metadata',
    wrap((p, _req, res) => {
      const limitStr = formValue(p, 'limit');
      let limit = -1;
      if (limitStr !== '') {
        if (!/^[+-]?\d+$/.test(limitStr)) throw new ApiError('bad_data', 'limit must be a number');
        limit = Number(limitStr);
      }
      const metric = formValue(p, 'metric');
      const out: Record<string, { type: string; help: string; unit: string }[]> = {};
      let n = 0;
      const names = [...deps.metadata().entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      for (const [name, md] of names) {
        if (metric !== '' && name !== metric) continue;
        if (limit >= 0 && n >= limit) break;
        // Prometheus says "unknown" where the text format says "untyped".
        out[name] = [{ type: md.type === 'untyped' ? 'unknown' : md.type, help: md.help, unit: md.unit }];
        n++;
      }
      sendSuccess(res, JSON.stringify(out));
    }),
  );

  both('/api/v1/query_exemplars', (p, _req, res) => {
    // storewatch does not store exemplars; answering an empty list keeps clients that ask (Grafana's
    // exemplar toggle) working instead of showing an error.
    const start = timeParam(p, 'start', MIN_TIME_MS);
    const end = timeParam(p, 'end', MAX_TIME_MS);
    if (end < start) throw new ApiError('bad_data', 'end timestamp must not be before start timestamp');
    sendSuccess(res, '[]');
  });

  const buildInfo = deps.buildInfo;
  if (buildInfo) {
    router.get(
      '/api/v1/status/buildinfo',
      wrap((_p, _req, res) => sendSuccess(res, JSON.stringify(buildInfo))),
    );
  }

  return router;
}

/**
 * Without match[], the TSDB answers label names and values from its index, ignoring the time range. When
 * the client gave a range (Grafana always does), select every series instead, so that names and values of
 * series without samples in the range stay out, as in Prometheus.
 */
function timeBounded(sets: Matcher[][], p: Params): Matcher[][] {
  if (sets.length > 0 || (formValue(p, 'start') === '' && formValue(p, 'end') === '')) return sets;
  return [[newMatcher('=~', METRIC_NAME, '.+')]];
}

function sendStrings(res: Response, list: string[], limit: number): void {
  const warnings: string[] = [];
  if (limit > 0 && list.length > limit) {
    list = list.slice(0, limit);
    warnings.push('results truncated due to limit');
  }
  sendSuccess(res, JSON.stringify(list), warnings);
}
