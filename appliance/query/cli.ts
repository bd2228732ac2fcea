// The `storewatch query` and `storewatch tsdb import` commands: PromQL against a data directory without
// running collection, and OpenMetrics backfill into one. appliance/cli.ts dispatches here and hands in what
// comes from the process edge (the SQLite opener, the engine factory, the clock, stdout/stderr, files).
// Neither command ever applies retention: data from 1970 stays.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type BetterSqlite3 from 'better-sqlite3';
import { silentLogger } from '../model/logger.ts';
import type { Logger } from '../model/logger.ts';
import { Tsdb } from '../tsdb/db.ts';
import { ImportError, importOpenMetrics } from '../tsdb/import.ts';
import type { QueryEngine } from '../web/api.ts';
import { apiErrorOf, MAX_RANGE_POINTS, parseDurationParam, parseTime, queryDataJson } from '../web/api.ts';

/** Engine limits, with Prometheus's defaults and flag names (--query.max-samples, --query.timeout, --query.lookback-delta). */
export interface EngineLimits {
  readonly maxSamples: number;
  readonly timeoutMs: number;
  readonly lookbackDeltaMs: number;
}

export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  maxSamples: 50_000_000,
  timeoutMs: 2 * 60 * 1000,
  lookbackDeltaMs: 5 * 60 * 1000,
};

export interface CommandIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface CommandDeps {
  /** Opens a SQLite file (the composition root's native-addon-aware opener). */
  readonly openDatabase: (file: string) => BetterSqlite3.Database;
  readonly makeEngine: (limits: EngineLimits) => QueryEngine;
  readonly now: () => number;
  /** Reads the import file ("-" is stdin). */
  readonly openInput: (file: string) => AsyncIterable<Uint8Array | string>;
  readonly logger?: Logger;
}

export const QUERY_HELP = `usage: storewatch query --storage.path DIR [--time T | --start S --end E --step D] EXPR

Evaluates a PromQL expression against a data directory (no collection runs) and prints the API's "data"
object as JSON. Times are unix seconds or RFC 3339; the step is seconds or a duration (15s, 1m).
  --query.max-samples N       (default 50000000)
  --query.timeout DURATION    (default 2m)
  --query.lookback-delta DUR  (default 5m)
Exit codes: 0 ok, 1 query failed, 2 bad usage.
`;

export const IMPORT_HELP = `usage: storewatch tsdb import --storage.path DIR FILE

Imports OpenMetrics text with a timestamp (seconds) on every sample and a final "# EOF", like promtool tsdb
create-blocks-from openmetrics. FILE "-" reads stdin. All or nothing: any error names its line and imports
nothing. Stop the appliance that uses DIR first.
Exit codes: 0 ok, 1 import failed, 2 bad usage.
`;

function openTsdb(dir: string, deps: CommandDeps, readOnly: boolean): Tsdb {
  return Tsdb.open({
    readOnly,
    dir,
    openDatabase: deps.openDatabase,
    now: deps.now,
    logger: deps.logger ?? silentLogger,
    // Never retention: a query or an import must not delete anything, and imported data may start in 1970.
    retentionTimeMs: 0,
    retentionSizeBytes: 0,
  });
}

