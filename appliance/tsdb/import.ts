// `storewatch tsdb import`: OpenMetrics text with timestamps into the TSDB, like promtool's
// `tsdb create-blocks-from openmetrics`. The input is streamed: it is cut into batches of whole lines at
// sample lines, each batch is parsed by the scrape parser (appliance/scrape/textparse.ts, which keeps
// timestamps) with the current family's metadata lines repeated in front and a `# EOF` behind, and the
// samples go to a BackfillWriter. The writer holds one SQLite transaction for the whole import, so any error
// (garbage, a missing `# EOF`, an out-of-order sample on line 9 million) rolls everything back: an import
// lands whole or not at all. Errors name the 1-based line of the input.
//
// Differences from promtool, on purpose: `_created` samples of counters, summaries and histograms are
// dropped (the scrape parser's rule, see textparse.ts), and a sample whose series already has data in the
// same 2-hour window of the data directory is refused rather than merged (see BackfillWriter).
import { labelsKey } from '../model/labels.ts';
import type { Labels } from '../model/labels.ts';
import { parseExposition, ParseError } from '../scrape/textparse.ts';
import { parseOpenMetricsTimestamp, parsePromFloat } from '../scrape/textparse-values.ts';
import type { BackfillSummary, BackfillWriter } from './db.ts';

/** The import's input is not valid or not importable; `line` is the 1-based line of the input (0: none). */
export class ImportError extends Error {
  override readonly name = 'ImportError';
  readonly line: number;
  constructor(message: string, line: number) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.line = line;
  }
}

export interface ImportOptions {
  /** Longest accepted line in characters (default 1 MiB): a hostile file cannot make one line eat memory. */
  readonly maxLineLength?: number;
  /** Lines per parse batch (default 20,000). */
  readonly batchLines?: number;
}

/** Where the samples go: the TSDB's backfill writer (or a test double). */
export interface BackfillTarget {
  backfill(): BackfillWriter;
}

const DEFAULT_MAX_LINE = 1024 * 1024;
const DEFAULT_BATCH_LINES = 20_000;
const CREATED_FAMILIES = new Set(['counter', 'summary', 'histogram']);

interface SeriesState {
  /** One canonical copy of the series' labels and their key. */
  readonly labels: Labels;
  readonly key: string;
  lastT: number;
  lastV: number;
  line: number;
}

/**
 * The fast path for repeated series (most lines of an import): a line `<series text> <value> <timestamp>`
 * whose series text the full parser already read, on a line without exemplars, maps straight to its series;
 * only the value and the timestamp are parsed, with the parser's own functions. Lines whose series text holds
 * a '#' never take it (an exemplar's " # " cannot be mistaken for series text), and the cache is cleared at
 * every metadata line, since `# TYPE` decides how `le`/`quantile` values are normalised.
 */
class SeriesTextCache {
  private readonly map = new Map<string, SeriesState>();
  private lastMiss = '';
  repeatedMiss = false;

  clear(): void {
    if (this.map.size > 0) this.map.clear();
  }

  /** Splits a sample line into series text, value and timestamp offsets, or null. */
  private static split(line: string): { prefix: string; v: number; t: number } | null {
    const tsSpace = line.lastIndexOf(' ');
    if (tsSpace <= 0) return null;
    const vSpace = line.lastIndexOf(' ', tsSpace - 1);
    if (vSpace <= 0) return null;
    return { prefix: line.slice(0, vSpace), v: vSpace, t: tsSpace };
  }

  /** Remembers the series of a line the full parser read (and that yielded `st`'s sample). */
  learn(line: string, st: SeriesState): void {
    const sp = SeriesTextCache.split(line);
    if (sp && !sp.prefix.includes('#')) this.map.set(sp.prefix, st);
  }

  /**
   * The series, value and timestamp of a line of a known series, or null when it needs the full parser.
   * A miss on the same cacheable series text twice in a row sets `repeatedMiss`: the caller then parses
   * what it has batched (which teaches the cache) instead of batching a whole series line by line.
   */
  lookup(line: string): { st: SeriesState; v: number; t: number } | null {
    this.repeatedMiss = false;
    const sp = SeriesTextCache.split(line);
    if (!sp) return null;
    const st = this.map.get(sp.prefix);
    if (!st) {
      this.repeatedMiss = sp.prefix === this.lastMiss && !sp.prefix.includes('#');
      this.lastMiss = sp.prefix;
      return null;
    }
    const v = parsePromFloat(line, sp.v + 1, sp.t);
    const t = parseOpenMetricsTimestamp(line, sp.t + 1, line.length);
    if (v === undefined || t === undefined) return null;
    return { st, v, t };
  }
}

