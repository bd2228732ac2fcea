// HTTP surface of the appliance: the status page, its JSON, Prometheus-compatible /api/v1/targets and
// /api/v1/status/buildinfo, the /metrics passthrough and Prometheus-style health endpoints.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { pageAssets, renderPage } from './page.ts';
import { copyBuild, readOverview, redactCredentials, sanitizeTarget } from './redact.ts';
import type { StatusSource, TargetStatus } from './status.ts';

/** The subset of pino's logger the web stage uses. */
export interface WebLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

export interface WebDeps {
  readonly status: StatusSource;
  /** The appliance's own metrics in Prometheus text format 0.0.4 (e.g. prom-client's registry.metrics()). */
  readonly metrics: () => Promise<string>;
  readonly logger: WebLogger;
  /** Clock for page ages; defaults to Date.now. */
  readonly now?: () => number;
  /** How often the page script refreshes; defaults to 10 s. Tests shorten it. */
  readonly refreshIntervalMs?: number;
  /** The Prometheus query API (/api/v1/query, series, labels ...; see api.ts); absent: not served. */
  readonly api?: express.Router;
  /** snmp_exporter's /snmp endpoint (see snmp.ts); absent: not served. */
  readonly snmp?: express.Router;
}

/** Prometheus's exposition content type; exact, because some scrapers compare it literally. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
const DEFAULT_REFRESH_MS = 10_000;

function firstQueryValue(req: Request, name: string): string {
  // Express's simple query parser yields an array for a repeated parameter; Prometheus (Go's Get) takes the first.
  const v: unknown = (req.query as Record<string, unknown>)[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

function errorMessage(err: unknown): string {
  return redactCredentials(err instanceof Error ? err.message : String(err));
}

function httpStatusOf(err: unknown): number {
  // Express and its router mark client errors (e.g. a malformed %-escape in the path) with status/statusCode.
  if (typeof err === 'object' && err !== null) {
    const s =
      (err as { status?: unknown; statusCode?: unknown }).status ??
      (err as { statusCode?: unknown }).statusCode;
    if (typeof s === 'number' && s >= 400 && s < 600) return s;
  }
  return 500;
}

/**
 * Builds the Express app. It holds no state of its own: every request reads a fresh snapshot from deps.status.
 * A throwing StatusSource or metrics function yields a 500 (JSON under /api/, text elsewhere) and a log line.
 */
