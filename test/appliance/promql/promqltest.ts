// A runner for Prometheus's promqltest file format (promql/promqltest/README.md in prometheus/prometheus):
// `load`, `clear`, `eval instant|range` with expected results, the older eval_fail/eval_warn/eval_info/
// eval_ordered spellings and the newer `expect ...` lines. Data goes into the real TSDB (appliance/tsdb) in a
// temporary directory with retention disabled and a clock pinned at 0, so samples from 1970 are accepted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { silentLogger } from '../../../appliance/model/logger.ts';
import { Tsdb } from '../../../appliance/tsdb/db.ts';
import { getLabel, labelsFromRecord, labelsKey, labelsToString } from '../../../appliance/model/labels.ts';
import type { Labels } from '../../../appliance/model/labels.ts';
import { STALE_NAN } from '../../../appliance/model/sample.ts';
import { SampleError } from '../../../appliance/storage/interface.ts';
import { parseDuration } from '../../../appliance/config/duration.ts';
import type { Engine } from '../../../appliance/promql/engine.ts';
import type { QueryResult } from '../../../appliance/promql/engine.ts';
import {
  unquoteString,
  parseNumberLiteral,
  parseExpr,
  formatExpr,
} from '../../../appliance/promql/parser.ts';
import type { Expr, VectorSelector } from '../../../appliance/promql/parser.ts';

/** Prometheus's test tolerance (promqltest's defaultEpsilon). */
const EPSILON = 0.000001;
const MIN_NORMAL = 2.2250738585072014e-308;

export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < EPSILON * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < EPSILON;
}

/** One value in expanded series notation: a number, a gap, the staleness marker, or a native histogram. */
type SeqValue = { kind: 'num'; v: number } | { kind: 'gap' } | { kind: 'stale' } | { kind: 'histogram' };

/** Expands `1+2x3 _x2 stale {{...}} 5` into single values (promqltest's series notation). */
export function expandValues(text: string): SeqValue[] {
  const out: SeqValue[] = [];
  const tokens: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (/\s/.test(text[i]!)) {
      i++;
      continue;
    }
    if (text.startsWith('{{', i)) {
      let end = text.indexOf('}}', i);
      while (end >= 0 && /^[-+]\{\{/.test(text.slice(end + 2, end + 5))) end = text.indexOf('}}', end + 2);
      let j = end < 0 ? text.length : end + 2;
      // A histogram may carry an expansion suffix such as {{...}}x3 or {{...}}+{{...}}x3.
      while (j < text.length && !/\s/.test(text[j]!)) j++;
      tokens.push('{{' + text.slice(i + 2, j));
      i = j;
      continue;
    }
    let j = i;
    while (j < text.length && !/\s/.test(text[j]!)) j++;
    tokens.push(text.slice(i, j));
    i = j;
  }
  for (const tok of tokens) {
    if (tok.startsWith('{{')) {
      const m = /x(\d+)$/.exec(tok);
      const n = m !== null ? Number(m[1]) + 1 : 1;
      for (let k = 0; k < n; k++) out.push({ kind: 'histogram' });
      continue;
    }
    if (tok === '_') {
      out.push({ kind: 'gap' });
      continue;
    }
    if (tok === 'stale') {
      out.push({ kind: 'stale' });
      continue;
    }
    const gap = /^_x(\d+)$/.exec(tok);
    if (gap !== null) {
      for (let k = 0; k < Number(gap[1]); k++) out.push({ kind: 'gap' });
      continue;
    }
    const m = /^([-+]?[^-+x]+?(?:[eE][-+]?\d+)?)(?:([-+])([^x]+))?x(\d+)$/.exec(tok);
    if (m !== null) {
      const start = num(m[1]!);
      const delta = m[3] !== undefined ? num(m[3]) * (m[2] === '-' ? -1 : 1) : 0;
      const n = Number(m[4]);
      for (let k = 0; k <= n; k++) out.push({ kind: 'num', v: start + delta * k });
      continue;
    }
    out.push({ kind: 'num', v: num(tok) });
  }
  return out;
}

function num(s: string): number {
  return parseNumberLiteral(s);
}

/** Parses `name{a="b", "c"="d"}` into labels. */
export function parseSeriesDesc(text: string): Labels {
  const t = text.trim();
  const brace = t.indexOf('{');
  const rec: Record<string, string> = {};
  const name = brace < 0 ? t : t.slice(0, brace);
  if (name !== '') rec['__name__'] = name;
  if (brace >= 0) {
    const body = t.slice(brace + 1, t.lastIndexOf('}'));
    const re =
      /\s*("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)\s*(=)?\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)?\s*,?/gy;
    let m: RegExpExecArray | null;
    while (re.lastIndex < body.length && (m = re.exec(body)) !== null) {
      if (m[0] === '') break;
      const key = m[1]!.startsWith('"') ? unquoteString(m[1]!) : m[1]!;
      if (m[3] === undefined) rec['__name__'] = key;
      else rec[key] = unquoteString(m[3]);
    }
  }
  return labelsFromRecord(rec);
}

/** Splits "labels-part values" where the labels part may contain quoted spaces. */
function splitSeriesLine(line: string): [string, string] {
  const t = line.trim();
  let i = 0;
  let depth = 0;
  let quote = '';
  for (; i < t.length; i++) {
    const c = t[i]!;
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        i++;
        break;
      }
    } else if (/\s/.test(c) && depth === 0) break;
  }
  return [t.slice(0, i), t.slice(i).trim()];
}

