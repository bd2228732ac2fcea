// The exposition-format parser: a scrape body in, samples and metric metadata out. Pure: no I/O, no clock.
//
// It follows Prometheus's own parsers (prometheus/prometheus model/textparse, promparse.go for the text
// format and openmetricsparse.go for OpenMetrics) line for line in what it accepts and rejects, so a target
// that Prometheus scrapes cleanly scrapes cleanly here and vice versa. It is a single pass of hand-written
// character scanning over the decoded string: no regular expressions, so hostile bodies cost linear time.
// A body either parses completely or throws a ParseError naming the (1-based) line of the first bad record,
// which is what Prometheus does too (any parse error fails the whole scrape).
//
// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`):
// - `# HELP name text` (escapes `\\` and `\n`), `# TYPE name counter|gauge|histogram|summary|untyped`;
//   any other `#` line is a comment; blank lines and spaces/tabs between tokens are allowed, also at the
//   start of a line. As in Prometheus, the text after the name is "the rest of the line minus its first
//   character", so `# TYPE x  counter` (two spaces) is an invalid type, and `# HELP x` is an empty help.
// - `name{label="value",...} value [timestamp]`: legacy names, label values with escapes `\"`, `\\`, `\n`
//   (any other backslash pair is kept literally), an optional trailing comma, and - a Prometheus quirk kept
//   on purpose - no comma needed between labels. Label values may even contain raw newlines (the Prometheus
//   lexer allows them); line numbers account for that.
// - The quoted-name form of UTF-8 names: `{"metric.name", "label.x"="v"} 1` and `# TYPE "metric.name" gauge`.
// - Values: Go's strconv.ParseFloat syntax minus hex floats and `_` (Prometheus rejects 'p', 'P' and '_'):
//   `1`, `-1.5e3`, `.5`, `NaN` (any case, no sign), `Inf`/`+Inf`/`-Inf`/`infinity` (any case).
//   Finite literals that overflow float64 (`1e400`) are errors, as Go's ErrRange makes them in Prometheus.
// - Timestamps: unsigned decimal int64 milliseconds.
// - No CR handling, as in Prometheus: a CRLF body fails on its first sample ("1\r" is not a number).
//
// OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0`, also 0.0.1):
// - `# HELP`, `# TYPE` (counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown),
//   `# UNIT` (must be a `_`-separated suffix of the family name) and the mandatory final `# EOF` (optionally
//   followed by one newline; anything after it is an error, a missing one is an error). No other comments
//   and no blank lines; exactly one space between tokens; no spaces inside label sets.
// - HELP text and label values use the escapes `\"`, `\\`, `\n`; raw newlines in label values are errors.
// - Timestamps are float seconds, converted as Prometheus does: int64(seconds * 1000), i.e. truncated.
// - Exemplars (` # {labels} value [timestamp]`) are parsed and validated like Prometheus does, then dropped:
//   storewatch does not store exemplars.
// - `_created` samples of counter, summary and histogram families are dropped. Note the Prometheus fact
//   behind this: Prometheus drops them only when created/start-timestamp zero ingestion is enabled
//   (ParserOptions.OpenMetricsSkipSTSeries); by default it stores them as ordinary series. storewatch
//   drops them always: each is a second series per counter/histogram/summary series holding a constant
//   (the creation time), which costs storage and upstream bandwidth on a small appliance and answers no
//   query the counter itself cannot. Prometheus-style created-timestamp zero samples are not synthesised.
// - Counter samples are not required to end in `_total` and family names are not matched against sample
//   names: Prometheus's parser does not check either, and rejecting them would fail scrapes Prometheus
//   accepts. Metadata is keyed by the name on the `# TYPE`/`# HELP`/`# UNIT` line (the family name, e.g.
//   `x` for a counter whose samples are `x_total`); mapping samples to families is the consumer's job.
//
// Both formats, as Prometheus:
// - Classic-histogram `le` and summary `quantile` label values are rewritten in OpenMetrics float form
//   (`le="1"` becomes `le="1.0"`, `1e6` becomes `1e+06`) when the most recent `# TYPE` line said histogram
//   or summary, so the series identity matches what Prometheus stores. Hex floats there are left as written.
// - Labels with an empty value are dropped (an empty value means "absent"); a duplicate label name (also
//   `__name__` given twice) is an error; an empty label name or metric name is an error.
// - NaN values come out as a plain JS NaN, never the staleness marker (Prometheus forces parsed NaNs to its
//   "normal NaN" for the same reason).
//
// Out of scope, rejected: the protobuf format and native histograms (storewatch never asks for protobuf,
// see SCRAPE_ACCEPT_HEADER), OpenMetrics 2.0 / text 1.0 extras such as `ct@` start timestamps and native
// histogram samples, and hex float values. Bodies are decoded as strict UTF-8; a byte-order mark is not
// stripped and so fails the first line, as in Prometheus.
//
// Limits (sample count, label count, line length) are not enforced here; the scrape loop applies them.

