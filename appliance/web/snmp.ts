// GET /snmp?target=HOST:PORT&module=NAME[,NAME]&auth=NAME — one walk as text exposition, like snmp_exporter's
// endpoint, so a field tech (or a Prometheus scraping through the appliance) can check a device and a module.
// Status codes follow snmp_exporter: 400 for a missing target or an unknown module/auth, 500 with an
// "snmp_error" body when the device fails; the body says why (timeout, auth failure ...), never a secret.

import express from 'express';
import type { Request, Response, Router } from 'express';
import type { Logger } from '../model/logger.ts';
import { SnmpError } from '../snmp/client.ts';
import type { SnmpCollection, SnmpRequest } from '../snmp/collector.ts';
import { SnmpRequestError } from '../snmp/collector.ts';
import { formatValue, toExposition } from '../snmp/mapping.ts';

export interface SnmpRouterOptions {
  readonly collector: {
    collect(req: SnmpRequest, signal: AbortSignal): Promise<SnmpCollection>;
    resolve(req: SnmpRequest): unknown;
  };
  readonly logger: Logger;
  /** Walk deadline when the caller sends no X-Prometheus-Scrape-Timeout-Seconds header. */
  readonly defaultTimeoutMs: number;
  /** Upper bound on any walk deadline, whatever the header says. */
  readonly maxTimeoutMs?: number;
}

/** snmp_exporter subtracts this from Prometheus's scrape timeout so its answer arrives before Prometheus gives up. */
const TIMEOUT_OFFSET_MS = 500;

function single(q: unknown): string | undefined | null {
  if (q === undefined) return undefined;
  if (typeof q === 'string') return q;
  return null; // repeated or nested parameter
}

/** Builds the router; mount it at the web root (it serves /snmp). */
export function createSnmpRouter(o: SnmpRouterOptions): Router {
  const router = express.Router();
  router.get('/snmp', async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    const target = single(req.query['target']);
    if (!target) {
      res.status(400).type('text/plain').send("'target' parameter must be specified once\n");
      return;
    }
    const moduleParam = req.query['module'];
    const moduleValues =
      moduleParam === undefined ? ['if_mib'] : Array.isArray(moduleParam) ? moduleParam : [moduleParam];
    const modules = moduleValues
      .flatMap((v) => (typeof v === 'string' ? v.split(',') : []))
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const auth = single(req.query['auth']);
    if (auth === null) {
      res.status(400).type('text/plain').send("'auth' parameter must only be specified once\n");
      return;
    }
    const request: SnmpRequest = { target, modules, ...(auth ? { auth } : {}) };
    try {
      o.collector.resolve(request);
    } catch (err) {
      if (err instanceof SnmpRequestError) {
        res
          .status(400)
          .type('text/plain')
          .send(err.message + '\n');
        return;
      }
      throw err;
    }
    let timeoutMs = o.defaultTimeoutMs;
    const header = Number(req.get('X-Prometheus-Scrape-Timeout-Seconds'));
    if (Number.isFinite(header) && header > 0) timeoutMs = Math.max(100, header * 1000 - TIMEOUT_OFFSET_MS);
    timeoutMs = Math.min(timeoutMs, o.maxTimeoutMs ?? 120_000);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs}ms`)), timeoutMs);
    // A client that goes away stops the walk: the agent need not be walked for nobody.
    const onClose = (): void => {
      if (!res.writableEnded) ac.abort(new Error('client went away'));
    };
    res.on('close', onClose);
    try {
      const c = await o.collector.collect(request, ac.signal);
      const body =
        toExposition(c.families, c.series) +
        '# HELP snmp_scrape_duration_seconds Total SNMP time scrape took (walk and processing).\n' +
        '# TYPE snmp_scrape_duration_seconds gauge\n' +
        `snmp_scrape_duration_seconds ${formatValue(c.walkSeconds)}\n` +
        '# HELP snmp_scrape_pdus_returned PDUs returned from get, bulkget, and walk.\n' +
        '# TYPE snmp_scrape_pdus_returned gauge\n' +
        `snmp_scrape_pdus_returned ${c.pdus}\n`;
      res.status(200).type('text/plain; version=0.0.4; charset=utf-8').send(body);
    } catch (err) {
      const reason = err instanceof SnmpError ? err.kind : 'other';
      const message = err instanceof Error ? err.message : String(err);
      o.logger.info({ target, modules, reason, err: message }, 'SNMP walk failed');
      if (res.headersSent || (ac.signal.reason as Error | undefined)?.message === 'client went away') return;
      res
        .status(500)
        .type('text/plain')
        .send(
          'An error has occurred while serving metrics:\n\n' +
            `error collecting metric Desc{fqName: "snmp_error", help: "Error scraping target", constLabels: {}, variableLabels: []}: ${message}\n` +
            `reason: ${reason}\n`,
        );
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
    }
  });
  return router;
}