interface ExpectedSeries {
  labels: Labels;
  values: SeqValue[];
}

export interface EvalCase {
  file: string;
  line: number;
  text: string;
  expr: string;
  range: { start: number; end: number; step: number } | null;
  at: number;
  fail: boolean;
  failMsg: string | null;
  failRegex: RegExp | null;
  warn: boolean | null;
  warnMsg: string | null;
  info: boolean | null;
  ordered: boolean;
  expectString: string | null;
  rangeVector: { start: number; end: number; step: number } | null;
  scalar: number | null;
  series: ExpectedSeries[];
  /** Native histogram data or results involved: excluded from the pass rate. */
  native: boolean;
}

export interface CaseResult {
  c: EvalCase;
  status: 'pass' | 'fail' | 'native';
  reason: string;
  /** Which extra checks ran: the instant query re-run in range mode, and the @-modifier variants. */
  rangeMode: boolean;
  atVariants: boolean;
}

function parseTime(s: string): number {
  if (/^-?\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  return parseDuration(s);
}

/** Runs one test file against a fresh TSDB; returns one result per evaluation. */
export async function runFile(
  file: string,
  text: string,
  engine: Engine,
  layout: StoreLayout = 'head',
): Promise<CaseResult[]> {
  const lines = text.split('\n');
  const results: CaseResult[] = [];
  const store = new TestStore(layout);
  // Series that currently hold native-histogram samples (which the TSDB cannot store).
  const nativeSeries: Labels[] = [];
  try {
    let i = 0;
    while (i < lines.length) {
      const raw = lines[i]!;
      const line = raw.trim();
      i++;
      if (line === '' || line.startsWith('#')) continue;
      if (line === 'clear') {
        store.clear();
        nativeSeries.length = 0;
        continue;
      }
      const load = /^load(_with_nhcb)?\s+(\S+)$/.exec(line);
      if (load !== null) {
        const step = parseDuration(load[2]!);
        const nhcb = load[1] !== undefined;
        const data: { labels: Labels; values: SeqValue[] }[] = [];
        while (i < lines.length && /^\s+\S/.test(lines[i]!)) {
          if (lines[i]!.trim().startsWith('#')) {
            i++;
            continue;
          }
          const [desc, vals] = splitSeriesLine(lines[i]!);
          const labels = parseSeriesDesc(desc);
          const values = expandValues(vals);
          if (values.some((v) => v.kind === 'histogram')) nativeSeries.push(labels);
          // load_with_nhcb also creates a native histogram with custom buckets from each classic histogram,
          // named without the _bucket suffix and without the le label; those series do not exist here.
          const name = getLabel(labels, '__name__');
          if (nhcb && /_(bucket|sum|count)$/.test(name)) {
            const base = name.replace(/_(bucket|sum|count)$/, '');
            nativeSeries.push(
              labels
                .filter((l) => l.name !== 'le')
                .map((l) => (l.name === '__name__' ? { name: l.name, value: base } : l)),
            );
          }
          data.push({ labels, values });
          i++;
        }
        store.load(step, data);
        continue;
      }
      const ev = /^eval(_fail|_warn|_info|_ordered)?\s+(instant|range)\s+(.*)$/.exec(line);
      if (ev !== null) {
        const c = parseEvalHeader(file, i, line, ev);
        while (i < lines.length && /^\s+\S/.test(lines[i]!)) {
          const l = lines[i]!.trim();
          i++;
          if (l.startsWith('#')) continue;
          parseExpectLine(c, l);
        }
        c.native = c.native || selectsAny(c.expr, nativeSeries);
        results.push(await runCase(c, engine, store.db));
        continue;
      }
      throw new Error(`${file}:${i}: unknown command: ${line}`);
    }
  } finally {
    store.close();
  }
  return results;
}

/** True when a selector of the expression matches one of the given series (the query touches them). */
function selectsAny(expr: string, series: readonly Labels[]): boolean {
  if (series.length === 0) return false;
  let ast: Expr;
  try {
    ast = parseExpr(expr);
  } catch {
    return false;
  }
  const selectors: VectorSelector[] = [];
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'vectorSelector':
        selectors.push(e);
        return;
      case 'matrixSelector':
        return walk(e.selector);
      case 'subquery':
      case 'paren':
      case 'unary':
        return walk(e.expr);
      case 'call':
        return e.args.forEach(walk);
      case 'aggregate':
        walk(e.expr);
        if (e.param !== null) walk(e.param);
        return;
      case 'binary':
        walk(e.lhs);
        return walk(e.rhs);
      default:
        return;
    }
  };
  walk(ast);
  return selectors.some((vs) => series.some((l) => vs.matchers.every((m) => m.matches(getLabel(l, m.name)))));
}

