import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  parseExpr,
  formatExpr,
  exprType,
  unquoteString,
  goQuote,
  parseNumberLiteral,
  MAX_QUERY_LENGTH,
} from '../../../appliance/promql/parser.ts';
import type { Expr } from '../../../appliance/promql/parser.ts';
import { PromQLError } from '../../../appliance/promql/errors.ts';

function parseError(text: string): PromQLError {
  try {
    parseExpr(text);
  } catch (err) {
    assert.ok(err instanceof PromQLError, `expected a PromQLError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} to fail`);
}

function unwrap(e: Expr): Expr {
  return e.kind === 'paren' ? unwrap(e.expr) : e;
}

describe('parseExpr: valid expressions', () => {
  it('parses an aggregation with grouping over a rate of a regex selector', () => {
    const e = parseExpr(
      'sum by (job, "odd name") (rate(http_requests_total{code=~"5..", path!="/"}[5m] offset 1m))',
    );
    assert.equal(e.kind, 'aggregate');
    if (e.kind !== 'aggregate') return;
    assert.equal(e.op, 'sum');
    assert.deepEqual(e.grouping, ['job', 'odd name']);
    assert.equal(e.without, false);
    const call = e.expr;
    assert.equal(call.kind, 'call');
    if (call.kind !== 'call') return;
    assert.equal(call.func.name, 'rate');
    const m = call.args[0]!;
    assert.equal(m.kind, 'matrixSelector');
    if (m.kind !== 'matrixSelector') return;
    assert.equal(m.rangeMs, 300_000);
    assert.equal(m.selector.offsetMs, 60_000);
    assert.deepEqual(
      m.selector.matchers.map((x) => [x.name, x.type, x.value]),
      [
        ['__name__', '=', 'http_requests_total'],
        ['code', '=~', '5..'],
        ['path', '!=', '/'],
      ],
    );
    assert.ok(m.selector.matchers[1]!.matches('503'));
    assert.ok(!m.selector.matchers[1]!.matches('5030'), 'regex matchers are anchored');
  });

  it('is case-insensitive for aggregation keywords, as Prometheus is', () => {
    const e = parseExpr('SUM BY (a) (x)');
    assert.equal(e.kind === 'aggregate' && e.op, 'sum');
  });

  it('parses vector matching with group_left and bool comparisons', () => {
    const e = parseExpr('a * on (instance) group_left (role) b');
    assert.equal(e.kind, 'binary');
    if (e.kind !== 'binary') return;
    assert.deepEqual(e.matching, {
      card: 'many-to-one',
      matchingLabels: ['instance'],
      on: true,
      include: ['role'],
    });
    const b = parseExpr('a > bool ignoring (x) b');
    assert.ok(b.kind === 'binary' && b.returnBool && b.matching?.on === false);
    const s = parseExpr('a and b');
    assert.ok(s.kind === 'binary' && s.matching?.card === 'many-to-many');
  });

  it('binds offset and @ to the nearest operand, as Prometheus does', () => {
    const e = parseExpr('a offset 1m or b offset 2m');
    assert.ok(e.kind === 'binary');
    if (e.kind !== 'binary') return;
    assert.ok(e.lhs.kind === 'vectorSelector' && e.lhs.offsetMs === 60_000);
    assert.ok(e.rhs.kind === 'vectorSelector' && e.rhs.offsetMs === 120_000);
    const u = parseExpr('-metric @ 100');
    assert.ok(
      u.kind === 'unary' &&
        u.expr.kind === 'vectorSelector' &&
        u.expr.at?.kind === 'time' &&
        u.expr.at.ms === 100_000,
    );
  });

  it('parses subqueries, @ start()/end() and duration arithmetic', () => {
    const e = parseExpr('max_over_time(rate(x[1m])[1h:30s] @ end())');
    assert.ok(e.kind === 'call');
    const sq = e.kind === 'call' ? e.args[0]! : e;
    assert.ok(
      sq.kind === 'subquery' && sq.rangeMs === 3_600_000 && sq.stepMs === 30_000 && sq.at?.kind === 'end',
    );
    const d = parseExpr('x[1m + 30s]');
    assert.ok(d.kind === 'matrixSelector' && d.rangeMs === 90_000);
    const n = parseExpr('x[90]');
    assert.ok(n.kind === 'matrixSelector' && n.rangeMs === 90_000, 'a bare number in a range is seconds');
  });

  it('parses number literals like Go: hex, Inf/NaN, underscores, durations as seconds, trailing point', () => {
    assert.equal(parseNumberLiteral('0x1F'), 31);
    assert.equal(parseNumberLiteral('-Inf'), -Infinity);
    assert.ok(Number.isNaN(parseNumberLiteral('nan')));
    assert.equal(parseNumberLiteral('1_000'), 1000);
    assert.equal(parseNumberLiteral('1h30m'), 5400);
    const e = parseExpr('2.');
    assert.ok(e.kind === 'number' && e.value === 2);
    const f = parseExpr('1m + 1');
    assert.equal(exprType(f), 'scalar');
  });

  it('unquotes Go string literals, keeping invalid UTF-8 bytes printable', () => {
    assert.equal(unquoteString('"a\\tb\\u00e9\\x41\\101"'), 'a\tbéAA');
    assert.equal(unquoteString("'it\\'s'"), "it's");
    assert.equal(unquoteString('`raw\\n`'), 'raw\\n');
    const bad = unquoteString('"a\\xc5z"');
    assert.equal(goQuote(bad), '"a\\xc5z"');
  });

  it('knows min_of/max_of although the grammar does not, with positions intact', () => {
    const e = parseExpr('min_of(3, 5)');
    assert.ok(e.kind === 'call' && e.func.name === 'min_of' && e.pos.start === 0);
    const s = parseExpr('"min_of(1, 2)"');
    assert.ok(s.kind === 'string' && s.value === 'min_of(1, 2)', 'strings are never rewritten');
  });
});

describe('parseExpr: errors carry Prometheus messages and positions', () => {
  const cases: [string, RegExp, number][] = [
    ['rate(x)', /expected type range vector in call to function "rate", got instant vector/, 5],
    ['1 > 2', /comparisons between scalars must use BOOL modifier/, 0],
    ['foo(1)', /unknown function with name "foo"/, 0],
    ['{}', /vector selector must contain at least one non-empty matcher/, 0],
    ['{a=~".*"}', /vector selector must contain at least one non-empty matcher/, 0],
    ['foo offset 1m offset 2m', /offset may not be set multiple times/, 0],
    ['foo @ 1 @ 2', /@ <timestamp> may not be set multiple times/, 0],
    ['sum(x) offset 1m', /offset modifier must be preceded by an instant vector selector/, 0],
    ['x[5m] + 1', /binary expression must contain only scalar and instant vector types/, 0],
    ['topk(x, y)', /expected type scalar in aggregation parameter, got instant vector/, 5],
    ['a + bool b', /bool modifier can only be used on comparison operators/, 0],
    ['a and on(x) group_left b', /no grouping allowed for "and" operation/, 6],
    ['1 and 2', /set operator "and" not allowed in binary scalar expression/, 0],
    ['round()', /expected at least 1 argument\(s\) in call to "round", got 0/, 0],
    ['label_replace(x, "a")', /expected 5 argument\(s\) in call to "label_replace", got 2/, 0],
    ['foo{a="b"', /unexpected end of input/, 9],
    ['foo bar', /unexpected "bar"/, 4],
    ['sum(x) by', /unexpected/, 9],
    ['x[0s]', /range selector must be positive/, 2],
    ['foo{a=~"(?=x)"}', /invalid regular expression "\(\?=x\)"/, 4],
    ['foo{a=~"(a)\\\\1"}', /backreferences are not supported/, 4],
    ['foo{a=~"(?U)a+"}', /invalid or unsupported Perl syntax/, 4],
    ['"\\q"', /unknown escape sequence/, 0],
    ['"unterminated', /unterminated quoted string/, 0],
    ['', /no expression found in input/, 0],
    ['x @ 1e300', /timestamp out of bounds for @ modifier/, 4],
    ['x[5m] anchored', /not supported|unexpected/, 0],
  ];
  for (const [text, re, start] of cases) {
    it(`${JSON.stringify(text)} -> ${re.source}`, () => {
      const err = parseError(text);
      assert.equal(err.kind, 'bad_data');
      assert.match(err.message, re);
      assert.ok(err.position !== undefined, 'has a position');
      assert.equal(err.position.start, start);
      assert.match(err.message, /^(\d+:\d+: )?parse error: /);
    });
  }

  it('prefixes line and column like Prometheus', () => {
    const err = parseError('sum(\n  rate(x)\n)');
    assert.match(err.message, /^2:8: parse error: /);
  });
});

describe('parseExpr: hostile input', () => {
  it('refuses deep bracket nesting before parsing', () => {
    const err = parseError('('.repeat(10_000) + '1' + ')'.repeat(10_000));
    assert.match(err.message, /nested too deeply/);
  });

  it('refuses deep subquery and call nesting', () => {
    const err = parseError('abs('.repeat(300) + 'x' + ')'.repeat(300));
    assert.match(err.message, /nested too deeply/);
  });

  it('accepts a long operator chain and refuses a pathological one without crashing', () => {
    const ok = parseExpr('a' + ' + a'.repeat(300));
    assert.equal(ok.kind, 'binary');
    const err = parseError('a' + ' + a'.repeat(5_000));
    assert.equal(err.kind, 'bad_data');
  });

  it('refuses input over the length limit', () => {
    const err = parseError('x'.repeat(MAX_QUERY_LENGTH + 1));
    assert.match(err.message, /query is too long/);
  });

  it('handles huge and tiny numbers as Go does (overflow to Inf, underflow to 0)', () => {
    const big = parseExpr('1e400');
    assert.ok(big.kind === 'number' && big.value === Infinity);
    const tiny = parseExpr('1e-400');
    assert.ok(tiny.kind === 'number' && tiny.value === 0);
    const hex = parseExpr('0x' + 'f'.repeat(100));
    assert.ok(hex.kind === 'number' && Number.isFinite(hex.value) && hex.value > 1e100);
  });

  it('rejects invalid escapes and lone surrogates, and keeps invalid UTF-8 from \\x escapes', () => {
    assert.match(parseError('"\\xZZ"').message, /invalid \\x escape/);
    assert.match(parseError('"\\uD800"').message, /invalid code point/);
    assert.equal(parseError('"\ud800"').kind, 'bad_data');
    const e = parseExpr('"\\xff\\xfe"');
    assert.ok(e.kind === 'string' && goQuote(e.value) === '"\\xff\\xfe"');
  });

  it('never throws anything but PromQLError for garbage', () => {
    const garbage = [
      '}',
      ')',
      ']',
      '[5m]',
      'sum(',
      'a +',
      '@',
      'offset',
      '{{',
      '"',
      '`',
      "'",
      'by (a) sum(x)',
      '\u0000',
      '𝒳{a="b"}',
      'x[5m:1m:1m]',
      'x @ start',
      'x offset',
      '-',
      'a[5m] offset -',
      'histogram_quantile(',
      '((((',
      'a == == b',
      '1 +++ 2 ---',
      'x{a="b",,}',
    ];
    for (const g of garbage) {
      try {
        parseExpr(g);
      } catch (err) {
        assert.ok(err instanceof PromQLError, `${JSON.stringify(g)}: ${String(err)}`);
        assert.equal(err.kind, 'bad_data');
      }
    }
  });

  it('keeps the grouping order and unwraps parentheses', () => {
    const e = unwrap(parseExpr('((sum without (b, a) (x)))'));
    assert.ok(e.kind === 'aggregate' && e.without && e.grouping.join() === 'b,a');
  });
});

describe('formatExpr', () => {
  // Positions, compiled matcher functions and explicit brackets are not part of the meaning.
  function normal(e: Expr): unknown {
    return JSON.parse(
      JSON.stringify(e, (k: string, v: unknown) => {
        let x = v as { kind?: string; expr?: unknown; name?: string } | null;
        while (x !== null && typeof x === 'object' && x.kind === 'paren') x = x.expr as typeof x;
        if (k === 'pos' || k === 'matches') return undefined;
        if (k === 'func') return (x as { name: string }).name;
        return x;
      }),
    );
  }

  it('round-trips every expression of the conformance files', () => {
    const dir = path.join(import.meta.dirname, '../../testdata/promqltest');
    let n = 0;
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.test'))) {
      for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
        const m = /^eval\S*\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(
          line,
        );
        if (m === null) continue;
        let ast: Expr;
        try {
          ast = parseExpr(m[1]!);
        } catch {
          continue; // expressions that are meant to fail
        }
        const text = formatExpr(ast);
        assert.deepEqual(normal(parseExpr(text)), normal(ast), `${m[1]} printed as ${text}`);
        n++;
      }
    }
    assert.ok(n > 900, `round-tripped ${n} expressions`);
  });
});