/**
 * Imports OpenMetrics text (chunks of UTF-8 bytes or strings, e.g. a file read stream) into `db`.
 * Resolves with what was written; rejects with an ImportError (bad input; nothing written) or the storage's
 * own error (nothing written either).
 */
export async function importOpenMetrics(
  input: AsyncIterable<Uint8Array | string>,
  db: BackfillTarget,
  opts: ImportOptions = {},
): Promise<BackfillSummary> {
  const maxLine = opts.maxLineLength ?? DEFAULT_MAX_LINE;
  const batchLines = opts.batchLines ?? DEFAULT_BATCH_LINES;
  const writer = db.backfill();
  try {
    const series = new Map<string, SeriesState>();
    const batch = new BatchState(batchLines);
    const cache = new SeriesTextCache();
    let lineNo = 0;
    let eofLine = 0;
    const onLine = (line: string): void => {
      lineNo++;
      if (eofLine > 0) throw new ImportError('unexpected content after "# EOF"', lineNo);
      if (line === '# EOF') {
        eofLine = lineNo;
        flush(batch, writer, series, cache);
        return;
      }
      if (line.startsWith('#')) cache.clear();
      else {
        let hit = cache.lookup(line);
        if (!hit && cache.repeatedMiss) {
          flush(batch, writer, series, cache);
          hit = cache.lookup(line);
        }
        if (hit) {
          // Samples stay in input order: whatever is batched goes first.
          flush(batch, writer, series, cache);
          batch.noteSample();
          add(writer, series, hit.st.labels, hit.t, hit.v, lineNo, hit.st);
          return;
        }
      }
      if (batch.add(line, lineNo)) flush(batch, writer, series, cache);
    };
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let partial = '';
    for await (const chunk of input) {
      let text: string;
      try {
        text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      } catch {
        throw new ImportError('invalid UTF-8', lineNo + 1 + countNewlines(partial));
      }
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        const line = partial + text.slice(start, nl);
        partial = '';
        if (line.length > maxLine) {
          throw new ImportError(`line longer than ${maxLine} characters`, lineNo + 1);
        }
        onLine(line);
        start = nl + 1;
      }
      partial += text.slice(start);
      if (partial.length > maxLine)
        throw new ImportError(`line longer than ${maxLine} characters`, lineNo + 1);
    }
    try {
      partial += decoder.decode();
    } catch {
      throw new ImportError('invalid UTF-8 (truncated character at the end)', lineNo + 1);
    }
    // OpenMetrics allows the final `# EOF` without a newline.
    if (partial !== '') onLine(partial);
    if (eofLine === 0) {
      throw new ImportError(`missing "# EOF" at the end of the input (after line ${lineNo})`, 0);
    }
    return writer.commit();
  } catch (err) {
    writer.abort();
    throw err;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** The lines of one batch and the metadata lines of the family the batch is in. */
class BatchState {
  private readonly max: number;
  lines: string[] = [];
  /** Input line number of lines[0]. */
  firstLine = 0;
  /** The current family's `# HELP`/`# TYPE`/`# UNIT` lines, repeated in front of a continuation batch. */
  meta: string[] = [];
  /** Metadata lines to prepend to this batch (those seen before the batch started). */
  prefix: string[] = [];
  private lastWasSample = false;
  /** The current family's type, to know which `_created` lines the parser drops. */
  familyType = '';
  /** Per batch line: true when it yields a sample. */
  sampleLine: boolean[] = [];
  /** Per batch line: the family type in force. */
  types: string[] = [];

  constructor(max: number) {
    this.max = max;
  }

  /** Adds a line; true when the batch is full and should be flushed before the next line. */
  add(line: string, lineNo: number): boolean {
    const isMeta = line.startsWith('# ');
    if (this.lines.length === 0) {
      this.firstLine = lineNo;
      this.prefix = isMeta ? [] : this.meta.slice();
    }
    if (isMeta) {
      if (this.lastWasSample) this.meta = [];
      this.meta.push(line);
      const m = /^# TYPE \S+ (\S+)$/.exec(line);
      if (m) this.familyType = m[1]!;
      this.lastWasSample = false;
    } else this.lastWasSample = true;
    this.lines.push(line);
    this.types.push(this.familyType);
    this.sampleLine.push(!line.startsWith('#') && !this.isDroppedCreated(line));
    return this.lastWasSample && this.lines.length >= this.max;
  }

  private isDroppedCreated(line: string): boolean {
    if (!CREATED_FAMILIES.has(this.familyType)) return false;
    let end = 0;
    while (end < line.length && line[end] !== '{' && line[end] !== ' ') end++;
    return line.slice(0, end).endsWith('_created');
  }

  /** A sample line that bypassed the batch (see SeriesTextCache). */
  noteSample(): void {
    this.lastWasSample = true;
  }

  reset(): void {
    this.lines = [];
    this.sampleLine = [];
    this.types = [];
  }
}

function flush(
  batch: BatchState,
  writer: BackfillWriter,
  series: Map<string, SeriesState>,
  cache: SeriesTextCache,
): void {
  if (batch.lines.length === 0) return;
  const prefix = batch.prefix;
  const body = (prefix.length > 0 ? prefix.join('\n') + '\n' : '') + batch.lines.join('\n') + '\n# EOF\n';
  let samples;
  try {
    samples = parseExposition(body, 'openmetrics').samples;
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
    const inBatch = err.line - prefix.length - 1;
    const line = inBatch >= 0 && inBatch < batch.lines.length ? batch.firstLine + inBatch : batch.firstLine;
    throw new ImportError(err.message.replace(/^line \d+: /, ''), line);
  }
  // Line of each sample: the parser yields one sample per sample line, minus the `_created` ones it drops.
  const lines: number[] = [];
  for (let i = 0; i < batch.lines.length; i++) if (batch.sampleLine[i]) lines.push(batch.firstLine + i);
  const exact = lines.length === samples.length;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const line = exact ? lines[i]! : batch.firstLine;
    if (s.timestamp === undefined) {
      throw new ImportError('sample without a timestamp: import needs one on every sample (seconds)', line);
    }
    const st = add(writer, series, s.labels, s.timestamp, s.value, line);
    if (exact) cache.learn(batch.lines[line - batch.firstLine]!, st);
  }
  batch.reset();
}

