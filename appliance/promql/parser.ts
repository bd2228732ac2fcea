// The PromQL parser adapter: text -> lezer-promql syntax tree -> our own typed, type-checked AST.
//
// The grammar is @prometheus-io/lezer-promql, the one Prometheus's own UI uses; it is error-tolerant (it never
// throws), so this module turns its error nodes into PromQLError('bad_data') with a position, and does the type
// checking that Prometheus's Go parser does (argument counts and types, binary operator rules, modifiers), with
// Prometheus's message texts where they are known. This module is pure: no I/O, no clock.
import { parser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import { newMatcher, MatcherError } from '../model/matcher.ts';
import type { Matcher } from '../model/matcher.ts';
import { METRIC_NAME } from '../model/labels.ts';
import { FUNCTIONS } from './functions-meta.ts';
import type { FunctionMeta } from './functions-meta.ts';
import { PromQLError } from './errors.ts';
import { compileRegex } from './regex.ts';

/** The four PromQL value types, spelled as Prometheus spells them in error messages. */
export type ValueType = 'scalar' | 'instant vector' | 'range vector' | 'string';

/** A byte range [start, end) in the query text. */
export interface PosRange {
  readonly start: number;
  readonly end: number;
}

/** `@ start()` / `@ end()` are resolved by the engine against the query's range. */
export type AtModifier = { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' | 'end' };

export interface NumberLiteral {
  readonly kind: 'number';
  readonly value: number;
  readonly pos: PosRange;
}
export interface StringLiteral {
  readonly kind: 'string';
  readonly value: string;
  readonly pos: PosRange;
}
export interface VectorSelector {
  readonly kind: 'vectorSelector';
  /** The metric name when given as an identifier (also present as a matcher). */
  readonly name: string;
  readonly matchers: readonly Matcher[];
  readonly offsetMs: number;
  readonly at: AtModifier | null;
  readonly pos: PosRange;
}
export interface MatrixSelector {
  readonly kind: 'matrixSelector';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
  readonly pos: PosRange;
}
export interface SubqueryExpr {
  readonly kind: 'subquery';
  readonly expr: Expr;
  readonly rangeMs: number;
  /** 0 means "the engine's default step" (the query step, or 1 m for instant queries as in Prometheus). */
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at: AtModifier | null;
  readonly pos: PosRange;
}
export interface Call {
  readonly kind: 'call';
  readonly func: FunctionMeta;
  readonly args: readonly Expr[];
  readonly pos: PosRange;
}
export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'min'
  | 'max'
  | 'count'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'
  | 'count_values'
  | 'limitk'
  | 'limit_ratio';
export interface AggregateExpr {
  readonly kind: 'aggregate';
  readonly op: AggregateOp;
  readonly expr: Expr;
  readonly param: Expr | null;
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly pos: PosRange;
}
export type BinaryOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | 'atan2'
  | '=='
  | '!='
  | '>'
  | '<'
  | '>='
  | '<='
  | 'and'
  | 'or'
  | 'unless';
export interface VectorMatching {
  readonly card: 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';
  /** The labels of on(...) or ignoring(...). */
  readonly matchingLabels: readonly string[];
  readonly on: boolean;
  /** The extra labels of group_left(...)/group_right(...). */
  readonly include: readonly string[];
}
export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** Null when at least one side is a scalar. */
  readonly matching: VectorMatching | null;
  readonly pos: PosRange;
}
export interface UnaryExpr {
  readonly kind: 'unary';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly pos: PosRange;
}
export interface ParenExpr {
  readonly kind: 'paren';
  readonly expr: Expr;
  readonly pos: PosRange;
}

/** The typed PromQL AST. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr;

/** Queries longer than this are refused before parsing: no dashboard needs more, and it bounds parser work. */
export const MAX_QUERY_LENGTH = 256 * 1024;
/** Nesting deeper than this is refused: the evaluator recurses once per level. */
export const MAX_NESTING_DEPTH = 200;
/** Deepest syntax tree accepted (operator chains count one level per operator). */
export const MAX_AST_DEPTH = 1000;

const COMPARISON_OPS = new Set<BinaryOp>(['==', '!=', '>', '<', '>=', '<=']);
const SET_OPS = new Set<BinaryOp>(['and', 'or', 'unless']);

/** True for ==, !=, >, <, >=, <=. */
export function isComparisonOp(op: BinaryOp): boolean {
  return COMPARISON_OPS.has(op);
}
/** True for and, or, unless. */
export function isSetOp(op: BinaryOp): boolean {
  return SET_OPS.has(op);
}

/** The value type an expression evaluates to. */
export function exprType(e: Expr): ValueType {
  switch (e.kind) {
    case 'number':
      return 'scalar';
    case 'string':
      return 'string';
    case 'vectorSelector':
      return 'instant vector';
    case 'matrixSelector':
    case 'subquery':
      return 'range vector';
    case 'call':
      return e.func.returnType;
    case 'aggregate':
      return 'instant vector';
    case 'binary':
      return exprType(e.lhs) === 'scalar' && exprType(e.rhs) === 'scalar' ? 'scalar' : 'instant vector';
    case 'unary':
    case 'paren':
      return exprType(e.expr);
  }
}

function fail(msg: string, pos: PosRange, text: string): never {
  throw new PromQLError('bad_data', `${positionPrefix(text, pos.start)}parse error: ${msg}`, pos);
}

/** Prometheus prefixes parse errors with "line:column: " (1-based). */
function positionPrefix(text: string, offset: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `${line}:${col}: `;
}

/**
 * Parses a PromQL expression. Throws PromQLError with kind 'bad_data', a Prometheus-style message and the
 * position of the problem.
 */
export function parseExpr(text: string): Expr {
  if (text.length > MAX_QUERY_LENGTH) {
    throw new PromQLError('bad_data', `query is too long (${text.length} > ${MAX_QUERY_LENGTH} characters)`, {
      start: 0,
      end: text.length,
    });
  }
  if (text.trim() === '') fail('no expression found in input', { start: 0, end: 0 }, text);
  checkNesting(text);
  const { grammarText, renamed } = adaptForGrammar(text);
  let tree;
  try {
    tree = parser.parse(grammarText);
  } catch (err) {
    // lezer reports pathological input (for example a parse that needs too much memory) by throwing.
    throw new PromQLError('bad_data', `parse error: ${(err as Error).message}`, {
      start: 0,
      end: text.length,
    });
  }
  const top = tree.topNode;
  const a = new Adapter(text, renamed);
  a.checkErrors(top);
  const child = top.firstChild;
  if (child === null) fail('no expression found in input', { start: 0, end: text.length }, text);
  const expr = a.expr(child);
  a.check(expr);
  return expr;
}

/**
 * Bridges the gaps between the lezer grammar and Prometheus's Go parser with length-preserving rewrites, so
 * that every position still points into the user's text:
 * - min_of(a, b) / max_of(a, b) are Prometheus functions the grammar does not know yet; they are renamed to
 *   a same-length name the grammar knows ("minute"), and the adapter restores the real name by position.
 * - "2." (a trailing decimal point) is a valid Go float literal the grammar rejects; the point becomes a space.
 * Rewrites never happen inside string literals.
 */
function adaptForGrammar(text: string): { grammarText: string; renamed: Map<number, string> } {
  const renamed = new Map<number, string>();
  let out = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      out += c;
      if (c === '\\' && quote !== '`' && i + 1 < text.length) out += text[++i]!;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      quote = c;
      out += c;
      continue;
    }
    const prev = i > 0 ? text[i - 1]! : ' ';
    if (!/[A-Za-z0-9_:.]/.test(prev)) {
      const fn = /^(min_of|max_of)(?=\s*\()/.exec(text.slice(i, i + 64));
      if (fn !== null) {
        renamed.set(i, fn[1]!);
        out += 'minute';
        i += 5;
        continue;
      }
      const num = /^\d+\.(?![0-9A-Za-z_.])/.exec(text.slice(i, i + 40));
      if (num !== null && !/^0x/i.test(text.slice(i, i + 2))) {
        out += num[0].slice(0, -1) + ' ';
        i += num[0].length - 1;
        continue;
      }
    }
    out += c;
  }
  return { grammarText: out, renamed };
}

