// The SNMP collector: resolves module and auth names, bounds how many walks run at once (overall and per
// device), runs the walks and maps their PDUs to series. The scrape loop, the /snmp endpoint and the CLI probe
// all go through it, so a field tech's probe sees exactly what the appliance stores.

import type { SnmpAuth, SnmpConfig } from '../config/snmp.ts';
import { DEFAULT_SNMP_AUTH, DEFAULT_SNMP_AUTH_NAME } from '../config/snmp.ts';
import type { Logger } from '../model/logger.ts';
import { builtinModules } from './builtin.ts';
import type { WalkResult } from './client.ts';
import { parseSnmpTarget, runWalk, SnmpError } from './client.ts';
import type { MappedWalk, SnmpFamily, SnmpSeries } from './mapping.ts';
import { mapPdus } from './mapping.ts';
import type { SnmpModule } from './module.ts';
import { parseModuleFile, SnmpModuleError } from './module.ts';

/** Every module and auth the appliance knows: built-ins, then module files, then the config's auths. */
export interface SnmpRegistry {
  readonly modules: ReadonlyMap<string, SnmpModule>;
  readonly auths: ReadonlyMap<string, SnmpAuth>;
}

/**
 * Builds the registry from the config and the module files' texts (the config edge reads the files). A module
 * file may not redefine a built-in or another file's module, nor an auth: duplicates are errors naming both.
 */
export function buildSnmpRegistry(
  config: Pick<SnmpConfig, 'auths'>,
  files: readonly { readonly path: string; readonly text: string }[],
): SnmpRegistry {
  const modules = new Map<string, SnmpModule>(builtinModules());
  const origin = new Map<string, string>([...modules.keys()].map((k) => [k, 'built-in']));
  const auths = new Map<string, SnmpAuth>([[DEFAULT_SNMP_AUTH_NAME, DEFAULT_SNMP_AUTH]]);
  const authOrigin = new Map<string, string>([[DEFAULT_SNMP_AUTH_NAME, 'default']]);
  for (const f of files) {
    const parsed = parseModuleFile(f.text, f.path);
    for (const [name, m] of parsed.modules) {
      const prev = origin.get(name);
      if (prev !== undefined)
        throw new SnmpModuleError(`${f.path}: module ${JSON.stringify(name)} is already defined (${prev})`);
      modules.set(name, m);
      origin.set(name, f.path);
    }
    for (const [name, a] of parsed.auths) {
      const prev = authOrigin.get(name);
      if (prev !== undefined && prev !== 'default')
        throw new SnmpModuleError(`${f.path}: auth ${JSON.stringify(name)} is already defined (${prev})`);
      auths.set(name, a);
      authOrigin.set(name, f.path);
    }
  }
  for (const [name, a] of Object.entries(config.auths)) {
    const prev = authOrigin.get(name);
    if (prev !== undefined && prev !== 'default')
      throw new SnmpModuleError(`snmp.auths.${name}: already defined in ${prev}`);
    auths.set(name, a);
  }
  return { modules, auths };
}

/** A request that names something unknown: the /snmp endpoint answers 400, the scrape loop fails the target. */
export class SnmpRequestError extends Error {
  override readonly name = 'SnmpRequestError';
  /** The scrape loop's failure reason: a configuration problem, not the device's. */
  readonly kind = 'config';
}

/** One collection of one device: the walk of every requested module, mapped. */
export interface SnmpCollection {
  readonly series: readonly SnmpSeries[];
  readonly families: ReadonlyMap<string, SnmpFamily>;
  readonly pdus: number;
  readonly requests: number;
  readonly walkSeconds: number;
}

export interface SnmpCollectorOptions {
  readonly registry: SnmpRegistry;
  readonly maxConcurrentWalks: number;
  readonly maxConcurrentWalksPerDevice: number;
  readonly walkLimit: number;
  readonly logger: Logger;
  /** Monotonic milliseconds, for walk durations. */
  readonly monotonic?: () => number;
}

/** A counting semaphore whose waiters leave the queue when their signal aborts. */
export class Semaphore {
  private free: number;
  private readonly queue: {
    resolve: () => void;
    reject: (e: unknown) => void;
    signal: AbortSignal;
    onAbort: () => void;
  }[] = [];
  constructor(size: number) {
    this.free = size;
  }
  get waiting(): number {
    return this.queue.length;
  }
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.queue.indexOf(entry);
          if (i >= 0) this.queue.splice(i, 1);
          reject(abortReason(signal));
        },
      };
      signal.addEventListener('abort', entry.onAbort, { once: true });
      this.queue.push(entry);
    });
  }
  release(): void {
    const next = this.queue.shift();
    if (next) {
      next.signal.removeEventListener('abort', next.onAbort);
      next.resolve();
    } else {
      this.free++;
    }
  }
}

/** What one collect() call asks for. */
export interface SnmpRequest {
  /** "host:port" (port 161 when absent). */
  readonly target: string;
  /** Module names, walked in order; their series are merged. */
  readonly modules: readonly string[];
  /** Auth name; absent means the module's own (0.21 layout) or `public_v2`. */
  readonly auth?: string;
}