function add(
  writer: BackfillWriter,
  series: Map<string, SeriesState>,
  labels: Labels,
  t: number,
  v: number,
  line: number,
  known?: SeriesState,
): SeriesState {
  const key = known ? known.key : labelsKey(labels);
  let prev = known ?? series.get(key);
  if (prev) {
    if (t < prev.lastT) {
      throw new ImportError(
        `out of order sample: timestamp ${t / 1000} is before ${prev.lastT / 1000} on line ${prev.line} for the same series`,
        line,
      );
    }
    if (t === prev.lastT) {
      // The parser never yields the staleness marker, so NaN == NaN is the exact-duplicate test here.
      if (Object.is(v, prev.lastV) || (Number.isNaN(v) && Number.isNaN(prev.lastV))) return prev;
      throw new ImportError(
        `duplicate timestamp ${t / 1000} with a different value than on line ${prev.line} for the same series`,
        line,
      );
    }
    prev.lastT = t;
    prev.lastV = v;
    prev.line = line;
  } else {
    // One canonical copy of the labels per series: the parsed strings may be slices of the whole batch.
    labels = labels.map((l) => ({ name: copyString(l.name), value: copyString(l.value) }));
    prev = { labels, key: copyString(key), lastT: t, lastV: v, line };
    series.set(prev.key, prev);
  }
  try {
    writer.add(prev.labels, t, v, key);
  } catch (err) {
    if (err instanceof Error && err.name !== 'StorageError') throw new ImportError(err.message, line);
    throw err;
  }
  return prev;
}

function copyString(s: string): string {
  // Flattens a V8 sliced string so that it no longer keeps its (large) parent alive.
  return JSON.parse(JSON.stringify(s)) as string;
}
