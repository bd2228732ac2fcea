// The storewatch command line: the edge where flags, files and the environment are read, once, and turned
// into the typed config that main.ts wires up. Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, defaultConfig, formatIssues, loadConfig } from './config/index.ts';
import type { Config } from './config/schema.ts';
import { Appliance, readProcSelfIo } from './main.ts';
import { openSqlite } from './native.ts';
import { Engine } from './promql/engine.ts';
import type { CommandDeps } from './query/cli.ts';
import { importCommand, queryCommand } from './query/cli.ts';
import { inventoryCommand } from './cli-inventory.ts';
import { parseDuration } from './config/duration.ts';
import { snmpProbe } from './snmp/probe.ts';

const HELP = `usage: storewatch <command> [flags]

Store-edge monitoring: scrapes POS terminals and network gear into a local SQLite TSDB and shows the store.

Commands:
  run                     Run the appliance (the default when no command is given).
      --config FILE                 YAML configuration (Prometheus scrape_configs keys); embedded defaults if omitted
      --web.listen-address ADDR     Listen address of the status page, API and /metrics (default 0.0.0.0:9782)
      --storage.path DIR            Data directory (default ./data)
      --log.level LEVEL             debug, info, warn or error (default info)
  check-config FILE       Validate a configuration file; prints every problem with its path, exits 2 if any.
  query --storage.path DIR [--time T | --start S --end E --step D] EXPR
                          Evaluate PromQL against a data directory; prints the API's data object as JSON.
  tsdb import --storage.path DIR FILE
                          Import OpenMetrics text with timestamps (all or nothing). See each command's --help.
  inventory show|diff [--config FILE] [--storage.path DIR]
                          What the NetBox inventory makes the appliance monitor (profile, rule), what not and
                          why; or the recent inventory changes. Reads the cached inventory, never NetBox.
  snmp probe --target HOST[:PORT] --module NAME[,NAME] [--auth NAME] [--config FILE] [--timeout 10s]
                          Walk one device with snmp_exporter modules and print the series (exit 1: device failed).

Flags:
  --version               Print the version and exit.
  --help                  Print this help and exit.

Signals: SIGHUP reloads the configuration file; SIGTERM and SIGINT stop cleanly (the head is flushed).
`;