/** `storewatch query …` (argv after "query"). Resolves with the exit code. */
export async function queryCommand(
  argv: readonly string[],
  io: CommandIo,
  deps: CommandDeps,
): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'storage.path': { type: 'string' },
        time: { type: 'string' },
        start: { type: 'string' },
        end: { type: 'string' },
        step: { type: 'string' },
        'query.max-samples': { type: 'string' },
        'query.timeout': { type: 'string' },
        'query.lookback-delta': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${QUERY_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(QUERY_HELP);
    return 0;
  }
  const usage = (msg: string): number => {
    io.err(`${msg}\n\n${QUERY_HELP}`);
    return 2;
  };
  const dir = values['storage.path'];
  if (!dir) return usage('--storage.path is required');
  if (positionals.length !== 1) return usage('exactly one EXPR is required (quote it)');
  const expr = positionals[0]!;
  const isRange = values.start !== undefined || values.end !== undefined || values.step !== undefined;
  if (isRange && values.time !== undefined)
    return usage('--time cannot be combined with --start/--end/--step');
  if (isRange && (values.start === undefined || values.end === undefined || values.step === undefined)) {
    return usage('a range query needs all of --start, --end and --step');
  }
  let limits: EngineLimits;
  let time = 0;
  let start = 0;
  let end = 0;
  let step = 0;
  try {
    limits = {
      maxSamples: intFlag(
        values['query.max-samples'],
        DEFAULT_ENGINE_LIMITS.maxSamples,
        '--query.max-samples',
      ),
      timeoutMs: durFlag(values['query.timeout'], DEFAULT_ENGINE_LIMITS.timeoutMs, '--query.timeout'),
      lookbackDeltaMs: durFlag(
        values['query.lookback-delta'],
        DEFAULT_ENGINE_LIMITS.lookbackDeltaMs,
        '--query.lookback-delta',
      ),
    };
    if (isRange) {
      start = timeFlag(values.start!, '--start');
      end = timeFlag(values.end!, '--end');
      step = durFlag(values.step, 0, '--step');
      if (end < start) throw new Error('--end must not be before --start');
      if (step <= 0) throw new Error('--step must be positive');
      if (Math.trunc((end - start) / step) > MAX_RANGE_POINTS) {
        throw new Error(
          `--start/--end/--step ask for more than ${MAX_RANGE_POINTS} points per series; use a larger --step`,
        );
      }
    } else time = values.time === undefined ? deps.now() : timeFlag(values.time, '--time');
  } catch (err) {
    return usage((err as Error).message);
  }
  if (!fs.existsSync(path.join(dir, 'storewatch.db'))) {
    io.err(`no storewatch data in ${JSON.stringify(dir)} (storewatch.db not found)\n`);
    return 1;
  }
  let db: Tsdb;
  try {
    // Read-only: the appliance may be running on the same directory; its head log must stay untouched.
    db = openTsdb(dir, deps, true);
  } catch (err) {
    io.err(`cannot open ${JSON.stringify(dir)}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const engine = deps.makeEngine(limits);
    const r = isRange
      ? await engine.rangeQuery(db, expr, start, end, Math.max(1, Math.round(step)))
      : await engine.instantQuery(db, expr, time);
    if (!r.ok) {
      const e = apiErrorOf(r.error);
      io.err(`error (${e.type}): ${e.message}\n`);
      return 1;
    }
    for (const w of r.warnings) io.err(`warning: ${w}\n`);
    for (const i of r.infos) io.err(`info: ${i}\n`);
    io.out(queryDataJson(r.value) + '\n');
    return 0;
  } finally {
    db.close();
  }
}

/** `storewatch tsdb import …` (argv after "tsdb import"). Resolves with the exit code. */
export async function importCommand(
  argv: readonly string[],
  io: CommandIo,
  deps: CommandDeps,
): Promise<number> {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'storage.path': { type: 'string' },
        'max-line-length': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${IMPORT_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(IMPORT_HELP);
    return 0;
  }
  const dir = values['storage.path'];
  if (!dir || positionals.length !== 1) {
    io.err(`--storage.path and exactly one FILE are required\n\n${IMPORT_HELP}`);
    return 2;
  }
  let maxLine: number | undefined;
  try {
    maxLine =
      values['max-line-length'] === undefined
        ? undefined
        : intFlag(values['max-line-length'], 0, '--max-line-length');
  } catch (err) {
    io.err(`${(err as Error).message}\n`);
    return 2;
  }
  const file = positionals[0]!;
  let db: Tsdb;
  try {
    db = openTsdb(dir, deps, false);
  } catch (err) {
    io.err(`cannot open ${JSON.stringify(dir)}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const r = await importOpenMetrics(
      deps.openInput(file),
      db,
      maxLine === undefined ? {} : { maxLineLength: maxLine },
    );
    const range =
      r.minT === null || r.maxT === null
        ? ''
        : ` from ${new Date(r.minT).toISOString()} to ${new Date(r.maxT).toISOString()}`;
    io.out(
      `imported ${r.samples} samples of ${r.series} series (${r.newSeries} new) in ${r.chunks} chunks${range}\n`,
    );
    return 0;
  } catch (err) {
    const prefix = err instanceof ImportError ? `${file}: ` : '';
    io.err(`import failed, nothing was imported: ${prefix}${(err as Error).message}\n`);
    return 1;
  } finally {
    db.close();
  }
}

function intFlag(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new Error(`${name}: not a non-negative integer: ${JSON.stringify(v)}`);
  return Number(v);
}

function durFlag(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  try {
    return parseDurationParam(v);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

function timeFlag(v: string, name: string): number {
  try {
    return parseTime(v);
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}