// Counting brackets before parsing keeps hostile deep nesting away from both the lezer parser and our recursion.
function checkNesting(text: string): void {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== '') {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '[' || c === '{') {
      depth++;
      if (depth > MAX_NESTING_DEPTH) {
        fail(
          `expression nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`,
          { start: i, end: i + 1 },
          text,
        );
      }
    } else if (c === ')' || c === ']' || c === '}') depth--;
  }
}

/** Go's strconv.Unquote for PromQL string literals; invalid UTF-8 bytes become U+DC00+byte (U+DC80..U+DCFF, a surrogate escape). */
export function unquoteString(raw: string): string {
  const q = raw[0];
  if (raw.length < 2 || raw[raw.length - 1] !== q) throw new Error('unterminated quoted string');
  const body = raw.slice(1, -1);
  if (q === '`') return body;
  const bytes: number[] = [];
  const pushCodePoint = (cp: number): void => {
    const b = Buffer.from(String.fromCodePoint(cp), 'utf8');
    for (const x of b) bytes.push(x);
  };
  for (let i = 0; i < body.length;) {
    const c = body[i]!;
    if (c === q) throw new Error('invalid syntax');
    if (c !== '\\') {
      const cp = body.codePointAt(i)!;
      pushCodePoint(cp);
      i += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        bytes.push(7);
        break;
      case 'b':
        bytes.push(8);
        break;
      case 'f':
        bytes.push(12);
        break;
      case 'n':
        bytes.push(10);
        break;
      case 'r':
        bytes.push(13);
        break;
      case 't':
        bytes.push(9);
        break;
      case 'v':
        bytes.push(11);
        break;
      case '\\':
        bytes.push(92);
        break;
      case '"':
      case "'":
        if (e !== q) throw new Error(`unknown escape sequence \\${e}`);
        bytes.push(e.charCodeAt(0));
        break;
      case 'x': {
        const h = body.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new Error('invalid \\x escape');
        bytes.push(parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const n = e === 'u' ? 4 : 8;
        const h = body.slice(i, i + n);
        if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new Error(`invalid \\${e} escape`);
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw new Error(`invalid code point \\${e}${h}`);
        pushCodePoint(cp);
        i += n;
        break;
      }
      default: {
        if (e !== undefined && e >= '0' && e <= '7') {
          const o = body.slice(i - 1, i + 2);
          if (!/^[0-3][0-7]{2}$/.test(o)) throw new Error('invalid octal escape');
          bytes.push(parseInt(o, 8));
          i += 2;
          break;
        }
        throw new Error(`unknown escape sequence \\${e ?? ''}`);
      }
    }
  }
  return decodeUtf8Lossless(Uint8Array.from(bytes));
}

// Decodes UTF-8, keeping each invalid byte (0x80..0xff) as the lone surrogate U+DC00+byte so that it can be printed back as
// \xNN (Go's %q) and so that label validation rejects it, as Prometheus does.
function decodeUtf8Lossless(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    let out = '';
    let i = 0;
    while (i < b.length) {
      const x = b[i]!;
      const len =
        x < 0x80 ? 1 : x >= 0xc2 && x < 0xe0 ? 2 : x >= 0xe0 && x < 0xf0 ? 3 : x >= 0xf0 && x < 0xf5 ? 4 : 0;
      if (len > 0 && i + len <= b.length) {
        try {
          out += new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(i, i + len));
          i += len;
          continue;
        } catch {
          // falls through to the escape below
        }
      }
      out += String.fromCharCode(0xdc00 + x);
      i++;
    }
    return out;
  }
}