import type { Label, Labels } from '../model/labels.ts';
import { METRIC_NAME } from '../model/labels.ts';
import {
  invalidUtf8Offset,
  normalizeFloatLabelValue,
  parseOpenMetricsTimestamp,
  parsePromFloat,
  parseTextTimestamp,
} from './textparse-values.ts';

/** The metric types of both formats; `untyped` only comes from the text format, `unknown` from OpenMetrics. */
export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'info'
  | 'stateset'
  | 'unknown'
  | 'untyped';

/**
 * One float sample. Label names and values may be V8 slices of the scrape body: a consumer that keeps
 * labels for long (a series cache) should keep one canonical copy per series rather than every scrape's
 * strings, or the bodies stay reachable.
 */
export interface ParsedSample {
  /** Sorted by name, unique names, includes `__name__`, no empty values (see labels.ts). */
  readonly labels: Labels;
  /** float64; NaN is a plain NaN, never the staleness marker. */
  readonly value: number;
  /** Milliseconds since the epoch, present only when the line carries a timestamp. */
  readonly timestamp?: number;
}

/**
 * What `# TYPE`, `# HELP` and `# UNIT` lines said about one metric family. A family with only some of
 * the lines gets defaults: type `untyped` (text) or `unknown` (OpenMetrics), empty help, empty unit.
 */
export interface MetricMetadata {
  readonly type: MetricType;
  readonly help: string;
  readonly unit: string;
}

/** A fully parsed body. */
export interface ParseResult {
  /** In body order; `_created` samples of OpenMetrics counters, summaries and histograms are left out. */
  readonly samples: ParsedSample[];
  /** Keyed by metric family name as written on the metadata lines (`x` for counter samples `x_total`). */
  readonly metadata: Map<string, MetricMetadata>;
  readonly format: 'text' | 'openmetrics';
}

/** A body that is not valid exposition format. `line` is the 1-based line of the offending record. */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  readonly line: number;

  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.line = line;
  }
}

/** Chooses the format from the response Content-Type (OpenMetrics when `application/openmetrics-text`, else text 0.0.4). */
export function formatFromContentType(contentType: string | undefined): 'text' | 'openmetrics' {
  if (contentType === undefined) return 'text';
  const semi = contentType.indexOf(';');
  const media = (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return media === 'application/openmetrics-text' ? 'openmetrics' : 'text';
}

/**
 * The Accept header storewatch sends, preferring OpenMetrics 1.0.0 then text 0.0.4, like Prometheus's scrape
 * Accept header. Built as Prometheus's acceptHeader() builds it for the protocol list [OpenMetricsText1.0.0,
 * OpenMetricsText0.0.1, PrometheusText0.0.4] (q weights 0.6 down, then a `*`/`*` catch-all); protobuf and
 * text 1.0.0 are never offered. `escaping=underscores` asks UTF-8-aware exporters for legacy names, keeping
 * series names valid for storewatch's PromQL and for older remote-write receivers; quoted names still parse.
 */
export const SCRAPE_ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,' +
  'application/openmetrics-text;version=0.0.1;q=0.5,' +
  'text/plain;version=0.0.4;q=0.4,' +
  '*/*;q=0.3';

/** Parses a whole body. Throws ParseError (with line number and a clear message) on the first malformed line. */
export function parseExposition(body: Uint8Array | string, format: 'text' | 'openmetrics'): ParseResult {
  const text = typeof body === 'string' ? body : decodeUtf8(body);
  const parser = new Parser(text, format);
  if (format === 'openmetrics') parser.parseOpenMetrics();
  else parser.parseText();
  return { samples: parser.samples, metadata: parser.metadata, format };
}

function decodeUtf8(body: Uint8Array): string {
  // A decoder per call keeps the module free of shared state; fatal mode makes invalid bytes an error
  // instead of U+FFFD, and ignoreBOM keeps a byte-order mark in the text so it fails like in Prometheus.
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    const offset = invalidUtf8Offset(body);
    let line = 1;
    for (let k = 0; k < offset; k++) if (body[k] === 0x0a) line++;
    throw new ParseError(`invalid UTF-8 byte sequence at byte offset ${Math.max(offset, 0)}`, line);
  }
}