function parseEvalHeader(file: string, lineNo: number, line: string, ev: RegExpExecArray): EvalCase {
  const c: EvalCase = {
    file,
    line: lineNo,
    text: line,
    expr: '',
    range: null,
    at: 0,
    fail: ev[1] === '_fail',
    failMsg: null,
    failRegex: null,
    warn: ev[1] === '_warn' ? true : null,
    warnMsg: null,
    info: ev[1] === '_info' ? true : null,
    ordered: ev[1] === '_ordered',
    expectString: null,
    rangeVector: null,
    scalar: null,
    series: [],
    native: false,
  };
  const rest = ev[3]!;
  if (ev[2] === 'instant') {
    const m = /^at\s+(\S+)\s+(.*)$/.exec(rest);
    if (m === null) throw new Error(`${file}:${lineNo}: bad eval instant line`);
    c.at = parseTime(m[1]!);
    c.expr = m[2]!;
  } else {
    const m = /^from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.*)$/.exec(rest);
    if (m === null) throw new Error(`${file}:${lineNo}: bad eval range line`);
    c.range = { start: parseTime(m[1]!), end: parseTime(m[2]!), step: parseTime(m[3]!) };
    c.expr = m[4]!;
  }
  return c;
}

function parseExpectLine(c: EvalCase, l: string): void {
  if (l.startsWith('expected_fail_message')) {
    c.failMsg = l.slice('expected_fail_message'.length).trim();
    return;
  }
  if (l.startsWith('expected_fail_regexp')) {
    c.failRegex = new RegExp(l.slice('expected_fail_regexp'.length).trim());
    return;
  }
  const ex = /^expect\s+(\S+)(?:\s+(.*))?$/.exec(l);
  if (ex !== null) {
    const kind = ex[1]!;
    const arg = (ex[2] ?? '').trim();
    const msg = /^msg:\s?(.*)$/.exec(arg);
    const rx = /^regex:\s?(.*)$/.exec(arg);
    switch (kind) {
      case 'fail':
        c.fail = true;
        if (msg !== null) c.failMsg = msg[1]!.trim();
        if (rx !== null) c.failRegex = new RegExp(rx[1]!.trim());
        return;
      case 'warn':
        c.warn = true;
        if (msg !== null) c.warnMsg = msg[1]!.trim();
        return;
      case 'no_warn':
        c.warn = false;
        return;
      case 'info':
        c.info = true;
        return;
      case 'no_info':
        c.info = false;
        return;
      case 'ordered':
        c.ordered = true;
        return;
      case 'string':
        c.expectString = unquoteString(arg);
        return;
      case 'range': {
        const m = /^vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/.exec(arg);
        if (m === null) throw new Error(`${c.file}:${c.line}: bad expect range line`);
        c.rangeVector = { start: parseTime(m[1]!), end: parseTime(m[2]!), step: parseTime(m[3]!) };
        return;
      }
    }
    throw new Error(`${c.file}:${c.line}: unknown expectation: ${l}`);
  }
  if (l.includes('{{')) c.native = true;
  if (/^[-+]?(\d|\.\d|Inf|NaN|inf|nan)/.test(l) && !l.includes('{')) {
    const [first] = l.split(/\s+/);
    c.scalar = num(first!);
    return;
  }
  const [desc, vals] = splitSeriesLine(l);
  c.series.push({ labels: parseSeriesDesc(desc), values: expandValues(vals) });
}

