// A TCP reachability probe: can the appliance open a connection to the device's port? It answers the first
// question a field tech asks about a POS terminal whose exporter is silent ("is the box on the network at all?").
// The probe is a Scraper, so the loop records up/scrape_duration_seconds and the reason when it fails.
import net from 'node:net';
import { labelsFromRecord } from '../model/labels.ts';
import type { ScrapeOutcome, Scraper } from './loop.ts';

/** Why a probe failed, as a short reason (the loop's lastError carries the detail). */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  readonly kind: 'timeout' | 'connection_refused' | 'unreachable' | 'other';
  constructor(kind: ProbeError['kind'], message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Opens a socket; injected so tests can count connections. */
export type Connect = (opts: { host: string; port: number }) => net.Socket;

/** Splits "host:port" and "[v6]:port"; null for anything else. */
export function splitHostPort(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(address);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * Connects to `address` and closes at once. Success yields `probe_success 1` and `probe_duration_seconds`
 * (the connect time); failure rejects with a {@link ProbeError}, so the target is down with the reason.
 */
export class TcpProbeScraper implements Scraper {
  private readonly address: string;
  private readonly connect: Connect;
  private readonly monotonic: () => number;

  constructor(address: string, deps: { connect?: Connect; monotonic?: () => number } = {}) {
    this.address = address;
    this.connect = deps.connect ?? ((o) => net.connect(o));
    this.monotonic = deps.monotonic ?? (() => performance.now());
  }

  scrape(signal: AbortSignal): Promise<ScrapeOutcome> {
    const hp = splitHostPort(this.address);
    if (hp === null) {
      return Promise.reject(new ProbeError('other', `invalid probe address ${JSON.stringify(this.address)}`));
    }
    const started = this.monotonic();
    return new Promise<ScrapeOutcome>((resolve, reject) => {
      if (signal.aborted) {
        reject(new ProbeError('timeout', 'probe timed out'));
        return;
      }
      const socket = this.connect(hp);
      const done = (err: ProbeError | null): void => {
        signal.removeEventListener('abort', onAbort);
        socket.removeAllListeners();
        socket.on('error', () => {}); // A late error after destroy must not become an uncaught exception.
        socket.destroy();
        if (err) {
          reject(err);
          return;
        }
        const seconds = (this.monotonic() - started) / 1000;
        resolve({
          samples: [
            { labels: labelsFromRecord({ __name__: 'probe_success' }), value: 1 },
            { labels: labelsFromRecord({ __name__: 'probe_duration_seconds' }), value: seconds },
          ],
          bytes: 0,
          metadata: new Map([
            ['probe_success', { type: 'gauge', help: 'Whether the TCP connection succeeded.', unit: '' }],
            [
              'probe_duration_seconds',
              { type: 'gauge', help: 'Time taken to open the TCP connection.', unit: 'seconds' },
            ],
          ]),
        });
      };
      const onAbort = (): void =>
        done(new ProbeError('timeout', `probe timed out connecting to ${this.address}`));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done(null));
      socket.once('error', (err: NodeJS.ErrnoException) => done(probeError(err, this.address)));
    });
  }
}

function probeError(err: NodeJS.ErrnoException, address: string): ProbeError {
  switch (err.code) {
    case 'ECONNREFUSED':
      return new ProbeError('connection_refused', `connection refused by ${address}`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ProbeError('unreachable', `${address} unreachable (${err.code})`);
    case 'ETIMEDOUT':
      return new ProbeError('timeout', `probe timed out connecting to ${address}`);
    default:
      return new ProbeError('other', `probe of ${address} failed: ${err.code ?? err.message}`);
  }
}
