// A scrape loop's view of an SNMP device: one SnmpScraper per target, all sharing one SnmpCollector (which
// bounds concurrent walks overall and per device). The target says what to walk through its URL, built by
// targets.ts from `__address__` and the `module`/`auth` params: snmp://HOST:PORT?module=if_mib,system&auth=NAME.

import { SnmpError } from '../snmp/client.ts';
import type { SnmpCollection, SnmpRequest } from '../snmp/collector.ts';
import { SnmpRequestError } from '../snmp/collector.ts';
import { toMetadata, toScrapedSamples } from '../snmp/mapping.ts';
import type { FailureReason, ScrapeOutcome, Scraper } from './loop.ts';
import type { Target } from './targets.ts';

/** What the scraper needs of the collector (SnmpCollector satisfies it; tests pass a fake). */
export interface SnmpCollectorLike {
  collect(req: SnmpRequest, signal: AbortSignal): Promise<SnmpCollection>;
}

/**
 * Reads the SNMP request from a target URL `snmp://HOST[:PORT]?module=A[,B]&auth=NAME`. Repeated `module`
 * parameters and comma-separated names both add modules. Throws SnmpRequestError when no module is named.
 */
export function snmpRequestFromUrl(url: string): SnmpRequest {
  const m = /^snmp:\/\/([^/?#]+)(?:[/]?)(?:\?([^#]*))?$/.exec(url);
  if (!m) throw new SnmpRequestError(`not an SNMP target URL: ${url.slice(0, 200)}`);
  const q = new URLSearchParams(m[2] ?? '');
  const modules = q
    .getAll('module')
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (modules.length === 0)
    throw new SnmpRequestError('no SNMP module given (set params.module or __param_module)');
  const auth = q.get('auth') ?? '';
  return { target: decodeURIComponent(m[1]!), modules, ...(auth !== '' ? { auth } : {}) };
}

/**
 * Collects one SNMP target per scrape. The loop's signal is the target's scrape_timeout: when it fires the walk
 * stops and the scrape fails with a message saying how far it got. Failures are SnmpError (kind = reason) or
 * SnmpRequestError (unknown module/auth: a configuration problem, reason "config").
 */
export class SnmpScraper implements Scraper {
  private readonly collector: SnmpCollectorLike;
  /** The parsed request, or why the target URL is unusable (reported on every scrape, never thrown here). */
  private readonly request: SnmpRequest | SnmpRequestError;

  /** Our own walk deadline, a little before the loop's, so the failure says how far the walk got. */
  private readonly deadlineMs: number;

  constructor(collector: SnmpCollectorLike, target: Pick<Target, 'url' | 'timeoutMs'>) {
    this.collector = collector;
    this.deadlineMs = Math.max(1, target.timeoutMs - Math.min(500, Math.floor(target.timeoutMs / 10)));
    try {
      this.request = snmpRequestFromUrl(target.url);
    } catch (err) {
      this.request = err instanceof SnmpRequestError ? err : new SnmpRequestError(String(err));
    }
  }

  async scrape(signal: AbortSignal): Promise<ScrapeOutcome> {
    if (this.request instanceof SnmpRequestError) throw this.request;
    // When the loop's own deadline fires first it reports a bare "scrape timed out"; ours fires just before
    // and the SnmpError names the subtree and OID the walk had reached.
    const deadline = new AbortController();
    const timer = setTimeout(
      () =>
        deadline.abort(
          new Error(`walk deadline of ${this.deadlineMs}ms (just under scrape_timeout) reached`),
        ),
      this.deadlineMs,
    );
    try {
      const c = await this.collector.collect(this.request, AbortSignal.any([signal, deadline.signal]));
      return { samples: toScrapedSamples(c.series), bytes: 0, metadata: toMetadata(c.families) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The reason label for an SNMP scrape failure (timeout, auth, loop, walk_limit, invalid_response, agent_error,
 * unreachable, config), or null when `err` is not an SNMP error so the caller's own classifier decides.
 */
export function classifySnmpError(err: unknown): FailureReason | null {
  if (err instanceof SnmpError) return err.kind;
  if (err instanceof SnmpRequestError) return 'config';
  return null;
}