async function runCase(c: EvalCase, engine: Engine, db: Tsdb): Promise<CaseResult> {
  const r: QueryResult =
    c.range === null
      ? await engine.instantQuery(db, c.expr, c.at)
      : await engine.rangeQuery(db, c.expr, c.range.start, c.range.end, c.range.step);
  let reason = check(c, r);
  let rangeMode = false;
  let atVariants = false;
  // Like Prometheus's runner, an instant evaluation must give the same result in range mode: run it from one
  // minute before to one minute after with a 1 m step and compare the middle step.
  // Expressions using start(), end(), range() or step() depend on the query range by definition: skipped there.
  if (
    reason === null &&
    c.range === null &&
    !c.fail &&
    r.ok &&
    (r.value.type === 'vector' || r.value.type === 'scalar') &&
    !/\b(start|end|range|step)\s*\(\s*\)/.test(c.expr)
  ) {
    rangeMode = true;
    const rr = await engine.rangeQuery(db, c.expr, c.at - 60_000, c.at + 60_000, 60_000);
    if (!rr.ok) reason = `range mode: unexpected error: ${rr.error.message}`;
    else if (rr.value.type === 'matrix') {
      const series: { labels: Labels; t: number; v: number }[] = [];
      for (const s of rr.value.series) {
        const p = s.points.find((x) => x.t === c.at);
        if (p !== undefined) series.push({ labels: s.labels, t: p.t, v: p.v });
      }
      const asInstant: QueryResult =
        r.value.type === 'scalar'
          ? { ok: true, value: { type: 'scalar', t: c.at, v: series[0]?.v ?? NaN }, warnings: [], infos: [] }
          : { ok: true, value: { type: 'vector', series }, warnings: [], infos: [] };
      const again = check({ ...c, ordered: false, warn: null, warnMsg: null, info: null }, asInstant);
      if (again !== null) reason = `range mode: ${again}`;
    }
  }
  // Also like Prometheus's runner: with `@ <eval time>` added to every selector and subquery (not inside one
  // that has it), the result must be the same when evaluated at quite different times.
  if (
    reason === null &&
    c.range === null &&
    !c.fail &&
    r.ok &&
    (r.value.type === 'vector' || r.value.type === 'scalar')
  ) {
    const at = await checkAtModifierVariants(c, engine, db, r.value.type);
    atVariants = at.ran;
    reason = at.reason;
  }
  if (c.native)
    return {
      c,
      status: 'native',
      reason: reason ?? 'passes, but involves native histograms',
      rangeMode,
      atVariants,
    };
  return { c, status: reason === null ? 'pass' : 'fail', reason: reason ?? '', rangeMode, atVariants };
}