/** Go's %q of a string, printing surrogate-escaped bytes as \xNN. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff)
      out += '\\x' + (c - 0xdc00).toString(16).padStart(2, '0');
    else if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** Parses a PromQL number literal: decimal, hex, Inf/NaN, underscores between digits, or a duration (seconds). */
export function parseNumberLiteral(raw: string): number {
  let s = raw.replace(/\s+/g, '');
  let sign = 1;
  if (s.startsWith('-')) {
    sign = -1;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  const lower = s.toLowerCase();
  if (lower === 'inf') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (/^0x[0-9a-f]+$/i.test(s)) return sign * Number(s);
  const dur = parseDurationMs(s);
  if (dur !== null && /[a-z]/i.test(s)) return (sign * dur) / 1000;
  const clean = s.replace(/(\d)_(?=\d)/g, '$1');
  if (!/^(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/.test(clean))
    throw new Error(`bad number or duration syntax: "${raw}"`);
  return sign * Number(clean);
}

const DUR_UNITS: Readonly<Record<string, number>> = {
  y: 365 * 86_400_000,
  w: 7 * 86_400_000,
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** A Prometheus duration ("1h30m") in ms, or null when the text is not one. */
function parseDurationMs(s: string): number | null {
  const m = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
  if (m === null || s === '') return null;
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let ms = 0;
  for (let i = 0; i < units.length; i++) {
    const n = m[i + 1];
    if (n !== undefined) ms += Number(n) * DUR_UNITS[units[i]!]!;
  }
  return ms;
}

const BINARY_OP_NODES: Readonly<Record<string, BinaryOp>> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Atan2: 'atan2',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

/** Walks the lezer tree. Holds only the query text. */
class Adapter {
  private readonly text: string;
  /** Function names that adaptForGrammar replaced, by start offset. */
  private readonly renamed: ReadonlyMap<number, string>;
  private depth = 0;
  constructor(text: string, renamed: ReadonlyMap<number, string>) {
    this.text = text;
    this.renamed = renamed;
  }

  private src(n: SyntaxNode): string {
    return this.text.slice(n.from, n.to);
  }
  private pos(n: SyntaxNode): PosRange {
    return { start: n.from, end: n.to };
  }
  private children(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c !== null; c = c.nextSibling) out.push(c);
    return out;
  }

  /** Reports the first error node with Prometheus-like wording. */
  checkErrors(top: SyntaxNode): void {
    const cursor = top.cursor();
    do {
      if (cursor.type.isError) {
        const node = cursor.node;
        const prev = node.prevSibling;
        const here = this.src(node);
        const pos = { start: node.from, end: Math.max(node.to, node.from + 1) };
        const parentName = node.parent?.name;
        if (
          prev !== null &&
          here.startsWith('(') &&
          (prev.name === 'VectorSelector' || (prev.name === 'Identifier' && parentName === 'VectorSelector'))
        ) {
          const name = this.src(prev).trim();
          fail(`unknown function with name ${goQuote(name)}`, this.pos(prev), this.text);
        }
        if (node.from >= this.text.length) fail('unexpected end of input', pos, this.text);
        const tok = here === '' ? this.text.slice(node.from, node.from + 1) : here;
        fail(`unexpected ${goQuote(tok.slice(0, 40))}`, pos, this.text);
      }
    } while (cursor.next());
    // Unterminated strings are tokens, not error nodes, in this grammar.
    top.cursor().iterate((c) => {
      if (c.name === 'StringLiteral') {
        const s = this.text.slice(c.from, c.to);
        if (s.length < 2 || s[s.length - 1] !== s[0])
          fail('unterminated quoted string', { start: c.from, end: c.to }, this.text);
      }
    });
  }

  string(n: SyntaxNode): string {
    try {
      return unquoteString(this.src(n));
    } catch (err) {
      fail((err as Error).message, this.pos(n), this.text);
    }
  }

  expr(n: SyntaxNode): Expr {
    // Long operator chains (a + a + ... + a) nest deeply without brackets; the evaluator recurses per level.
    if (++this.depth > MAX_AST_DEPTH)
      fail(`expression nested too deeply (more than ${MAX_AST_DEPTH} levels)`, this.pos(n), this.text);
    try {
      return this.exprInner(n);
    } finally {
      this.depth--;
    }
  }

  private exprInner(n: SyntaxNode): Expr {
    const kids = this.children(n);
    switch (n.name) {
      case 'NumberDurationLiteral':
      case 'NumberDurationLiteralInDurationContext': {
        try {
          return { kind: 'number', value: parseNumberLiteral(this.src(n)), pos: this.pos(n) };
        } catch (err) {
          fail((err as Error).message, this.pos(n), this.text);
        }
        break;
      }
      case 'StringLiteral':
        return { kind: 'string', value: this.string(n), pos: this.pos(n) };
      case 'ParenExpr':
        return { kind: 'paren', expr: this.expr(kids[0]!), pos: this.pos(n) };
      case 'UnaryExpr': {
        const op = this.src(kids[0]!) === '-' ? '-' : '+';
        const inner = this.expr(kids[1]!);
        if (inner.kind === 'number') {
          return { kind: 'number', value: op === '-' ? -inner.value : inner.value, pos: this.pos(n) };
        }
        return { kind: 'unary', op, expr: inner, pos: this.pos(n) };
      }
      case 'VectorSelector':
        return this.vectorSelector(n, kids);
      case 'MatrixSelector':
        return this.matrixSelector(n, kids);
      case 'SubqueryExpr':
        return this.subquery(n, kids);
      case 'OffsetExpr':
        return this.offset(n, kids);
      case 'StepInvariantExpr':
        return this.at(n, kids);
      case 'FunctionCall':
        return this.call(n, kids);
      case 'AggregateExpr':
        return this.aggregate(n, kids);
      case 'BinaryExpr':
        return this.binary(n, kids);
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        fail(
          `the ${n.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier is not supported`,
          this.pos(n),
          this.text,
        );
    }
    fail(`unexpected ${n.name}`, this.pos(n), this.text);
  }

  private vectorSelector(n: SyntaxNode, kids: SyntaxNode[]): VectorSelector {
    let name = '';
    const matchers: Matcher[] = [];
    for (const k of kids) {
      if (k.name === 'Identifier') {
        name = this.src(k);
      } else if (k.name === 'LabelMatchers') {
        for (const m of this.children(k)) {
          if (m.name === 'QuotedLabelName') {
            // {"metric_name"}: a bare quoted name is the metric name (UTF-8 names).
            const v = this.string(m.firstChild!);
            if (name !== '')
              fail(
                `metric name must not be set twice: ${goQuote(name)} or ${goQuote(v)}`,
                this.pos(m),
                this.text,
              );
            name = v;
            continue;
          }
          const parts = this.children(m);
          const lname =
            m.name === 'QuotedLabelMatcher' ? this.string(parts[0]!.firstChild!) : this.src(parts[0]!);
          const opText = this.src(parts[1]!);
          const value = this.string(parts[2]!);
          matchers.push(this.matcher(opText as '=' | '!=' | '=~' | '!~', lname, value, this.pos(m)));
        }
      }
    }
    if (name !== '') {
      if (matchers.some((m) => m.name === METRIC_NAME)) {
        fail(
          `metric name must not be set twice: ${goQuote(name)} or ${goQuote(matchers.find((m) => m.name === METRIC_NAME)!.value)}`,
          this.pos(n),
          this.text,
        );
      }
      matchers.unshift(newMatcher('=', METRIC_NAME, name));
    }
    // Prometheus: a selector must contain at least one matcher that does not match the empty string.
    if (!matchers.some((m) => !m.matches(''))) {
      fail('vector selector must contain at least one non-empty matcher', this.pos(n), this.text);
    }
    return { kind: 'vectorSelector', name, matchers, offsetMs: 0, at: null, pos: this.pos(n) };
  }

  private matcher(op: '=' | '!=' | '=~' | '!~', name: string, value: string, pos: PosRange): Matcher {
    if (op === '=' || op === '!=') return newMatcher(op, name, value);
    try {
      const re = compileRegex(value);
      const negate = op === '!~';
      return { type: op, name, value, matches: (v: string) => re.test(v) !== negate };
    } catch (err) {
      const msg = err instanceof MatcherError || err instanceof Error ? err.message : String(err);
      fail(`invalid regular expression ${goQuote(value)}: ${msg}`, pos, this.text);
    }
  }

  /** A duration expression in ms; numbers are seconds. */
  duration(n: SyntaxNode): number {
    const kids = this.children(n);
    if (n.name === 'NumberDurationLiteralInDurationContext') {
      const s = this.src(n);
      const d = parseDurationMs(s);
      if (d !== null && /[a-z]/i.test(s)) return d;
      try {
        const v = parseNumberLiteral(s);
        if (!Number.isFinite(v)) fail(`invalid duration ${goQuote(s)}`, this.pos(n), this.text);
        return Math.round(v * 1000);
      } catch (err) {
        if (err instanceof PromQLError) throw err;
        fail((err as Error).message, this.pos(n), this.text);
      }
    }
    if (n.name === 'DurationExpr' || n.name === 'OffsetDurationExpr') {
      const meaningful = kids.filter((k) => k.name !== '(' && k.name !== ')');
      if (meaningful.length === 1) return this.duration(meaningful[0]!);
      if (meaningful.length === 2 && meaningful[0]!.name === 'UnaryOp') {
        const v = this.duration(meaningful[1]!);
        return this.src(meaningful[0]!) === '-' ? -v : v;
      }
      if (meaningful.length === 3) {
        const a = this.duration(meaningful[0]!);
        const b = this.duration(meaningful[2]!);
        switch (meaningful[1]!.name) {
          case 'Add':
            return a + b;
          case 'Sub':
            return a - b;
          case 'Mul':
            return (a * b) / 1000;
          case 'Div':
            if (b === 0) fail('division by zero', this.pos(n), this.text);
            return Math.round((a / b) * 1000);
          case 'Mod':
            if (b === 0) fail('modulo by zero', this.pos(n), this.text);
            return a % b;
          case 'Pow':
            return Math.round(Math.pow(a / 1000, b / 1000) * 1000);
        }
      }
      const first = meaningful[0];
      if (first !== undefined && (first.name === 'DurationStep' || first.name === 'DurationRange')) {
        fail(`${this.src(first)}() in durations is not supported`, this.pos(n), this.text);
      }
      if (first !== undefined && (first.name === 'DurationMinOf' || first.name === 'DurationMaxOf')) {
        const a = this.duration(meaningful[1]!);
        const b = this.duration(meaningful[2]!);
        return first.name === 'DurationMinOf' ? Math.min(a, b) : Math.max(a, b);
      }
    }
    fail(`invalid duration ${goQuote(this.src(n))}`, this.pos(n), this.text);
  }

  private matrixSelector(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    return this.pushDown(this.expr(kids[0]!), (inner) => this.matrixOn(n, kids, inner));
  }

  private matrixOn(n: SyntaxNode, kids: SyntaxNode[], inner: Expr): Expr {
    const durNode = kids.find((k) => k.name === 'DurationExpr')!;
    const rangeMs = this.duration(durNode);
    if (inner.kind !== 'vectorSelector') {
      fail('ranges only allowed for vector selectors', this.pos(n), this.text);
    }
    if (inner.offsetMs !== 0 || inner.at !== null) {
      // `foo offset 1m [5m]` is valid in Prometheus: the modifiers move to the matrix selector.
    }
    if (rangeMs <= 0)
      fail(`range selector must be positive: ${this.src(durNode)}`, this.pos(durNode), this.text);
    return { kind: 'matrixSelector', selector: inner, rangeMs, pos: this.pos(n) };
  }

  private subquery(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    return this.pushDown(this.expr(kids[0]!), (inner) => this.subqueryOn(n, kids, inner));
  }

  private subqueryOn(n: SyntaxNode, kids: SyntaxNode[], inner: Expr): Expr {
    const durs = kids.filter((k) => k.name === 'DurationExpr');
    const rangeMs = this.duration(durs[0]!);
    const stepMs = durs[1] !== undefined ? this.duration(durs[1]) : 0;
    if (exprType(inner) !== 'instant vector') {
      fail(
        `subquery is only allowed on instant vector, got ${exprType(inner)} instead`,
        this.pos(n),
        this.text,
      );
    }
    if (rangeMs <= 0) fail('subquery range must be positive', this.pos(durs[0]!), this.text);
    if (stepMs < 0 || (durs[1] !== undefined && stepMs === 0))
      fail('subquery step must be positive', this.pos(durs[1]!), this.text);
    return { kind: 'subquery', expr: inner, rangeMs, stepMs, offsetMs: 0, at: null, pos: this.pos(n) };
  }

  /**
   * lezer-promql attaches postfix modifiers (offset, @, [range], [range:step]) to a whole binary or unary
   * expression on their left; Prometheus binds them to the nearest operand. Re-attach them to the rightmost
   * operand so that `a offset 1m or b offset 2m` and `-metric @ 100` mean what they mean in Prometheus.
   */
  private pushDown(inner: Expr, apply: (e: Expr) => Expr): Expr {
    if (inner.kind === 'binary') return { ...inner, rhs: this.pushDown(inner.rhs, apply) };
    if (inner.kind === 'unary') return { ...inner, expr: this.pushDown(inner.expr, apply) };
    return apply(inner);
  }

  private offset(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    return this.pushDown(this.expr(kids[0]!), (inner) => this.offsetOn(n, kids, inner));
  }

  private offsetOn(n: SyntaxNode, kids: SyntaxNode[], inner: Expr): Expr {
    const ms = this.duration(kids.find((k) => k.name === 'OffsetDurationExpr')!);
    const target = inner.kind === 'matrixSelector' ? inner.selector : inner;
    if (target.kind !== 'vectorSelector' && target.kind !== 'subquery') {
      fail(
        'offset modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        this.pos(n),
        this.text,
      );
    }
    if (target.offsetMs !== 0) fail('offset may not be set multiple times', this.pos(n), this.text);
    const updated = { ...target, offsetMs: ms };
    return inner.kind === 'matrixSelector'
      ? { ...inner, selector: updated as VectorSelector, pos: this.pos(n) }
      : { ...updated, pos: this.pos(n) };
  }

  private at(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    return this.pushDown(this.expr(kids[0]!), (inner) => this.atOn(n, kids, inner));
  }

  private atOn(n: SyntaxNode, kids: SyntaxNode[], inner: Expr): Expr {
    const arg = kids[2]!;
    let at: AtModifier;
    if (arg.name === 'AtModifierPreprocessors') {
      at = { kind: arg.firstChild?.name === 'AtStart' ? 'start' : 'end' };
    } else {
      let v: number;
      try {
        v = parseNumberLiteral(this.src(arg));
      } catch (err) {
        fail((err as Error).message, this.pos(arg), this.text);
      }
      if (!Number.isFinite(v) || Math.abs(v * 1000) > 9.2e18) {
        fail(`timestamp out of bounds for @ modifier: ${v}`, this.pos(arg), this.text);
      }
      at = { kind: 'time', ms: Math.round(v * 1000) };
    }
    const target = inner.kind === 'matrixSelector' ? inner.selector : inner;
    if (target.kind !== 'vectorSelector' && target.kind !== 'subquery') {
      fail(
        '@ modifier must be preceded by an instant vector selector or range vector selector or a subquery',
        this.pos(n),
        this.text,
      );
    }
    if (target.at !== null) fail('@ <timestamp> may not be set multiple times', this.pos(n), this.text);
    const updated = { ...target, at };
    return inner.kind === 'matrixSelector'
      ? { ...inner, selector: updated as VectorSelector, pos: this.pos(n) }
      : { ...updated, pos: this.pos(n) };
  }

  private call(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    const nameNode = kids[0]!;
    const name = this.renamed.get(nameNode.from) ?? this.src(nameNode);
    const func = FUNCTIONS.get(name);
    if (func === undefined)
      fail(`unknown function with name ${goQuote(name)}`, this.pos(nameNode), this.text);
    const body = kids[1]!;
    const args = this.children(body)
      .filter((k) => k.name !== '(' && k.name !== ')' && k.name !== ',')
      .map((k) => this.expr(k));
    return { kind: 'call', func, args, pos: this.pos(n) };
  }

  private grouping(n: SyntaxNode): string[] {
    return this.children(n)
      .filter((k) => k.name === 'LabelName' || k.name === 'QuotedLabelName')
      .map((k) => (k.name === 'LabelName' ? this.src(k) : this.string(k.firstChild!)));
  }

  private aggregate(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    const op = this.src(kids[0]!).toLowerCase() as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    const mod = kids.find((k) => k.name === 'AggregateModifier');
    if (mod !== undefined) {
      const mk = this.children(mod);
      without = mk[0]!.name === 'Without';
      grouping = this.grouping(mk[1]!);
    }
    const body = kids.find((k) => k.name === 'FunctionCallBody')!;
    const args = this.children(body)
      .filter((k) => k.name !== '(' && k.name !== ')' && k.name !== ',')
      .map((k) => this.expr(k));
    const needsParam =
      op === 'topk' ||
      op === 'bottomk' ||
      op === 'quantile' ||
      op === 'count_values' ||
      op === 'limitk' ||
      op === 'limit_ratio';
    const want = needsParam ? 2 : 1;
    if (args.length === 0) fail('no arguments for aggregate expression provided', this.pos(n), this.text);
    if (args.length !== want) {
      fail(
        `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`,
        this.pos(n),
        this.text,
      );
    }
    return {
      kind: 'aggregate',
      op,
      expr: args[want - 1]!,
      param: needsParam ? args[0]! : null,
      grouping,
      without,
      pos: this.pos(n),
    };
  }

  private binary(n: SyntaxNode, kids: SyntaxNode[]): Expr {
    const lhs = this.expr(kids[0]!);
    const rhs = this.expr(kids[kids.length - 1]!);
    const op = BINARY_OP_NODES[kids[1]!.name];
    if (op === undefined)
      fail(`operator ${goQuote(this.src(kids[1]!))} is not supported`, this.pos(kids[1]!), this.text);
    let returnBool = false;
    let clause: SyntaxNode | undefined;
    for (const k of kids.slice(2, -1)) {
      if (k.name === 'BoolModifier') returnBool = true;
      else if (k.name === 'MatchingModifierClause') clause = k;
      else if (k.name === 'FillModifier') fail('fill modifiers are not supported', this.pos(k), this.text);
    }
    let matching: VectorMatching | null = null;
    const lt = exprType(lhs);
    const rt = exprType(rhs);
    const bothVectors = lt === 'instant vector' && rt === 'instant vector';
    if (clause !== undefined) {
      const ck = this.children(clause);
      const on = ck[0]!.name === 'On';
      const matchingLabels = this.grouping(ck[1]!);
      let card: VectorMatching['card'] = isSetOp(op) ? 'many-to-many' : 'one-to-one';
      let include: string[] = [];
      const g = ck[2];
      if (g !== undefined) {
        card = g.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
        if (ck[3] !== undefined) include = this.grouping(ck[3]);
        if (isSetOp(op))
          fail(`no grouping allowed for ${goQuote(op)} operation`, this.pos(clause), this.text);
        for (const l of matchingLabels) {
          if (on && include.includes(l))
            fail(
              `label ${goQuote(l)} must not occur in ON and GROUP clause at once`,
              this.pos(clause),
              this.text,
            );
        }
      }
      if (!bothVectors)
        fail('vector matching only allowed between instant vectors', this.pos(clause), this.text);
      matching = { card, matchingLabels, on, include };
    } else if (bothVectors) {
      matching = {
        card: isSetOp(op) ? 'many-to-many' : 'one-to-one',
        matchingLabels: [],
        on: false,
        include: [],
      };
    }
    const e: BinaryExpr = { kind: 'binary', op, lhs, rhs, returnBool, matching, pos: this.pos(n) };
    return e;
  }

  /** Prometheus's checkAST: value types of arguments and operands. */
  check(e: Expr): void {
    const t = this.text;
    switch (e.kind) {
      case 'number':
      case 'string':
      case 'vectorSelector':
        return;
      case 'matrixSelector':
        return;
      case 'subquery':
        return this.check(e.expr);
      case 'paren':
        return this.check(e.expr);
      case 'unary': {
        const ty = exprType(e.expr);
        if (ty !== 'scalar' && ty !== 'instant vector') {
          fail(
            `unary expression only allowed on expressions of type scalar or instant vector, got ${goQuote(ty)}`,
            e.pos,
            t,
          );
        }
        return this.check(e.expr);
      }
      case 'call': {
        const f = e.func;
        const n = e.args.length;
        if (f.minArgs === f.maxArgs && n !== f.minArgs) {
          fail(`expected ${f.minArgs} argument(s) in call to ${goQuote(f.name)}, got ${n}`, e.pos, t);
        }
        if (n < f.minArgs)
          fail(
            `expected at least ${f.minArgs} argument(s) in call to ${goQuote(f.name)}, got ${n}`,
            e.pos,
            t,
          );
        if (n > f.maxArgs)
          fail(`expected at most ${f.maxArgs} argument(s) in call to ${goQuote(f.name)}, got ${n}`, e.pos, t);
        e.args.forEach((a, i) => {
          const want = f.argTypes[Math.min(i, f.argTypes.length - 1)]!;
          const got = exprType(a);
          if (got !== want)
            fail(`expected type ${want} in call to function ${goQuote(f.name)}, got ${got}`, a.pos, t);
          this.check(a);
        });
        return;
      }
      case 'aggregate': {
        if (exprType(e.expr) !== 'instant vector') {
          fail(
            `expected type instant vector in aggregation expression, got ${exprType(e.expr)}`,
            e.expr.pos,
            t,
          );
        }
        if (e.param !== null) {
          const want: ValueType = e.op === 'count_values' ? 'string' : 'scalar';
          if (exprType(e.param) !== want)
            fail(`expected type ${want} in aggregation parameter, got ${exprType(e.param)}`, e.param.pos, t);
          this.check(e.param);
        }
        return this.check(e.expr);
      }
      case 'binary': {
        const lt = exprType(e.lhs);
        const rt = exprType(e.rhs);
        const ok = (x: ValueType): boolean => x === 'scalar' || x === 'instant vector';
        if (!ok(lt) || !ok(rt))
          fail('binary expression must contain only scalar and instant vector types', e.pos, t);
        if (e.returnBool && !isComparisonOp(e.op))
          fail('bool modifier can only be used on comparison operators', e.pos, t);
        if (isComparisonOp(e.op) && lt === 'scalar' && rt === 'scalar' && !e.returnBool) {
          fail('comparisons between scalars must use BOOL modifier', e.pos, t);
        }
        if (isSetOp(e.op) && (lt === 'scalar' || rt === 'scalar')) {
          fail(`set operator ${goQuote(e.op)} not allowed in binary scalar expression`, e.pos, t);
        }
        this.check(e.lhs);
        return this.check(e.rhs);
      }
    }
  }
}

function formatDurationMs(ms: number): string {
  return ms < 0 ? `-${-ms}ms` : `${ms}ms`;
}

function formatLabelName(name: string): string {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) ? name : goQuote(name);
}

function formatModifiers(offsetMs: number, at: AtModifier | null): string {
  let s = '';
  if (offsetMs !== 0) s += ` offset ${formatDurationMs(offsetMs)}`;
  if (at !== null) s += at.kind === 'time' ? ` @ ${(at.ms / 1000).toFixed(3)}` : ` @ ${at.kind}()`;
  return s;
}

function formatSelector(vs: VectorSelector): string {
  const parts: string[] = [];
  let name = vs.name;
  for (const m of vs.matchers) {
    if (name !== '' && m.name === METRIC_NAME && m.type === '=' && m.value === name) continue;
    parts.push(`${formatLabelName(m.name)}${m.type}${goQuote(m.value)}`);
  }
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name) && name !== '') {
    parts.unshift(goQuote(name));
    name = '';
  }
  return name + (parts.length > 0 || name === '' ? `{${parts.join(', ')}}` : '');
}

