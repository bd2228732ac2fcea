// Number handling for the exposition parser in textparse.ts: sample values, timestamps, the OpenMetrics
// float formatting Prometheus applies to `le` and `quantile` label values, and locating invalid UTF-8.
// Everything here is pure and allocation-light; callers turn `undefined` results into ParseErrors.

/** Largest int64, the bound Go's strconv.ParseInt(s, 10, 64) enforces on Prometheus text timestamps. */
const INT64_MAX_DIGITS = '9223372036854775807';
/** 2^63 as a float64: OpenMetrics timestamps in milliseconds must stay inside the int64 range. */
const TWO_POW_63 = 9223372036854775808;

/** Exact powers of ten as float64: 10^0 .. 10^22 are all exactly representable. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Compares s[start..start+word.length) with a lower-case ASCII word, ignoring ASCII case, as Go's
 * strconv does for "inf", "infinity" and "nan".
 */
function matchesIgnoreCase(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    // OR-ing 0x20 folds ASCII upper case to lower case; the word is lower case already.
    if ((s.charCodeAt(start + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Parses s[start..end) the way Prometheus's text parsers parse sample values: Go's
 * strconv.ParseFloat(s, 64), minus hexadecimal floats and digit separators (Prometheus rejects any
 * 'p', 'P' or '_' to keep to pre-Go-1.13 float syntax, and a hexadecimal mantissa needs a 'p').
 *
 * Accepted: an optional sign, decimal digits with at most one '.', at least one digit, an optional
 * exponent; "inf"/"infinity" with an optional sign and "nan" without one, in any letter case.
 * Returns undefined for anything else, including finite literals that overflow float64 (Go reports
 * those as ErrRange, which Prometheus treats as a parse error). Underflow rounds to zero silently, as in Go.
 */
export function parsePromFloat(s: string, start: number, end: number): number | undefined {
  const len = end - start;
  if (len <= 0) return undefined;
  let i = start;
  let c = s.charCodeAt(i);
  let negative = false;
  if (c === 45 /* - */ || c === 43 /* + */) {
    negative = c === 45;
    i++;
    if (i === end) return undefined;
    c = s.charCodeAt(i);
  }
  // Fast path: short plain integers, by far the most common values (counters, gauges, bucket counts).
  // Up to 15 digits the running value stays an exact integer, so the result is exact.
  if (isDigit(c) && end - i <= 15) {
    let v = 0;
    let k = i;
    while (k < end) {
      const d = s.charCodeAt(k);
      if (!isDigit(d)) break;
      v = v * 10 + (d - 48);
      k++;
    }
    if (k === end) return negative ? -v : v;
  }
  if (c === 105 /* i */ || c === 73 /* I */) {
    if (matchesIgnoreCase(s, i, end, 'inf') || matchesIgnoreCase(s, i, end, 'infinity')) {
      return negative ? -Infinity : Infinity;
    }
    return undefined;
  }
  if (c === 110 /* n */ || c === 78 /* N */) {
    // Go accepts "nan" only without a sign.
    return i === start && matchesIgnoreCase(s, i, end, 'nan') ? NaN : undefined;
  }
  // Decimal syntax check, collecting up to 15 significant digits as an exact integer mantissa on the way.
  // Number() is only the fallback: it would also accept hex, binary, octal, whitespace and "".
  const syntaxStart = i;
  let mantissa = 0;
  let mantissaDigits = 0;
  let fractionDigits = 0;
  let exact = true;
  let sawDigits = false;
  let sawDot = false;
  for (; i < end; i++) {
    c = s.charCodeAt(i);
    if (isDigit(c)) {
      sawDigits = true;
      if (mantissaDigits < 15) {
        if (mantissaDigits > 0 || c !== 48) mantissaDigits++;
        mantissa = mantissa * 10 + (c - 48);
        if (sawDot) fractionDigits++;
      } else if (c !== 48 || !sawDot) {
        // A 16th significant digit (or a trailing integer zero, which changes the magnitude) needs full parsing.
        exact = false;
      }
    } else if (c === 46 /* . */ && !sawDot) sawDot = true;
    else break;
  }
  if (!sawDigits) return undefined;
  let exponent = 0;
  if (i < end && (c === 101 /* e */ || c === 69) /* E */) {
    i++;
    let expNegative = false;
    if (i < end) {
      c = s.charCodeAt(i);
      if (c === 43 || c === 45) {
        expNegative = c === 45;
        i++;
      }
    }
    if (i >= end || !isDigit(s.charCodeAt(i))) return undefined;
    for (; i < end && isDigit((c = s.charCodeAt(i))); i++) {
      if (exponent < 100000) exponent = exponent * 10 + (c - 48);
    }
    if (expNegative) exponent = -exponent;
  }
  if (i !== end) return undefined;
  // Clinger's fast path: an exact integer mantissa (< 2^53) times or divided by an exact power of ten
  // (10^22 at most) is a single correctly rounded IEEE operation, so it equals the correctly rounded parse.
  const scale = exponent - fractionDigits;
  if (exact && scale >= -22 && scale <= 22) {
    const v = scale >= 0 ? mantissa * POW10[scale]! : mantissa / POW10[-scale]!;
    return negative ? -v : v;
  }
  // Both V8 and Go round decimal strings correctly to the nearest float64, so the results agree.
  const v = Number(s.slice(syntaxStart, end));
  if (!Number.isFinite(v)) return undefined;
  return negative ? -v : v;
}

/**
 * Parses a Prometheus text-format timestamp: decimal digits only (the lexer has no sign), at most
 * int64. Returns milliseconds, or undefined when out of int64 range. Values beyond 2^53 lose precision
 * as JS numbers; such timestamps lie hundreds of millennia away and storage rejects them as out of bounds.
 */
export function parseTextTimestamp(s: string, start: number, end: number): number | undefined {
  if (end - start <= 15) {
    let v = 0;
    for (let k = start; k < end; k++) v = v * 10 + (s.charCodeAt(k) - 48);
    return v;
  }
  let k = start;
  while (k < end - 1 && s.charCodeAt(k) === 48) k++;
  const digits = end - k;
  if (digits > 19 || (digits === 19 && s.slice(k, end) > INT64_MAX_DIGITS)) return undefined;
  return Number(s.slice(k, end));
}

/**
 * Parses an OpenMetrics timestamp (float seconds) into integer milliseconds exactly as Prometheus does:
 * parse like a sample value, reject NaN and infinities, then int64(seconds * 1000), a conversion that
 * truncates toward zero. Results outside int64 are rejected (Go would silently wrap them).
 */
export function parseOpenMetricsTimestamp(s: string, start: number, end: number): number | undefined {
  const seconds = parsePromFloat(s, start, end);
  if (seconds === undefined || !Number.isFinite(seconds)) return undefined;
  const ms = Math.trunc(seconds * 1000);
  if (ms >= TWO_POW_63 || ms < -TWO_POW_63) return undefined;
  return ms === 0 ? 0 : ms; // Fold -0 into 0.
}

/**
 * Go's strconv.ParseFloat for label values that Prometheus normalises (`le`, `quantile`). Identical to
 * {@link parsePromFloat} except that Go would also take hexadecimal floats here; those are left as
 * written, a deliberate simplification (no known exporter writes bucket bounds in hex).
 */
function parseLabelFloat(v: string): number | undefined {
  return parsePromFloat(v, 0, v.length);
}

/**
 * Formats a float the way Prometheus's formatOpenMetricsFloat does: Go's strconv.FormatFloat(f, 'g', -1, 64)
 * (shortest round-trip digits; exponent form when the decimal exponent is < -4 or >= 6, with at least two
 * exponent digits), with ".0" appended when the result has neither '.' nor 'e'.
 */
export function formatOpenMetricsFloat(f: number): string {
  if (f === 1) return '1.0';
  if (f === 0) return '0.0'; // Also -0, as in Go where -0 == 0.
  if (f === -1) return '-1.0';
  if (f !== f) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  // V8's toExponential() without an argument yields the shortest round-trip digits, as Go's -1 precision does.
  const ex = f.toExponential();
  const neg = ex.charCodeAt(0) === 45;
  const ePos = ex.indexOf('e');
  const mantissa = ex.slice(neg ? 1 : 0, ePos);
  const digits = mantissa.length > 1 ? mantissa.charAt(0) + mantissa.slice(2) : mantissa;
  const exp = Number(ex.slice(ePos + 1));
  const sign = neg ? '-' : '';
  let out: string;
  if (exp < -4 || exp >= 6) {
    const absExp = exp < 0 ? -exp : exp;
    out =
      sign +
      digits.charAt(0) +
      (digits.length > 1 ? '.' + digits.slice(1) : '') +
      (exp < 0 ? 'e-' : 'e+') +
      (absExp < 10 ? '0' + String(absExp) : String(absExp));
  } else {
    const dp = exp + 1; // Position of the decimal point relative to the digit string.
    if (dp <= 0) out = sign + '0.' + '0'.repeat(-dp) + digits;
    else if (dp >= digits.length) out = sign + digits + '0'.repeat(dp - digits.length);
    else out = sign + digits.slice(0, dp) + '.' + digits.slice(dp);
  }
  return out.includes('.') || out.includes('e') ? out : out + '.0';
}

/**
 * Prometheus's normalizeFloatsInLabelValues for one value: a value that parses as a float is rewritten
 * in OpenMetrics form (so `le="1"` and `le="1.0"` name the same series); anything else stays as written.
 */
export function normalizeFloatLabelValue(v: string): string {
  const f = parseLabelFloat(v);
  return f === undefined ? v : formatOpenMetricsFloat(f);
}

/** Returns the offset of the first byte that starts an invalid UTF-8 sequence, or -1 when all is valid. */
export function invalidUtf8Offset(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0)
        lo = 0xa0; // Overlong.
      else if (c === 0xed) hi = 0x9f; // Surrogates.
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0)
        lo = 0x90; // Overlong.
      else if (c === 0xf4) hi = 0x8f; // Beyond U+10FFFF.
    } else return i;
    // A truncated sequence at the end of the body reads undefined and is reported like any other.
    const second = b[i + 1];
    if (second === undefined || second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const cont = b[i + k];
      if (cont === undefined || cont < 0x80 || cont > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}