export function createWebApp(deps: WebDeps): express.Express {
  const now = deps.now ?? Date.now;
  const assets = pageAssets(deps.refreshIntervalMs ?? DEFAULT_REFRESH_MS);
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.set({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });

  app.get('/', (_req: Request, res: Response) => {
    const html = renderPage(readOverview(deps.status), now(), assets);
    res.set('Content-Security-Policy', assets.contentSecurityPolicy);
    res.type('html').send(html);
  });

  app.get('/favicon.ico', (_req: Request, res: Response) => {
    // No icon: answering 204 keeps browsers from logging a 404 on every visit.
    res.status(204).end();
  });

  app.get('/api/v1/status/overview', (_req: Request, res: Response) => {
    res.json({ status: 'success', data: readOverview(deps.status) });
  });

  app.get('/api/v1/targets', (req: Request, res: Response) => {
    // Same semantics as Prometheus: state is case-insensitive, "" and "any" mean both lists, an unknown value
    // yields two empty lists; scrapePool filters by exact name. storewatch keeps no dropped targets yet.
    const state = firstQueryValue(req, 'state').toLowerCase();
    const scrapePool = firstQueryValue(req, 'scrapePool');
    const showActive = state === '' || state === 'any' || state === 'active';
    let activeTargets: TargetStatus[] = [];
    if (showActive) {
      activeTargets = deps.status
        .targets()
        .filter((t) => scrapePool === '' || t.scrapePool === scrapePool)
        .map(sanitizeTarget);
      // Prometheus lists pools in name order; the sort is stable, so targets keep their order within a pool.
      activeTargets.sort((a, b) => (a.scrapePool < b.scrapePool ? -1 : a.scrapePool > b.scrapePool ? 1 : 0));
    }
    res.json({ status: 'success', data: { activeTargets, droppedTargets: [] } });
  });

  app.get('/api/v1/status/buildinfo', (_req: Request, res: Response) => {
    // Prometheus's keys, so that clients probing for a Prometheus-compatible API (they read `version`) work.
    // storewatch is not built with Go: goVersion carries the Node.js version, and branch, buildUser and
    // buildDate are empty, as in a Prometheus built without release metadata. startTime is a storewatch extra.
    const b = copyBuild(deps.status.build);
    res.json({
      status: 'success',
      data: {
        version: b.version,
        revision: b.revision,
        branch: '',
        buildUser: '',
        buildDate: '',
        goVersion: b.nodeVersion,
        startTime: b.startTime,
      },
    });
  });

  app.get('/metrics', async (_req: Request, res: Response) => {
    const body = await deps.metrics();
    // res.end rather than res.send: send would rewrite the content type and reorder its parameters.
    res.status(200).set('Content-Type', METRICS_CONTENT_TYPE).end(body);
  });

  app.get('/-/healthy', (_req: Request, res: Response) => {
    res.type('text/plain').send('storewatch is Healthy.\n');
  });

  app.get('/-/ready', (_req: Request, res: Response) => {
    res.type('text/plain').send('storewatch is Ready.\n');
  });

  if (deps.api) app.use(deps.api);
  if (deps.snmp) app.use(deps.snmp);
  app.use('/api', (req: Request, res: Response) => {
    res.status(404).json({
      status: 'error',
      errorType: 'not_found',
      error: `no such endpoint: ${req.method} ${req.originalUrl.split('?')[0] ?? ''}`,
    });
  });

  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('404 page not found\n');
  });

  // Express recognises an error handler by its four parameters, so `_next` must stay.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = httpStatusOf(err);
    const message = errorMessage(err);
    if (status >= 500) deps.logger.error({ err, method: req.method, path: req.path }, 'web request failed');
    else deps.logger.warn({ method: req.method, status, error: message }, 'bad web request');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (req.path.startsWith('/api/')) {
      res.status(status).json({
        status: 'error',
        errorType: status >= 500 ? 'internal' : 'bad_data',
        error: message,
      });
    } else {
      res
        .status(status)
        .type('text/plain')
        .send(`storewatch: ${status >= 500 ? 'internal error' : 'bad request'}: ${message}\n`);
    }
  });

  return app;
}

/** Thrown for a listen address that is not "host:port", "[ipv6]:port" or ":port". */
export class ListenAddressError extends Error {
  override readonly name = 'ListenAddressError';
}

/**
 * Parses a Prometheus-style listen address. An empty host (":9090") means all interfaces, returned as
 * undefined so that Node listens dual-stack. Port 0 asks the OS for a free port.
 */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9A-Za-z:.%]+)\]|([^:[\]\s]*)):([0-9]{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new ListenAddressError(`invalid listen address ${JSON.stringify(address)}: want host:port`);
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? undefined : host, port };
}

export interface WebServer {
  /** The bound address, e.g. "127.0.0.1" or "::1". */
  readonly address: string;
  /** The bound port (the real one when asked for port 0). */
  readonly port: number;
  /** Stops accepting connections and resolves once open ones are closed; idempotent. */
  close(): Promise<void>;
}

const FORCE_CLOSE_MS = 2_000;

/**
 * Listens on `listenAddress` and resolves once bound; rejects on an invalid address or a listen error
 * (EADDRINUSE, EACCES). Aborting `signal` closes the server.
 */
export function startWebServer(
  app: express.Express,
  listenAddress: string,
  signal?: AbortSignal,
): Promise<WebServer> {
  return new Promise<WebServer>((resolve, reject) => {
    const { host, port } = parseListenAddress(listenAddress);
    if (signal?.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted before listening'));
      return;
    }
    const server = http.createServer(app);
    // Slow or stuck clients on the store LAN must not hold sockets forever.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;

    let closing: Promise<void> | undefined;
    const close = (): Promise<void> => {
      closing ??= new Promise<void>((done) => {
        signal?.removeEventListener('abort', onAbort);
        const force = setTimeout(() => server.closeAllConnections(), FORCE_CLOSE_MS);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          done();
        });
        server.closeIdleConnections();
      });
      return closing;
    };
    const onAbort = (): void => {
      void close();
    };

    const onListenError = (err: Error): void => reject(err);
    server.once('error', onListenError);
    server.listen({ port, host }, () => {
      server.off('error', onListenError);
      const a = server.address() as AddressInfo;
      signal?.addEventListener('abort', onAbort, { once: true });
      resolve({ address: a.address, port: a.port, close });
    });
  });
}