/**
 * Prints an AST back as PromQL text that parses to the same AST (up to positions). Brackets are added
 * generously rather than minimally, so the output is unambiguous but not always what a human would write.
 */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return Number.isNaN(e.value)
        ? 'NaN'
        : e.value === Infinity
          ? 'Inf'
          : e.value === -Infinity
            ? '(-Inf)'
            : e.value < 0 || Object.is(e.value, -0)
              ? `(${String(e.value)})`
              : String(e.value);
    case 'string':
      return goQuote(e.value);
    case 'vectorSelector':
      return formatSelector(e) + formatModifiers(e.offsetMs, e.at);
    case 'matrixSelector':
      return `${formatSelector(e.selector)}[${formatDurationMs(e.rangeMs)}]${formatModifiers(e.selector.offsetMs, e.selector.at)}`;
    case 'subquery':
      return `(${formatExpr(e.expr)})[${formatDurationMs(e.rangeMs)}:${e.stepMs > 0 ? formatDurationMs(e.stepMs) : ''}]${formatModifiers(e.offsetMs, e.at)}`;
    case 'call':
      return `${e.func.name}(${e.args.map(formatExpr).join(', ')})`;
    case 'aggregate': {
      const grouping =
        e.grouping.length > 0 || e.without
          ? ` ${e.without ? 'without' : 'by'} (${e.grouping.map(formatLabelName).join(', ')})`
          : '';
      const args = e.param !== null ? `${formatExpr(e.param)}, ${formatExpr(e.expr)}` : formatExpr(e.expr);
      return `${e.op}${grouping} (${args})`;
    }
    case 'binary': {
      let mods = e.returnBool ? ' bool' : '';
      const m = e.matching;
      if (
        m !== null &&
        (m.on || m.matchingLabels.length > 0 || m.card === 'many-to-one' || m.card === 'one-to-many')
      ) {
        mods += ` ${m.on ? 'on' : 'ignoring'} (${m.matchingLabels.map(formatLabelName).join(', ')})`;
        if (m.card === 'many-to-one' || m.card === 'one-to-many') {
          mods += ` ${m.card === 'many-to-one' ? 'group_left' : 'group_right'} (${m.include.map(formatLabelName).join(', ')})`;
        }
      }
      return `(${formatExpr(e.lhs)}) ${e.op}${mods} (${formatExpr(e.rhs)})`;
    }
    case 'unary':
      return `${e.op}(${formatExpr(e.expr)})`;
    case 'paren':
      return `(${formatExpr(e.expr)})`;
  }
}