/** The version: injected into the single executable at build time, read from package.json in development. */
function version(): string {
  const injected = process.env.STOREWATCH_BUILD_VERSION;
  if (injected) return injected;
  try {
    // In development this file runs from appliance/, so package.json is one directory up from the script.
    const script = process.argv[1] ?? '';
    const pkg = JSON.parse(
      fs.readFileSync(path.join(path.dirname(script), '..', 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function readConfigFile(file: string): Config {
  const text = fs.readFileSync(file, 'utf8');
  return loadConfig(text, {
    baseDir: path.dirname(path.resolve(file)),
    readFile: (p) => fs.readFileSync(p, 'utf8'),
  });
}

function checkConfig(file: string | undefined, io: Io): number {
  if (!file) {
    io.err('check-config needs a FILE\n');
    return 2;
  }
  try {
    const cfg = readConfigFile(file);
    io.out(`${file}: SUCCESS: ${cfg.scrape_configs.length} scrape config(s) valid\n`);
    for (const note of configNotes(cfg)) io.out(`  NOTE: ${note}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`${file}: FAILED:\n${formatIssues(err.issues)}\n`);
      return 2;
    }
    io.err(`${file}: FAILED: ${(err as Error).message}\n`);
    return 2;
  }
}

/** What a valid configuration still asks of its peers, for check-config to say. */
function configNotes(cfg: Config): string[] {
  return cfg.remote_write
    .filter((rw) => rw.store_and_forward.catch_up === 'live-first')
    .map(
      (rw) =>
        `remote_write "${rw.name}": catch_up live-first sends the backlog after newer samples; the receiver must ` +
        'accept out-of-order samples for at least the longest outage (Prometheus: storage.tsdb.out_of_order_time_window; ' +
        'Mimir: out_of_order_time_window; VictoriaMetrics accepts them), or it refuses the backlog',
    );
}

/** Parses argv (without node and script) and runs the command; resolves with the exit code for one-shot commands. */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  // `query` and `tsdb import` have flags of their own (appliance/query/cli.ts).
  if (argv[0] === 'query') return queryCommand(argv.slice(1), io, queryDeps());
  if (argv[0] === 'tsdb' && argv[1] === 'import') return importCommand(argv.slice(2), io, queryDeps());
  if (argv[0] === 'snmp') return snmpCommand(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        'config.file': { type: 'string' },
        'web.listen-address': { type: 'string' },
        'storage.path': { type: 'string' },
        'log.level': { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  if (values.version) {
    io.out(`storewatch, version ${version()} (node ${process.version})\n`);
    return 0;
  }
  const command = positionals[0] ?? 'run';
  if (command === 'check-config') return checkConfig(positionals[1] ?? values.config, io);
  if (command !== 'run' && command !== 'inventory') {
    io.err(`unknown command ${JSON.stringify(command)}\n\n${HELP}`);
    return 2;
  }
  const configFile = values.config ?? values['config.file'];
  const level = values['log.level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    io.err(`--log.level must be debug, info, warn or error\n`);
    return 2;
  }
  const load = (): Config => {
    const base = configFile ? readConfigFile(configFile) : defaultConfig();
    return withFlags(base, values['storage.path'], values['web.listen-address']);
  };
  let config: Config;
  try {
    config = load();
  } catch (err) {
    io.err(
      err instanceof ConfigError
        ? `${configFile}: FAILED:\n${formatIssues(err.issues)}\n`
        : `${(err as Error).message}\n`,
    );
    return 2;
  }
  // The embedded SQLite addon is extracted next to the data (an exec-mounted, writable place we own);
  // systemd's CacheDirectory= wins when the service sets it.
  const cacheDir = process.env.CACHE_DIRECTORY ?? path.join(path.resolve(config.storage.path), '.cache');
  if (command === 'inventory') return inventoryCommand(positionals[1], config, cacheDir, io);
  const logger = pino({ level, base: { app: 'storewatch' } });
  let app: Appliance;
  try {
    app = await Appliance.start({
      config,
      logger,
      version: version(),
      cacheDir,
      readProcessIo: readProcSelfIo,
    });
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'storewatch could not start');
    return 1;
  }
  return new Promise<number>((resolve) => {
    let reloading = Promise.resolve();
    process.on('SIGHUP', () => {
      reloading = reloading.then(async () => {
        try {
          await app.reload(load());
        } catch (err) {
          const detail = err instanceof ConfigError ? formatIssues(err.issues) : (err as Error).message;
          logger.error({ err: detail }, 'configuration reload failed; keeping the running configuration');
        }
      });
    });
    const shutdown = (signal: string): void => {
      logger.info({ signal }, 'stopping');
      app.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error({ err: (err as Error).message }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

function withFlags(cfg: Config, storagePath: string | undefined, listen: string | undefined): Config {
  return {
    ...cfg,
    storage: storagePath ? { ...cfg.storage, path: storagePath } : cfg.storage,
    web: listen ? { ...cfg.web, listen_address: listen } : cfg.web,
  };
}

/** `storewatch snmp probe`: one walk from the command line, through the same collector the appliance uses. */
async function snmpCommand(argv: readonly string[], io: Io): Promise<number> {
  const usage =
    'usage: storewatch snmp probe --target HOST[:PORT] --module NAME[,NAME] [--auth NAME] [--config FILE] [--timeout 10s]\n';
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        target: { type: 'string' },
        module: { type: 'string', multiple: true },
        auth: { type: 'string' },
        config: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(usage);
    return 0;
  }
  if (positionals[0] !== 'probe' || !values.target || !values.module) {
    io.err(usage);
    return 2;
  }
  let config: Config = defaultConfig();
  let timeoutMs = 10_000;
  try {
    if (values.config) config = readConfigFile(values.config);
    if (values.timeout) timeoutMs = parseDuration(values.timeout);
  } catch (err) {
    io.err(
      err instanceof ConfigError
        ? `${values.config}: FAILED:\n${formatIssues(err.issues)}\n`
        : `${(err as Error).message}\n`,
    );
    return 2;
  }
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  try {
    const r = await snmpProbe(
      {
        target: values.target,
        modules: values.module,
        ...(values.auth ? { auth: values.auth } : {}),
        timeoutMs,
      },
      { config: config.snmp, moduleFiles: config.snmp.module_texts, signal: ac.signal },
    );
    io.out(r.stdout);
    io.err(r.stderr);
    return r.exitCode;
  } finally {
    process.off('SIGINT', onInt);
  }
}

/** The process edge of the query and import commands: SQLite opener, the real engine, files, the clock. */
function queryDeps(): CommandDeps {
  return {
    // As for `run`: the embedded SQLite addon is extracted next to the data unless systemd says otherwise.
    openDatabase: (file) =>
      openSqlite(file, {
        cacheDir: process.env.CACHE_DIRECTORY ?? path.join(path.dirname(path.resolve(file)), '.cache'),
      }),
    makeEngine: (limits) => new Engine(limits),
    now: Date.now,
    openInput: (file) => (file === '-' ? process.stdin : fs.createReadStream(file)),
  };
}

// Run when executed directly (development: `node appliance/cli.ts`; the single executable's entry point).
main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
}).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`storewatch: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