export class SnmpCollector {
  private readonly o: SnmpCollectorOptions;
  private readonly overall: Semaphore;
  private readonly perDevice = new Map<string, { sem: Semaphore; users: number }>();
  private readonly monotonic: () => number;

  constructor(o: SnmpCollectorOptions) {
    this.o = o;
    this.overall = new Semaphore(o.maxConcurrentWalks);
    this.monotonic = o.monotonic ?? (() => performance.now());
  }

  get registry(): SnmpRegistry {
    return this.o.registry;
  }

  /**
   * Checks the names of a request. Throws SnmpRequestError for an unknown module or auth, or a bad target,
   * so callers can answer 400 before any packet is sent.
   */
  resolve(req: SnmpRequest): { modules: SnmpModule[]; auths: SnmpAuth[] } {
    if (req.modules.length === 0) throw new SnmpRequestError('no module given');
    const modules = req.modules.map((name) => {
      const m = this.o.registry.modules.get(name);
      if (!m) throw new SnmpRequestError(`Unknown module '${name.slice(0, 100)}'`);
      return m;
    });
    let named: SnmpAuth | undefined;
    if (req.auth !== undefined && req.auth !== '') {
      named = this.o.registry.auths.get(req.auth);
      if (!named) throw new SnmpRequestError(`Unknown auth '${req.auth.slice(0, 100)}'`);
    }
    const fallback = this.o.registry.auths.get(DEFAULT_SNMP_AUTH_NAME) ?? DEFAULT_SNMP_AUTH;
    try {
      parseSnmpTarget(req.target);
    } catch (err) {
      throw new SnmpRequestError((err as Error).message);
    }
    return { modules, auths: modules.map((m) => named ?? m.auth ?? fallback) };
  }

  /**
   * Walks the device for every requested module. Rejects with SnmpRequestError (bad names) or SnmpError (the
   * device failed: timeout, auth, loop ...). `signal` is the deadline: when it aborts, the walk in flight stops
   * and the error says how far it got.
   */
  async collect(req: SnmpRequest, signal: AbortSignal): Promise<SnmpCollection> {
    const { modules, auths } = this.resolve(req);
    const t = parseSnmpTarget(req.target);
    const key = `${t.host}:${t.port}`;
    let dev = this.perDevice.get(key);
    if (!dev)
      this.perDevice.set(key, (dev = { sem: new Semaphore(this.o.maxConcurrentWalksPerDevice), users: 0 }));
    dev.users++;
    const started = this.monotonic();
    try {
      await dev.sem.acquire(signal).catch((err: unknown) => {
        throw queuedError(err, key, 'device');
      });
      try {
        await this.overall.acquire(signal).catch((err: unknown) => {
          throw queuedError(err, key, 'overall');
        });
        try {
          const series: SnmpSeries[] = [];
          const families = new Map<string, SnmpFamily>();
          let pdus = 0;
          let requests = 0;
          for (let i = 0; i < modules.length; i++) {
            const m = modules[i]!;
            let res: WalkResult;
            try {
              res = await runWalk(
                { host: t.host, port: t.port, auth: auths[i]! },
                { get: m.get, walk: m.walk, params: m.walk_params, walkLimit: this.o.walkLimit },
                signal,
              );
            } catch (err) {
              if (err instanceof SnmpError) throw new SnmpError(err.kind, `module ${m.name}: ${err.message}`);
              throw err;
            }
            pdus += res.pdus.length;
            requests += res.requests;
            const mapped: MappedWalk = mapPdus(res.pdus, m);
            series.push(...mapped.series);
            for (const [k, f] of mapped.families) if (!families.has(k)) families.set(k, f);
          }
          return { series, families, pdus, requests, walkSeconds: (this.monotonic() - started) / 1000 };
        } finally {
          this.overall.release();
        }
      } finally {
        dev.sem.release();
      }
    } finally {
      if (--dev.users === 0) this.perDevice.delete(key);
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

function queuedError(err: unknown, key: string, which: string): SnmpError {
  const why = err instanceof Error ? err.message : 'aborted';
  return new SnmpError(
    'timeout',
    `SNMP walk of ${key} did not start: ${why} while waiting for a free ${which} walk slot (too many concurrent walks)`,
  );
}

/**
 * The collector the composition root builds once from the config's `snmp:` section and the texts of its
 * `module_files` (read by the config edge). Throws SnmpModuleError naming the file and path of a bad module.
 */
export function createSnmpCollector(
  config: SnmpConfig,
  moduleFiles: readonly { readonly path: string; readonly text: string }[],
  logger: Logger,
): SnmpCollector {
  return new SnmpCollector({
    registry: buildSnmpRegistry(config, moduleFiles),
    maxConcurrentWalks: config.max_concurrent_walks,
    maxConcurrentWalksPerDevice: config.max_concurrent_walks_per_device,
    walkLimit: config.walk_limit,
    logger,
  });
}