// Character codes used by the scanners.
const TAB = 9;
const LF = 10;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;
const BACKSLASH = 92;
const LBRACE = 123;
const RBRACE = 125;

/** [a-zA-Z_] */
function isLabelNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
/** [a-zA-Z0-9_] */
function isLabelNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
/** [a-zA-Z_:] */
function isMetricNameStart(c: number): boolean {
  return isLabelNameStart(c) || c === 58;
}
/** [a-zA-Z0-9_:] */
function isMetricNameChar(c: number): boolean {
  return isLabelNameChar(c) || c === 58;
}

const TEXT_TYPES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'untyped'],
]);

const OPENMETRICS_TYPES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['gaugehistogram', 'gaugehistogram'],
  ['summary', 'summary'],
  ['info', 'info'],
  ['stateset', 'stateset'],
  ['unknown', 'unknown'],
]);

function compareLabels(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Longest excerpt of the offending line quoted in an error message. */
const EXCERPT_CHARS = 120;

/**
 * The state of one parse. Not exported: parseExposition creates one per body, so nothing is shared
 * between calls. Scanning methods take and return string offsets; `line` counts newlines consumed.
 */
class Parser {
  readonly samples: ParsedSample[] = [];
  readonly metadata = new Map<string, MetricMetadata>();

  private readonly s: string;
  private readonly n: number;
  private readonly openMetrics: boolean;
  /** Offset of the next unread character. */
  private i = 0;
  /** 1-based line of offset `i`. */
  private line = 1;
  /** Start offset and line of the record being parsed, for error messages. */
  private recordStart = 0;
  private recordLine = 1;
  /** The type from the most recent `# TYPE` line; drives `le`/`quantile` normalisation and `_created` drops. */
  private currentType: MetricType;
  /** Normalised `le`/`quantile` values: a scrape repeats the same few bucket bounds on many lines. */
  private readonly normalized = new Map<string, string>();

  // The sample being built.
  private metricName: string | undefined = undefined;
  /** Scratch space for the labels of the current sample; copied out at exactly the right length. */
  private readonly scratch: Label[] = [];
  private labelCount = 0;
  private labelsSorted = true;
  private hasEmptyValue = false;

  constructor(s: string, format: 'text' | 'openmetrics') {
    this.s = s;
    this.n = s.length;
    this.openMetrics = format === 'openmetrics';
    this.currentType = this.openMetrics ? 'unknown' : 'untyped';
  }

  // ---------------------------------------------------------------------------------------------------
  // Prometheus text format 0.0.4

  parseText(): void {
    const s = this.s;
    const n = this.n;
    while (this.i < n) {
      this.recordStart = this.i;
      this.recordLine = this.line;
      const j = this.skipBlanks(this.i);
      if (j >= n) return; // Trailing spaces at the very end.
      const c = s.charCodeAt(j);
      if (c === LF) {
        this.i = j + 1;
        this.line++;
      } else if (c === HASH) {
        this.textComment(j);
      } else if (isMetricNameStart(c) || c === LBRACE) {
        this.textSample(j);
      } else {
        this.fail('expected a metric name, "{" or "#" at the start of the line');
      }
    }
  }

  /** Skips [ \t]*, the text format's whitespace. */
  private skipBlanks(j: number): number {
    const s = this.s;
    const n = this.n;
    while (j < n) {
      const c = s.charCodeAt(j);
      if (c !== SPACE && c !== TAB) break;
      j++;
    }
    return j;
  }

  /** Moves past the end of the line at j (a '\n' or the end of the body). */
  private endLine(j: number): void {
    if (j < this.n) {
      this.i = j + 1;
      this.line++;
    } else {
      this.i = j;
    }
  }

  private lineEnd(j: number): number {
    const k = this.s.indexOf('\n', j);
    return k < 0 ? this.n : k;
  }

  private textComment(hash: number): void {
    const s = this.s;
    let j = hash + 1;
    const afterHash = this.skipBlanks(j);
    // Only `#` + blanks + HELP|TYPE + blanks starts a metadata line; everything else is a comment.
    if (afterHash > j && (s.startsWith('HELP', afterHash) || s.startsWith('TYPE', afterHash))) {
      const keywordEnd = afterHash + 4;
      const nameStart = this.skipBlanks(keywordEnd);
      if (nameStart > keywordEnd) {
        this.textMetadata(s.startsWith('HELP', afterHash) ? 'HELP' : 'TYPE', nameStart);
        return;
      }
    }
    j = this.lineEnd(j);
    this.endLine(j);
  }

  /** Reads the metric name of a metadata line (plain or quoted) starting at j; returns it and the end. */
  private metadataName(keyword: string, j: number): [string, number] {
    const s = this.s;
    const n = this.n;
    const c = j < n ? s.charCodeAt(j) : -1;
    let name: string;
    if (isMetricNameStart(c)) {
      const start = j;
      while (j < n && isMetricNameChar(s.charCodeAt(j))) j++;
      name = s.slice(start, j);
    } else if (c === QUOTE) {
      name = this.quoted(j, true, 'metric name');
      j = this.i;
    } else {
      this.fail(`expected a metric name after # ${keyword}`);
    }
    if (name === '') this.fail(`empty metric name in # ${keyword}`);
    return [name, j];
  }

  private textMetadata(keyword: 'HELP' | 'TYPE', j: number): void {
    const s = this.s;
    let name: string;
    [name, j] = this.metadataName(keyword, j);
    const end = this.lineEnd(j);
    // Prometheus's lexer takes the rest of the line and drops its first character (normally the separating
    // blank); a rest made only of blanks is lexed as whitespace and gives an empty text.
    const rest = this.skipBlanks(j) >= end ? '' : s.slice(j + 1, end);
    if (keyword === 'TYPE') {
      const type = TEXT_TYPES.get(rest);
      if (type === undefined) this.fail(`invalid metric type ${JSON.stringify(rest)}`);
      this.currentType = type;
      this.setMetadata(name, type, undefined, undefined);
    } else {
      this.setMetadata(name, undefined, unescapeHelp(rest), undefined);
    }
    this.endLine(end);
  }

  private textSample(j: number): void {
    const s = this.s;
    const n = this.n;
    this.startSample();
    let c = s.charCodeAt(j);
    if (c !== LBRACE) {
      const start = j;
      while (j < n && isMetricNameChar(s.charCodeAt(j))) j++;
      this.setMetricName(s.slice(start, j));
      j = this.skipBlanks(j);
    }
    if (j < n && s.charCodeAt(j) === LBRACE) {
      j = this.textLabels(j + 1);
      j = this.skipBlanks(j);
    }
    if (this.metricName === undefined) this.fail('metric name not set (use name{...} or {"name", ...})');
    // The value is the run of characters up to a blank, a newline or a '{'.
    const valueStart = j;
    while (j < n) {
      c = s.charCodeAt(j);
      if (c === SPACE || c === TAB || c === LF || c === LBRACE) break;
      j++;
    }
    if (j === valueStart) this.fail('expected a value after the metric');
    const value = parsePromFloat(s, valueStart, j);
    if (value === undefined) this.fail(`invalid value ${excerpt(s, valueStart, j)}`);
    j = this.skipBlanks(j);
    let timestamp: number | undefined;
    if (j < n && (c = s.charCodeAt(j)) !== LF) {
      if (c < 48 || c > 57) this.fail('expected a timestamp or the end of the line after the value');
      const tsStart = j;
      while (j < n && (c = s.charCodeAt(j)) >= 48 && c <= 57) j++;
      timestamp = parseTextTimestamp(s, tsStart, j);
      if (timestamp === undefined) this.fail(`timestamp out of int64 range ${excerpt(s, tsStart, j)}`);
      j = this.skipBlanks(j);
      if (j < n && s.charCodeAt(j) !== LF) this.fail('unexpected text after the timestamp');
    }
    this.emitSample(value, timestamp);
    this.endLine(j);
  }

  /** Parses a text-format label set from just after its '{'; returns the offset after the '}'. */
  private textLabels(j: number): number {
    const s = this.s;
    const n = this.n;
    for (;;) {
      j = this.skipBlanks(j);
      if (j >= n) this.fail('unexpected end of data in the label set');
      let c = s.charCodeAt(j);
      if (c === RBRACE) return j + 1;
      let name: string;
      let quotedName = false;
      if (isLabelNameStart(c)) {
        const start = j;
        j++;
        while (j < n && isLabelNameChar(s.charCodeAt(j))) j++;
        name = s.slice(start, j);
      } else if (c === QUOTE) {
        name = this.quoted(j, true, 'label name');
        j = this.i;
        quotedName = true;
      } else {
        this.fail('expected a label name or "}" in the label set');
      }
      j = this.skipBlanks(j);
      c = j < n ? s.charCodeAt(j) : -1;
      if (quotedName && (c === COMMA || c === RBRACE)) {
        // A quoted string on its own is the metric name: {"name", label="value"}.
        if (this.metricName !== undefined) this.fail('metric name set twice');
        this.setMetricName(name);
        if (c === COMMA) j++;
        continue;
      }
      if (c !== EQUALS) this.fail(`expected "=" after label name ${JSON.stringify(name)}`);
      j = this.skipBlanks(j + 1);
      if (j >= n || s.charCodeAt(j) !== QUOTE)
        this.fail(`expected a quoted value for label ${JSON.stringify(name)}`);
      const value = this.quoted(j, true, 'label value');
      this.pushLabel(name, value);
      j = this.skipBlanks(this.i);
      // A comma is optional between labels and after the last one, as in Prometheus's text parser.
      if (j < n && s.charCodeAt(j) === COMMA) j++;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // OpenMetrics 1.0

  parseOpenMetrics(): void {
    const s = this.s;
    const n = this.n;
    for (;;) {
      this.recordStart = this.i;
      this.recordLine = this.line;
      const j = this.i;
      if (j >= n) this.failMissingEof();
      const c = s.charCodeAt(j);
      if (c === HASH) {
        if (this.openMetricsComment(j)) return;
      } else if (isMetricNameStart(c) || c === LBRACE) {
        this.openMetricsSample(j);
      } else if (c === LF) {
        this.fail('blank lines are not allowed in OpenMetrics');
      } else {
        this.fail('expected a metric name, "{" or "#" at the start of the line');
      }
    }
  }

  private failMissingEof(): never {
    // Point at the last line that has content.
    const n = this.n;
    const line = n > 0 && this.s.charCodeAt(n - 1) === LF ? this.line - 1 : this.line;
    throw new ParseError('missing # EOF: OpenMetrics data must end with "# EOF"', Math.max(line, 1));
  }

  /** Handles a line starting with '#'; returns true at `# EOF`. */
  private openMetricsComment(hash: number): boolean {
    const s = this.s;
    const n = this.n;
    if (s.charCodeAt(hash + 1) === SPACE) {
      const k = hash + 2;
      if (s.startsWith('EOF', k)) {
        let end = k + 3;
        if (end < n && s.charCodeAt(end) === LF) {
          end++;
          if (end < n) {
            this.recordLine = this.line + 1;
            this.recordStart = end;
            this.fail('unexpected data after # EOF');
          }
        } else if (end < n) {
          this.fail('unexpected data after # EOF');
        }
        this.i = n;
        return true;
      }
      if (s.charCodeAt(k + 4) === SPACE) {
        if (s.startsWith('HELP', k)) return this.openMetricsMetadata('HELP', k + 5);
        if (s.startsWith('TYPE', k)) return this.openMetricsMetadata('TYPE', k + 5);
        if (s.startsWith('UNIT', k)) return this.openMetricsMetadata('UNIT', k + 5);
      }
    }
    this.fail('invalid comment: OpenMetrics allows only "# HELP", "# TYPE", "# UNIT" and "# EOF"');
  }

  private openMetricsMetadata(keyword: 'HELP' | 'TYPE' | 'UNIT', j: number): false {
    const s = this.s;
    const n = this.n;
    let name: string;
    [name, j] = this.metadataName(keyword, j);
    if (j >= n || s.charCodeAt(j) !== SPACE)
      this.fail(`expected a space and text after the metric name in # ${keyword}`);
    const end = s.indexOf('\n', j);
    if (end < 0) this.failMissingEof();
    const text = s.slice(j + 1, end);
    if (keyword === 'TYPE') {
      const type = OPENMETRICS_TYPES.get(text);
      if (type === undefined) this.fail(`invalid metric type ${JSON.stringify(text)}`);
      this.currentType = type;
      this.setMetadata(name, type, undefined, undefined);
    } else if (keyword === 'HELP') {
      this.setMetadata(name, undefined, unescapeLabelValue(text), undefined);
    } else {
      if (
        text !== '' &&
        !(
          name.length > text.length &&
          name.endsWith(text) &&
          name.charCodeAt(name.length - text.length - 1) === 95
        )
      ) {
        this.fail(`unit ${JSON.stringify(text)} is not a suffix of metric ${JSON.stringify(name)}`);
      }
      this.setMetadata(name, undefined, undefined, text);
    }
    this.endLine(end);
    return false;
  }

  private openMetricsSample(j: number): void {
    const s = this.s;
    const n = this.n;
    this.startSample();
    let c = s.charCodeAt(j);
    if (c !== LBRACE) {
      const start = j;
      while (j < n && isMetricNameChar(s.charCodeAt(j))) j++;
      this.setMetricName(s.slice(start, j));
    }
    if (j < n && s.charCodeAt(j) === LBRACE) j = this.openMetricsLabels(j + 1, false);
    if (this.metricName === undefined) this.fail('metric name not set (use name{...} or {"name", ...})');
    if (j >= n || s.charCodeAt(j) !== SPACE) {
      if (j >= n) this.failMissingEof();
      this.fail('expected a single space and a value after the metric');
    }
    j++;
    const valueStart = j;
    while (j < n && (c = s.charCodeAt(j)) !== SPACE && c !== LF) j++;
    if (j === valueStart) this.fail('expected a value after the metric');
    const value = parsePromFloat(s, valueStart, j);
    if (value === undefined) this.fail(`invalid value ${excerpt(s, valueStart, j)}`);
    let timestamp: number | undefined;
    if (j < n && s.charCodeAt(j) === SPACE && !this.atExemplar(j)) {
      j++;
      const tsStart = j;
      while (j < n && (c = s.charCodeAt(j)) !== SPACE && c !== LF) j++;
      if (j === tsStart) this.fail('expected a timestamp after the value (one space between tokens)');
      timestamp = parseOpenMetricsTimestamp(s, tsStart, j);
      if (timestamp === undefined) this.fail(`invalid timestamp ${excerpt(s, tsStart, j)}`);
    }
    if (j < n && s.charCodeAt(j) === SPACE) {
      if (!this.atExemplar(j)) this.fail('unexpected text after the timestamp');
      j = this.openMetricsExemplar(j + 4);
    }
    if (j >= n) this.failMissingEof();
    if (s.charCodeAt(j) !== LF) this.fail('expected the end of the line');
    if (!this.isCreatedSample()) this.emitSample(value, timestamp);
    this.endLine(j);
  }

  /** True when j starts the " # {" that introduces an exemplar. */
  private atExemplar(j: number): boolean {
    const s = this.s;
    return s.charCodeAt(j + 1) === HASH && s.charCodeAt(j + 2) === SPACE && s.charCodeAt(j + 3) === LBRACE;
  }

  /** Parses (and drops) an exemplar from just after its '{'; returns the offset of the line end. */
  private openMetricsExemplar(j: number): number {
    const s = this.s;
    const n = this.n;
    j = this.openMetricsLabels(j, true);
    if (j >= n) this.failMissingEof();
    if (s.charCodeAt(j) !== SPACE) this.fail('expected a space and a value after the exemplar labels');
    j++;
    let c: number;
    const valueStart = j;
    while (j < n && (c = s.charCodeAt(j)) !== SPACE && c !== LF) j++;
    if (j === valueStart) this.fail('expected a value after the exemplar labels');
    if (parsePromFloat(s, valueStart, j) === undefined)
      this.fail(`invalid exemplar value ${excerpt(s, valueStart, j)}`);
    if (j < n && s.charCodeAt(j) === SPACE) {
      j++;
      const tsStart = j;
      while (j < n && (c = s.charCodeAt(j)) !== SPACE && c !== LF) j++;
      if (j === tsStart || parseOpenMetricsTimestamp(s, tsStart, j) === undefined) {
        this.fail(`invalid exemplar timestamp ${excerpt(s, tsStart, j)}`);
      }
    }
    return j;
  }

  /**
   * Parses an OpenMetrics label set from just after its '{' (no blanks allowed; commas required between
   * labels, one trailing comma allowed); returns the offset after the '}'. Exemplar labels are checked but
   * not kept, and cannot carry a quoted metric name.
   */
  private openMetricsLabels(j: number, exemplar: boolean): number {
    const s = this.s;
    const n = this.n;
    for (;;) {
      if (j >= n) this.failMissingEof();
      let c = s.charCodeAt(j);
      if (c === RBRACE) return j + 1;
      let name: string;
      let quotedName = false;
      if (isLabelNameStart(c)) {
        const start = j;
        j++;
        while (j < n && isLabelNameChar(s.charCodeAt(j))) j++;
        name = s.slice(start, j);
      } else if (c === QUOTE) {
        name = this.quoted(j, true, 'label name');
        j = this.i;
        quotedName = true;
      } else {
        this.fail('expected a label name or "}" in the label set');
      }
      c = j < n ? s.charCodeAt(j) : -1;
      if (quotedName && !exemplar && (c === COMMA || c === RBRACE)) {
        if (this.metricName !== undefined) this.fail('metric name set twice');
        this.setMetricName(name);
        if (c === COMMA) j++;
        continue;
      }
      if (c !== EQUALS) this.fail(`expected "=" after label name ${JSON.stringify(name)}`);
      j++;
      if (j >= n || s.charCodeAt(j) !== QUOTE)
        this.fail(`expected a quoted value for label ${JSON.stringify(name)}`);
      const value = this.quoted(j, false, 'label value');
      j = this.i;
      if (exemplar) {
        if (name === '') this.fail('empty label name');
      } else {
        this.pushLabel(name, value);
      }
      c = j < n ? s.charCodeAt(j) : -1;
      if (c === COMMA) j++;
      else if (c !== RBRACE) this.fail('expected "," or "}" after a label value');
    }
  }

  /** `_created` samples of counters, summaries and histograms are dropped (see the top of this file). */
  private isCreatedSample(): boolean {
    const t = this.currentType;
    return (t === 'counter' || t === 'summary' || t === 'histogram') && this.metricName!.endsWith('_created');
  }

  // ---------------------------------------------------------------------------------------------------
  // Shared pieces

  /**
   * Scans the quoted string whose opening '"' is at j and returns its unescaped content; sets `i` just past
   * the closing quote. `\"`, `\\` and `\n` are unescaped; any other backslash pair stays as written, as
   * Prometheus's replacer leaves it. A backslash before a newline is invalid (the lexers' `\\.` excludes
   * newline). Raw newlines are allowed only where Prometheus's lexers allow them.
   */
  private quoted(j: number, allowNewline: boolean, what: string): string {
    const s = this.s;
    const n = this.n;
    const begin = j + 1;
    let chunk = begin;
    let out: string | undefined;
    let k = begin;
    for (;;) {
      if (k >= n) this.fail(`unterminated quoted ${what}`);
      const c = s.charCodeAt(k);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const d = k + 1 < n ? s.charCodeAt(k + 1) : -1;
        if (d === -1) this.fail(`unterminated quoted ${what}`);
        if (d === LF) this.fail(`invalid escape: backslash before a line break in ${what}`);
        const replacement = d === QUOTE ? '"' : d === BACKSLASH ? '\\' : d === 110 /* n */ ? '\n' : undefined;
        if (replacement !== undefined) {
          out = (out ?? '') + s.slice(chunk, k) + replacement;
          chunk = k + 2;
        }
        k += 2;
        continue;
      }
      if (c === LF) {
        if (!allowNewline) this.fail(`line break inside quoted ${what}`);
        this.line++;
      }
      k++;
    }
    this.i = k + 1;
    return out === undefined ? s.slice(begin, k) : out + s.slice(chunk, k);
  }

  private startSample(): void {
    this.metricName = undefined;
    this.labelCount = 0;
    this.labelsSorted = true;
    this.hasEmptyValue = false;
  }

  private setMetricName(name: string): void {
    this.metricName = name;
    this.pushLabel(METRIC_NAME, name);
  }

  private pushLabel(name: string, value: string): void {
    if (name === '') this.fail('empty label name');
    const t = this.currentType;
    if ((t === 'histogram' && name === 'le') || (t === 'summary' && name === 'quantile')) {
      let normalized = this.normalized.get(value);
      if (normalized === undefined) {
        normalized = normalizeFloatLabelValue(value);
        this.normalized.set(value, normalized);
      }
      value = normalized;
    }
    const count = this.labelCount;
    if (count > 0 && this.labelsSorted) {
      const last = this.scratch[count - 1]!.name;
      if (last === name) this.fail(`duplicate label name ${JSON.stringify(name)}`);
      if (last > name) this.labelsSorted = false;
    }
    if (value === '') this.hasEmptyValue = true;
    this.scratch[count] = { name, value };
    this.labelCount = count + 1;
  }

  private emitSample(value: number, timestamp: number | undefined): void {
    let labels = this.scratch.slice(0, this.labelCount);
    if (!this.labelsSorted) {
      labels.sort(compareLabels);
      for (let k = 1; k < labels.length; k++) {
        if (labels[k]!.name === labels[k - 1]!.name)
          this.fail(`duplicate label name ${JSON.stringify(labels[k]!.name)}`);
      }
    }
    if (this.metricName === '') this.fail('empty metric name');
    if (this.hasEmptyValue) labels = labels.filter((l) => l.value !== '');
    this.samples.push(timestamp === undefined ? { labels, value } : { labels, value, timestamp });
  }

  private setMetadata(
    name: string,
    type: MetricType | undefined,
    help: string | undefined,
    unit: string | undefined,
  ): void {
    const old = this.metadata.get(name);
    this.metadata.set(name, {
      type: type ?? old?.type ?? (this.openMetrics ? 'unknown' : 'untyped'),
      help: help ?? old?.help ?? '',
      unit: unit ?? old?.unit ?? '',
    });
  }

  private fail(message: string): never {
    const end = this.lineEnd(this.recordStart);
    throw new ParseError(`${message} in ${excerpt(this.s, this.recordStart, end)}`, this.recordLine);
  }
}

/** A JSON-quoted excerpt of s[start..end), cut to a readable length. */
function excerpt(s: string, start: number, end: number): string {
  if (end - start <= EXCERPT_CHARS) return JSON.stringify(s.slice(start, end));
  return JSON.stringify(s.slice(start, start + EXCERPT_CHARS)) + '...';
}

/** Text-format HELP escapes: `\\` and `\n` only (Prometheus's helpReplacer). */
function unescapeHelp(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  let chunk = 0;
  for (let k = 0; k < text.length - 1; k++) {
    if (text.charCodeAt(k) !== BACKSLASH) continue;
    const d = text.charCodeAt(k + 1);
    if (d === BACKSLASH || d === 110 /* n */) {
      out += text.slice(chunk, k) + (d === BACKSLASH ? '\\' : '\n');
      chunk = k + 2;
      k++;
    }
  }
  return out + text.slice(chunk);
}

/** OpenMetrics HELP escapes: `\"`, `\\` and `\n` (Prometheus's lvalReplacer). */
function unescapeLabelValue(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  let chunk = 0;
  for (let k = 0; k < text.length - 1; k++) {
    if (text.charCodeAt(k) !== BACKSLASH) continue;
    const d = text.charCodeAt(k + 1);
    if (d === BACKSLASH || d === 110 /* n */ || d === QUOTE) {
      out += text.slice(chunk, k) + (d === BACKSLASH ? '\\' : d === QUOTE ? '"' : '\n');
      chunk = k + 2;
    }
    k++; // A backslash pair is consumed whole, replaced or not, as a left-to-right replacer does.
  }
  return out + text.slice(chunk);
}