/** Functions whose result depends on the evaluation time even with step-invariant arguments (Prometheus's list). */
const AT_UNSAFE_FUNCTIONS = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'time',
  'timestamp',
]);
const QUERY_RANGE_FUNCTIONS = new Set(['start', 'end', 'range', 'step']);

/** Sets `@ ms` on every selector and subquery without one; null when the expression is not @-safe. */
function withAt(e: Expr, ms: number): Expr | null {
  let unsafe = false;
  const at = { kind: 'time' as const, ms };
  const walk = (x: Expr): Expr => {
    switch (x.kind) {
      case 'vectorSelector':
        if (x.at !== null && x.at.kind !== 'time') unsafe = true;
        return x.at === null ? { ...x, at } : x;
      case 'matrixSelector':
        if (x.selector.at !== null && x.selector.at.kind !== 'time') unsafe = true;
        return x.selector.at === null ? { ...x, selector: { ...x.selector, at } } : x;
      case 'subquery':
        if (x.at !== null && x.at.kind !== 'time') unsafe = true;
        walkOnly(x.expr);
        return x.at === null ? { ...x, at } : x;
      case 'paren':
      case 'unary':
        return { ...x, expr: walk(x.expr) };
      case 'call':
        if (AT_UNSAFE_FUNCTIONS.has(x.func.name) || QUERY_RANGE_FUNCTIONS.has(x.func.name)) unsafe = true;
        return { ...x, args: x.args.map(walk) };
      case 'aggregate':
        return { ...x, expr: walk(x.expr), param: x.param === null ? null : walk(x.param) };
      case 'binary':
        return { ...x, lhs: walk(x.lhs), rhs: walk(x.rhs) };
      default:
        return x;
    }
  };
  // Inside a subquery nothing is changed, but unsafe functions still disqualify the expression.
  const walkOnly = (x: Expr): void => {
    void walk(x);
  };
  const out = walk(e);
  return unsafe ? null : out;
}

async function checkAtModifierVariants(
  c: EvalCase,
  engine: Engine,
  db: Tsdb,
  type: 'vector' | 'scalar',
): Promise<{ ran: boolean; reason: string | null }> {
  let ast: Expr;
  try {
    ast = parseExpr(c.expr);
  } catch {
    return { ran: false, reason: null };
  }
  const modified = withAt(ast, c.at);
  if (modified === null) return { ran: false, reason: null };
  const text = formatExpr(modified);
  const ts = c.at;
  const times = ts === 0 ? [-1000, 0, 1000] : [-10 * ts, 0, Math.trunc(ts / 5), ts, 10 * ts];
  for (const et of times) {
    const r = await engine.instantQuery(db, text, et);
    const where = `with @ ${ts / 1000} evaluated at ${et / 1000}s (${text})`;
    if (!r.ok) return { ran: true, reason: `${where}: unexpected error: ${r.error.message}` };
    if (r.value.type !== type) return { ran: true, reason: `${where}: got a ${r.value.type}` };
    const again = check({ ...c, warn: null, warnMsg: null, info: null }, { ...r, warnings: [] });
    if (again !== null) return { ran: true, reason: `${where}: ${again}` };
  }
  return { ran: true, reason: null };
}

function fmtLabels(l: Labels): string {
  return labelsToString(l);
}

