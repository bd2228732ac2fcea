// The pieces of an outgoing HTTP client that the scraper and the remote-write sender share: the keep-alive
// agents with their TLS context, the Authorization header, URL redaction for messages and the sorting of
// connection-level errors. They live here so that both clients treat TLS settings and network trouble alike
// and word their messages alike, without either depending on the other.

import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { HTTPClientConfig, TLSVersion } from '../config/schema.ts';

const NODE_TLS_VERSIONS: Readonly<Record<TLSVersion, tls.SecureVersion>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

const DNS_CODES: ReadonlySet<string> = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
]);

/** OpenSSL's certificate verification results, as node reports them in `err.code`. */
const CERT_VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'OUT_OF_MEM',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/** The codes for which Go would say "certificate signed by unknown authority"; operators search for that text. */
const UNKNOWN_AUTHORITY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

/** An OpenSSL error string: `error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:...`. */
const OPENSSL_ERROR_RE = /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/;

/** Errors that, on a kept-alive socket and before any response, mean the server had already closed it. */
export const STALE_SOCKET_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** The keep-alive agents of one client, both built from one HTTPClientConfig. */
export interface HttpAgents {
  readonly httpAgent: http.Agent;
  readonly httpsAgent: https.Agent;
  /**
   * Set when the TLS material does not load. The https agent then runs with node's defaults, and the client
   * must fail every https request with this message instead of using it; plain http still works.
   */
  readonly tlsConfigError: string | undefined;
}

/** Builds the keep-alive agents for a client; never throws, bad TLS material ends up in `tlsConfigError`. */
export function createAgents(cfg: HTTPClientConfig): HttpAgents {
  const httpAgent = new http.Agent({ keepAlive: true });
  const t = cfg.tls_config;
  // The context is built once, so that PEM is parsed once per client and not once per connection, and so that
  // bad material shows up as a per-request error instead of an exception while the client is set up.
  let secureContext: tls.SecureContext | undefined;
  let tlsConfigError: string | undefined;
  try {
    secureContext = tls.createSecureContext({
      ...(t.ca !== undefined ? { ca: t.ca } : {}),
      ...(t.cert !== undefined ? { cert: t.cert } : {}),
      ...(t.key !== undefined ? { key: t.key } : {}),
      minVersion: NODE_TLS_VERSIONS[t.min_version],
      ...(t.max_version !== undefined ? { maxVersion: NODE_TLS_VERSIONS[t.max_version] } : {}),
    });
  } catch (e) {
    // OpenSSL's messages name the failing decoder, never the PEM text.
    tlsConfigError = `invalid TLS configuration: ${e instanceof Error ? e.message : String(e)}`;
  }
  const httpsAgent = new https.Agent({
    keepAlive: true,
    ...(secureContext !== undefined ? { secureContext } : {}),
    // Like Go's InsecureSkipVerify this skips both the chain and the host name check.
    rejectUnauthorized: !t.insecure_skip_verify,
    // node both sends `servername` as SNI and checks the certificate against it.
    ...(t.server_name !== undefined && t.server_name !== '' ? { servername: t.server_name } : {}),
  });
  return { httpAgent, httpsAgent, tlsConfigError };
}

/** The Authorization header value the config asks for, or undefined when it configures no auth. */
export function authorizationHeader(cfg: HTTPClientConfig): string | undefined {
  if (cfg.basic_auth !== undefined) {
    const { username, password } = cfg.basic_auth;
    return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  }
  if (cfg.authorization !== undefined) return `${cfg.authorization.type} ${cfg.authorization.credentials}`;
  return undefined;
}

/** The URL without `user:pass@`, for messages. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    // Not a URL, but it may still hold credentials in the usual place.
    return raw.replace(/\/\/[^/?#]*@/, '//');
  }
}

/** node's `err.code`, or '' when there is none. */
export function errorCode(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return typeof code === 'string' ? code : '';
}

/** What went wrong below HTTP. */
export type NetworkErrorKind = 'connection_refused' | 'dns' | 'tls' | 'connection';

/** Sorts a connection-level error into a kind, with a message that keeps node's code for searching. */
export function classifyNetworkError(err: Error): { kind: NetworkErrorKind; detail: string } {
  const code = errorCode(err);
  // node appends advice for its own command line after a semicolon ("try running Node.js with ..."), which
  // means nothing to someone running the appliance.
  const message = err.message.split('; ')[0] ?? err.message;
  const withCode = code !== '' && !message.includes(code) ? `${message} (${code})` : message;
  if (code === 'ECONNREFUSED') return { kind: 'connection_refused', detail: withCode };
  if (DNS_CODES.has(code)) return { kind: 'dns', detail: withCode };
  if (UNKNOWN_AUTHORITY_CODES.has(code)) {
    return { kind: 'tls', detail: `tls: certificate signed by unknown authority (${code}: ${message})` };
  }
  // OpenSSL failures during a socket read or write arrive as EPROTO with OpenSSL's error string as message;
  // its reason field ("tlsv1 alert protocol version") is the part worth showing.
  const openssl = OPENSSL_ERROR_RE.exec(err.message);
  if (openssl !== null) return { kind: 'tls', detail: `tls: ${openssl[1]} (${code || 'openssl'})` };
  const opensslError = 'library' in err || code === 'EPROTO';
  if (
    CERT_VERIFY_CODES.has(code) ||
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_OSSL_') ||
    opensslError ||
    // The server hung up during the handshake, typically because it wants a client certificate.
    err.message.includes('before secure TLS connection was established')
  ) {
    return { kind: 'tls', detail: `tls: ${withCode}` };
  }
  return { kind: 'connection', detail: withCode };
}
