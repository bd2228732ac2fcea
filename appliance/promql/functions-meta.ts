// Signatures of the PromQL functions: what the parser needs for type checking. Implementations are in
// functions.ts; this table is pure data.
import type { ValueType } from './parser.ts';

/** One function's signature. Arguments beyond argTypes repeat the last type. */
export interface FunctionMeta {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  readonly minArgs: number;
  /** Infinity for variadic functions like label_join. */
  readonly maxArgs: number;
  readonly returnType: ValueType;
}

const V: ValueType = 'instant vector';
const M: ValueType = 'range vector';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

function f(
  name: string,
  argTypes: ValueType[],
  returnType: ValueType,
  minArgs = argTypes.length,
  maxArgs = argTypes.length,
): FunctionMeta {
  return { name, argTypes, minArgs, maxArgs, returnType };
}

const LIST: FunctionMeta[] = [
  ...[
    'abs',
    'ceil',
    'floor',
    'exp',
    'sqrt',
    'ln',
    'log2',
    'log10',
    'sgn',
    'deg',
    'rad',
    'sin',
    'cos',
    'tan',
    'asin',
    'acos',
    'atan',
    'sinh',
    'cosh',
    'tanh',
    'asinh',
    'acosh',
    'atanh',
    'timestamp',
    'sort',
    'sort_desc',
    'histogram_count',
    'histogram_sum',
    'histogram_avg',
    'histogram_stddev',
    'histogram_stdvar',
  ].map((n) => f(n, [V], V)),
  ...[
    'avg_over_time',
    'count_over_time',
    'max_over_time',
    'min_over_time',
    'sum_over_time',
    'stddev_over_time',
    'stdvar_over_time',
    'last_over_time',
    'first_over_time',
    'present_over_time',
    'absent_over_time',
    'mad_over_time',
    'ts_of_first_over_time',
    'ts_of_last_over_time',
    'ts_of_max_over_time',
    'ts_of_min_over_time',
    'changes',
    'resets',
    'delta',
    'deriv',
    'idelta',
    'increase',
    'irate',
    'rate',
  ].map((n) => f(n, [M], V)),
  ...['day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year'].map(
    (n) => f(n, [V], V, 0, 1),
  ),
  f('absent', [V], V),
  f('round', [V, S], V, 1, 2),
  f('clamp', [V, S, S], V),
  f('clamp_max', [V, S], V),
  f('clamp_min', [V, S], V),
  f('quantile_over_time', [S, M], V),
  f('predict_linear', [M, S], V),
  f('double_exponential_smoothing', [M, S, S], V),
  f('histogram_quantile', [S, V], V),
  f('histogram_fraction', [S, S, V], V),
  f('label_replace', [V, STR, STR, STR, STR], V),
  f('label_join', [V, STR, STR, STR], V, 3, Infinity),
  f('sort_by_label', [V, STR], V, 1, Infinity),
  f('sort_by_label_desc', [V, STR], V, 1, Infinity),
  f('info', [V, V], V, 1, 2),
  f('pi', [], S),
  f('start', [], S),
  f('end', [], S),
  f('range', [], S),
  f('step', [], S),
  f('min_of', [S, S], S),
  f('max_of', [S, S], S),
  f('time', [], S),
  f('scalar', [V], S),
  f('vector', [S], V),
];

/** Every function the parser accepts, by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionMeta> = new Map(LIST.map((m) => [m.name, m]));