/** Returns null when the result meets the expectations, else why not. */
function check(c: EvalCase, r: QueryResult): string | null {
  if (c.fail) {
    if (r.ok) return 'expected an error, got a result';
    if (c.failMsg !== null && r.error.message !== c.failMsg && !r.error.message.endsWith(c.failMsg)) {
      return `error message ${JSON.stringify(r.error.message)}, expected ${JSON.stringify(c.failMsg)}`;
    }
    if (c.failRegex !== null && !c.failRegex.test(r.error.message))
      return `error ${JSON.stringify(r.error.message)} does not match ${c.failRegex}`;
    return null;
  }
  if (!r.ok) return `unexpected error: ${r.error.message}`;
  // As in Prometheus's runner, warnings must be expected explicitly; infos only when asked about.
  if (c.warn === null && r.warnings.length > 0) return `unexpected warnings: ${JSON.stringify(r.warnings)}`;
  if (c.warn === true && r.warnings.length === 0) return 'expected a warning, got none';
  if (c.warn === false && r.warnings.length > 0)
    return `expected no warning, got ${JSON.stringify(r.warnings)}`;
  if (c.warnMsg !== null && !r.warnings.includes(c.warnMsg))
    return `expected warning ${JSON.stringify(c.warnMsg)}, got ${JSON.stringify(r.warnings)}`;
  if (c.info === true && r.infos.length === 0) return 'expected an info annotation, got none';
  if (c.info === false && r.infos.length > 0) return `expected no info, got ${JSON.stringify(r.infos)}`;
  const v = r.value;
  if (c.expectString !== null) {
    if (v.type !== 'string') return `expected a string, got ${v.type}`;
    return v.v === c.expectString
      ? null
      : `string ${JSON.stringify(v.v)}, expected ${JSON.stringify(c.expectString)}`;
  }
  if (c.scalar !== null) {
    if (c.range !== null) return 'a bare scalar is not a valid expectation for a range query';
    if (v.type !== 'scalar') return `expected scalar ${c.scalar}, got ${v.type}`;
    return almostEqual(v.v, c.scalar) ? null : `scalar ${v.v}, expected ${c.scalar}`;
  }
  if (c.range !== null || c.rangeVector !== null) {
    const rng = c.range ?? c.rangeVector!;
    if (v.type !== 'matrix') return `expected a matrix, got ${v.type}`;
    const got = new Map(v.series.map((s) => [labelsKey(s.labels), s]));
    if (v.series.length !== c.series.length) {
      return `got ${v.series.length} series, expected ${c.series.length}: got ${v.series.map((s) => fmtLabels(s.labels)).join(' ')}`;
    }
    for (const e of c.series) {
      const g = got.get(labelsKey(e.labels));
      if (g === undefined)
        return `missing series ${fmtLabels(e.labels)}; got ${v.series.map((s) => fmtLabels(s.labels)).join(' ')}`;
      const want: { t: number; v: number }[] = [];
      e.values.forEach((x, k) => {
        if (x.kind === 'num') want.push({ t: rng.start + k * rng.step, v: x.v });
      });
      if (want.length !== g.points.length) {
        return `series ${fmtLabels(e.labels)}: ${g.points.length} points, expected ${want.length}: got ${JSON.stringify(g.points.map((p) => [p.t / 1000, p.v]))}`;
      }
      for (let k = 0; k < want.length; k++) {
        const w = want[k]!;
        const p = g.points[k]!;
        if (w.t !== p.t || !almostEqual(w.v, p.v)) {
          return `series ${fmtLabels(e.labels)}: point ${k} is ${p.v}@${p.t / 1000}s, expected ${w.v}@${w.t / 1000}s`;
        }
      }
    }
    return null;
  }
  if (v.type !== 'vector') {
    if (c.series.length === 0 && v.type === 'matrix' && v.series.length === 0) return null;
    return `expected a vector, got ${v.type}`;
  }
  if (v.series.length !== c.series.length) {
    return `got ${v.series.length} series, expected ${c.series.length}: got ${v.series.map((s) => `${fmtLabels(s.labels)} ${s.v}`).join('; ')}`;
  }
  for (let k = 0; k < c.series.length; k++) {
    const e = c.series[k]!;
    const want = e.values[0];
    const idx = c.ordered ? k : v.series.findIndex((s) => labelsKey(s.labels) === labelsKey(e.labels));
    const g = v.series[idx];
    if (g === undefined || labelsKey(g.labels) !== labelsKey(e.labels)) {
      return `${c.ordered ? `position ${k}: ` : ''}missing series ${fmtLabels(e.labels)}; got ${v.series.map((s) => fmtLabels(s.labels)).join(' ')}`;
    }
    if (want === undefined || want.kind !== 'num') return `bad expected value for ${fmtLabels(e.labels)}`;
    if (!almostEqual(g.v, want.v)) return `series ${fmtLabels(e.labels)}: value ${g.v}, expected ${want.v}`;
  }
  return null;
}

/**
 * The real TSDB in a temporary directory; `clear` starts over with an empty one. Two layouts:
 * - 'head': the clock stays at the epoch, nothing is ever sealed, queries read the in-memory head.
 * - 'sealed': after every load the whole data set is rebuilt into a fresh database and then sealed and flushed
 *   with the clock moved to 2001, so queries read compressed chunks from SQLite. (A sealed window refuses
 *   new samples, hence the rebuild when a later `load` adds data.)
 */
export type StoreLayout = 'head' | 'sealed';

class TestStore {
  db: Tsdb;
  refused = 0;
  private dir: string;
  private clock = 0;
  private readonly layout: StoreLayout;
  private readonly data = new Map<string, { labels: Labels; values: Map<number, SeqValue> }>();
  constructor(layout: StoreLayout) {
    this.layout = layout;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-promqltest-'));
    this.db = this.open();
  }
  private open(): Tsdb {
    this.clock = 0;
    return Tsdb.open({
      dir: this.dir,
      openDatabase: (file) => new Database(file),
      // The clock starts at the epoch so that no storage window is sealed while test data (1970) loads.
      now: () => this.clock,
      logger: silentLogger,
      retentionTimeMs: 0,
      retentionSizeBytes: 0,
    });
  }
  load(stepMs: number, lines: { labels: Labels; values: SeqValue[] }[]): void {
    // A later line for the same series overwrites earlier values at the same timestamps, as in Prometheus's
    // test storage; the TSDB itself refuses a second value for a timestamp, so merge first.
    const fresh = new Map<string, { labels: Labels; values: Map<number, SeqValue> }>();
    for (const s of lines) {
      const k = labelsKey(s.labels);
      let m = fresh.get(k);
      if (m === undefined) fresh.set(k, (m = { labels: s.labels, values: new Map() }));
      s.values.forEach((x, i) => {
        if (x.kind !== 'gap') m.values.set(i * stepMs, x);
      });
    }
    for (const [k, m] of fresh) {
      const old = this.data.get(k);
      if (old === undefined) this.data.set(k, m);
      else for (const [t, x] of m.values) old.values.set(t, x);
    }
    if (this.layout === 'head') {
      this.append(fresh.values());
      return;
    }
    this.reset();
    this.append(this.data.values());
    this.clock = Date.UTC(2001, 0, 1);
    this.db.maintain({ forceFlush: true });
    const st = this.db.stats();
    // The point of this layout: every sample now lives in sealed SQLite chunks, none in the head.
    if (st.headChunks !== 0 || (this.data.size > 0 && st.chunks === 0 && st.series > 0)) {
      throw new Error(`sealed layout: expected all data in SQLite chunks, got ${JSON.stringify(st)}`);
    }
  }
  private append(series: Iterable<{ labels: Labels; values: Map<number, SeqValue> }>): void {
    const app = this.db.appender();
    for (const s of series) {
      let ref = 0;
      [...s.values.entries()]
        .sort((a, b) => a[0] - b[0])
        .forEach(([t, x]) => {
          try {
            if (x.kind === 'num') ref = app.append(ref, s.labels, t, x.v);
            else if (x.kind === 'stale') ref = app.append(ref, s.labels, t, STALE_NAN);
          } catch (err) {
            // Prometheus's test storage refuses the same samples (out of order, duplicates); note and go on.
            if (!(err instanceof SampleError)) throw err;
            this.refused++;
          }
        });
    }
    app.commit();
  }
  private reset(): void {
    this.close();
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-promqltest-'));
    this.db = this.open();
  }
  clear(): void {
    this.data.clear();
    this.reset();
  }
  close(): void {
    this.db.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
