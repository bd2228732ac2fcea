// The SNMP wire side, on npm net-snmp: one session per walk (as snmp_exporter does), GETs in batches, subtree
// walks with GETBULK (GETNEXT for v1), our own loop and size checks, and net-snmp's failures turned into typed
// errors with a short reason. net-snmp handles v3 engine discovery and time sync itself: the first request of
// a v3 session is preceded by a discovery request, so a v3 walk costs one extra round trip.

import * as snmp from 'net-snmp';
import type { SnmpAuth } from '../config/snmp.ts';
import type { Pdu, PduType } from './mapping.ts';
import type { WalkParams } from './module.ts';

/**
 * Why an SNMP collection failed. `timeout`: no answer (with v1/v2c a wrong community is indistinguishable,
 * agents stay silent); `auth`: v3 credentials refused, or the agent refused access; `loop`: the agent returned
 * OIDs that do not increase; `walk_limit`: a subtree returned more PDUs than allowed; `invalid_response`: the
 * agent answered with something that is not valid SNMP; `agent_error`: the agent reported an error status;
 * `unreachable`: the request could not be sent.
 */
export type SnmpErrorKind =
  'timeout' | 'auth' | 'loop' | 'walk_limit' | 'invalid_response' | 'agent_error' | 'unreachable' | 'other';

/** A failed collection; `message` names the target and what failed, never a community or passphrase. */
export class SnmpError extends Error {
  override readonly name = 'SnmpError';
  readonly kind: SnmpErrorKind;
  constructor(kind: SnmpErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

/** Where and how to talk to one agent. */
export interface SnmpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly auth: SnmpAuth;
}

export interface WalkPlan {
  readonly get: readonly string[];
  readonly walk: readonly string[];
  readonly params: WalkParams;
  /** Most PDUs one subtree may return. */
  readonly walkLimit: number;
}

export interface WalkResult {
  readonly pdus: Pdu[];
  /** Requests sent (not counting retries and v3 discovery). */
  readonly requests: number;
}

/** Parses "host:port", "[v6]:port", "host" (port 161), optionally prefixed "udp://" or "udp6://". */
export function parseSnmpTarget(target: string): { host: string; port: number; transport: 'udp4' | 'udp6' } {
  let t = target.trim();
  let transport: 'udp4' | 'udp6' = 'udp4';
  const scheme = /^(udp|udp6):\/\//.exec(t);
  if (scheme) {
    if (scheme[1] === 'udp6') transport = 'udp6';
    t = t.slice(scheme[0].length);
  }
  let host = t;
  let port = 161;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  if (v6) {
    host = v6[1]!;
    transport = 'udp6';
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else if (/^[^:]+:\d+$/.test(t)) {
    const i = t.lastIndexOf(':');
    host = t.slice(0, i);
    port = Number(t.slice(i + 1));
  } else if (t.includes(':') && !/^[^:]+$/.test(t)) {
    if (/^[0-9a-fA-F:]+$/.test(t)) transport = 'udp6';
    else throw new SnmpError('other', `invalid target ${JSON.stringify(target.slice(0, 100))}`);
  }
  if (host === '' || !/^[A-Za-z0-9._:%-]+$/.test(host) || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new SnmpError(
      'other',
      `invalid target ${JSON.stringify(target.slice(0, 100))}: expected HOST:PORT`,
    );
  return { host, port, transport };
}

const TYPE_NAMES: Readonly<Record<number, PduType>> = {
  1: 'Boolean',
  2: 'Integer',
  3: 'BitString',
  4: 'OctetString',
  5: 'Null',
  6: 'OID',
  64: 'IpAddress',
  65: 'Counter32',
  66: 'Gauge32',
  67: 'TimeTicks',
  68: 'Opaque',
  70: 'Counter64',
};

const NO_SUCH_OBJECT: snmp.ObjectType = snmp.ObjectType.NoSuchObject;
const NO_SUCH_INSTANCE: snmp.ObjectType = snmp.ObjectType.NoSuchInstance;
const END_OF_MIB_VIEW: snmp.ObjectType = snmp.ObjectType.EndOfMibView;

/** Counter64 arrives from net-snmp as big-endian bytes; read them exactly (wrapping at 64 bits, as the type does). */
export function counter64FromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const byte of b) v = ((v << 8n) | BigInt(byte)) & 0xffffffffffffffffn;
  return v;
}

/** Converts one net-snmp varbind to our plain PDU, or null for exception values and unknown types. */
export function varbindToPdu(vb: snmp.Varbind): Pdu | null {
  const type = vb.type === undefined ? undefined : TYPE_NAMES[vb.type];
  if (type === undefined) return null;
  const v = vb.value;
  switch (type) {
    case 'Boolean':
      return { oid: vb.oid, type, value: v ? 1 : 0 };
    case 'Integer':
    case 'Counter32':
    case 'Gauge32':
    case 'TimeTicks':
      return { oid: vb.oid, type, value: typeof v === 'number' ? v : Number(v ?? 0) };
    case 'Counter64':
      if (typeof v === 'bigint') return { oid: vb.oid, type, value: v & 0xffffffffffffffffn };
      if (typeof v === 'number') return { oid: vb.oid, type, value: BigInt(Math.trunc(v)) };
      return { oid: vb.oid, type, value: Buffer.isBuffer(v) ? counter64FromBytes(v) : 0n };
    case 'OctetString':
    case 'Opaque':
    case 'BitString':
      return {
        oid: vb.oid,
        type,
        value: Buffer.isBuffer(v) ? new Uint8Array(v) : Buffer.from(String(v ?? '')),
      };
    case 'OID':
    case 'IpAddress':
      return { oid: vb.oid, type, value: String(v ?? '') };
    case 'Null':
      return { oid: vb.oid, type, value: null };
  }
}

/** Compares dotted numeric OIDs numerically; negative when a < b. */
export function compareOids(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function isUnder(root: string, oid: string): boolean {
  return oid.startsWith(root + '.');
}

const AUTH_PROTOCOLS: Readonly<Record<SnmpAuth['auth_protocol'], snmp.AuthProtocols>> = {
  MD5: snmp.AuthProtocols.md5,
  SHA: snmp.AuthProtocols.sha,
  SHA224: snmp.AuthProtocols.sha224,
  SHA256: snmp.AuthProtocols.sha256,
  SHA384: snmp.AuthProtocols.sha384,
  SHA512: snmp.AuthProtocols.sha512,
};

const PRIV_PROTOCOLS: Readonly<Record<SnmpAuth['priv_protocol'], snmp.PrivProtocols>> = {
  DES: snmp.PrivProtocols.des,
  AES: snmp.PrivProtocols.aes,
  AES256: snmp.PrivProtocols.aes256b,
  AES256C: snmp.PrivProtocols.aes256r,
};

const SECURITY_LEVELS: Readonly<Record<SnmpAuth['security_level'], snmp.SecurityLevel>> = {
  noAuthNoPriv: snmp.SecurityLevel.noAuthNoPriv,
  authNoPriv: snmp.SecurityLevel.authNoPriv,
  authPriv: snmp.SecurityLevel.authPriv,
};

function openSession(ep: SnmpEndpoint, params: WalkParams, transport: 'udp4' | 'udp6'): snmp.Session {
  const common = {
    port: ep.port,
    transport,
    retries: params.retries,
    timeout: params.timeout,
    backoff: 1,
    // We check OID order ourselves, to report loops with context and to honour allow_nonincreasing_oids.
    backwardsGetNexts: true,
    reportOidMismatchErrors: false,
  };
  const a = ep.auth;
  if (a.version === 3) {
    const user: snmp.User = { name: a.username, level: SECURITY_LEVELS[a.security_level] };
    if (a.security_level !== 'noAuthNoPriv') {
      user.authProtocol = AUTH_PROTOCOLS[a.auth_protocol];
      user.authKey = a.password;
    }
    if (a.security_level === 'authPriv') {
      user.privProtocol = PRIV_PROTOCOLS[a.priv_protocol];
      user.privKey = a.priv_password;
    }
    return snmp.createV3Session(ep.host, user, { ...common, version: 3, context: a.context_name });
  }
  return snmp.createSession(ep.host, a.community, {
    ...common,
    version: a.version === 1 ? snmp.Version1 : snmp.Version2c,
  });
}

const USM_REASONS: Readonly<Record<string, string>> = {
  'Unsupported Security Level': 'the agent does not allow this security level for the user',
  'Not In Time Window': 'message outside the agent time window',
  'Unknown User Name': 'unknown user name',
  'Unknown Engine ID': 'unknown engine ID',
  'Wrong Digest (incorrect password, community or key)': 'wrong auth password or auth protocol',
  'Decryption Error': 'wrong priv password or priv protocol',
};

/** Runs one walk plan against one agent. Rejects with SnmpError; stops promptly when `signal` aborts. */
export async function runWalk(ep: SnmpEndpoint, plan: WalkPlan, signal: AbortSignal): Promise<WalkResult> {
  const { host, port } = ep;
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const transport = host.includes(':') ? 'udp6' : 'udp4';
  if (signal.aborted) throw abortError(signal, where, 'before the first request');
  const session = openSession(ep, plan.params, transport);
  let malformed = 0;
  // net-snmp emits 'error' for datagrams it cannot decode and drops them; without a listener that would throw.
  session.on('error', () => {
    malformed++;
  });
  let progress = 'before the first request';
  const onAbort = (): void => {
    session.close();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const tries = plan.params.retries + 1;
  const translate = (err: unknown): SnmpError => {
    if (signal.aborted) return abortError(signal, where, progress);
    return translateError(err, where, ep.auth, tries, plan.params.timeout, malformed);
  };
  const call = <T>(fn: (cb: (err: Error | null, v?: T) => void) => void): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      try {
        fn((err, v) => (err ? reject(translate(err)) : resolve(v as T)));
      } catch (err) {
        reject(translate(err));
      }
    });
  const pdus: Pdu[] = [];
  let requests = 0;
  const v1 = ep.auth.version === 1;
  try {
    // GETs in batches, as snmp_exporter: max_repetitions OIDs per request (one for v1, which fails whole PDUs).
    const batch = v1 ? 1 : Math.max(1, plan.params.max_repetitions);
    for (let i = 0; i < plan.get.length; i += batch) {
      const oids = plan.get.slice(i, i + batch);
      progress = `getting ${oids[0]}`;
      requests++;
      let vbs: snmp.Varbind[];
      try {
        vbs = await call<snmp.Varbind[]>((cb) => session.get([...oids], cb));
      } catch (err) {
        if (v1 && err instanceof SnmpError && err.kind === 'agent_error' && /NoSuchName/i.test(err.message))
          continue;
        throw err;
      }
      for (const vb of vbs ?? []) {
        if (vb.type === NO_SUCH_OBJECT || vb.type === NO_SUCH_INSTANCE || vb.type === END_OF_MIB_VIEW)
          continue;
        const p = varbindToPdu(vb);
        if (p) pdus.push(p);
      }
    }
    for (const root of plan.walk) {
      let cur = root;
      let count = 0;
      const maxRep = plan.params.max_repetitions > 0 ? plan.params.max_repetitions : 50;
      for (;;) {
        progress = `walking ${root} at ${cur} (${count} PDUs so far)`;
        requests++;
        let vbs: snmp.Varbind[];
        if (v1) {
          vbs = await call<snmp.Varbind[]>((cb) => session.getNext([cur], cb));
        } else {
          const res = await call<(snmp.Varbind | snmp.Varbind[])[]>((cb) =>
            session.getBulk([cur], 0, maxRep, cb),
          );
          const first = res?.[0];
          vbs = Array.isArray(first) ? first : first ? [first] : [];
        }
        if (vbs.length === 0) break;
        let done = false;
        for (const vb of vbs) {
          if (vb.type === END_OF_MIB_VIEW || vb.type === NO_SUCH_OBJECT || vb.type === NO_SUCH_INSTANCE) {
            done = true;
            break;
          }
          if (typeof vb.oid !== 'string' || !isUnder(root, vb.oid)) {
            done = true;
            break;
          }
          const order = compareOids(vb.oid, cur);
          if (order <= 0 && (!plan.params.allow_nonincreasing_oids || vb.oid === cur)) {
            throw new SnmpError(
              'loop',
              `agent ${where} returned OID ${vb.oid} after ${cur} while walking ${root}: OIDs not increasing (agent bug or loop)`,
            );
          }
          const p = varbindToPdu(vb);
          if (p) pdus.push(p);
          cur = vb.oid;
          if (++count > plan.walkLimit) {
            throw new SnmpError(
              'walk_limit',
              `walk of ${root} on ${where} returned more than ${plan.walkLimit} PDUs (walk_limit)`,
            );
          }
        }
        if (done) break;
        if (signal.aborted) throw abortError(signal, where, progress);
      }
    }
    return { pdus, requests };
  } finally {
    signal.removeEventListener('abort', onAbort);
    try {
      session.close();
    } catch {
      // Already closed by an abort.
    }
  }
}

function abortError(signal: AbortSignal, where: string, progress: string): SnmpError {
  const reason = signal.reason instanceof Error ? signal.reason.message : 'aborted';
  return new SnmpError('timeout', `SNMP walk of ${where} did not finish: ${reason} (${progress})`);
}

function translateError(
  err: unknown,
  where: string,
  auth: SnmpAuth,
  tries: number,
  timeoutMs: number,
  malformed: number,
): SnmpError {
  const e = err as { name?: string; message?: string; code?: unknown };
  const name = e?.name ?? '';
  const msg = String(e?.message ?? err);
  if (name === 'RequestTimedOutError') {
    if (malformed > 0) {
      return new SnmpError(
        'invalid_response',
        `agent ${where} sent ${malformed} response(s) that are not valid SNMP and no valid one within ${tries} tries of ${timeoutMs}ms`,
      );
    }
    const hint =
      auth.version !== 3
        ? ' (with SNMP v1/v2c a wrong community looks exactly like this: the agent stays silent)'
        : auth.security_level === 'authPriv'
          ? ' (with SNMP v3 authPriv a wrong priv password or priv protocol looks like this: the agent cannot decrypt and stays silent)'
          : '';
    return new SnmpError(
      'timeout',
      `request timed out: no response from ${where} after ${tries} tries of ${timeoutMs}ms${hint}`,
    );
  }
  if (name === 'ResponseInvalidError') {
    const usm = USM_REASONS[msg];
    if (usm) return new SnmpError('auth', `authentication failure at ${where}: ${usm}`);
    if (msg.startsWith('Authentication digest'))
      return new SnmpError(
        'auth',
        `authentication failure at ${where}: response digest does not match (wrong auth password?)`,
      );
    if (msg.startsWith('Failed to decrypt'))
      return new SnmpError(
        'auth',
        `authentication failure at ${where}: cannot decrypt the response (wrong priv password?)`,
      );
    if (msg.startsWith('Community'))
      return new SnmpError(
        'invalid_response',
        `invalid response from ${where}: the community in the response does not match the request`,
      );
    return new SnmpError(
      'invalid_response',
      `invalid response from ${where}: ${redact(msg, auth).slice(0, 200)}`,
    );
  }
  if (name === 'RequestFailedError') {
    if (/authorization|noAccess/i.test(msg))
      return new SnmpError(
        'auth',
        `agent ${where} refused access: ${redact(msg, auth).slice(0, 200)} (security level or view does not allow this)`,
      );
    return new SnmpError(
      'agent_error',
      `agent ${where} reported an error: ${redact(msg, auth).slice(0, 200)}`,
    );
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  if (
    code === 'ECONNREFUSED' ||
    code === 'EHOSTUNREACH' ||
    code === 'ENETUNREACH' ||
    code === 'ENOTFOUND' ||
    code === 'EAI_AGAIN'
  )
    return new SnmpError('unreachable', `cannot send to ${where}: ${code}`);
  return new SnmpError('other', `SNMP request to ${where} failed: ${redact(msg, auth).slice(0, 200)}`);
}

/** Library messages may quote what was sent; no credential may reach a log, page or error. */
function redact(msg: string, auth: SnmpAuth): string {
  let out = msg;
  for (const secret of [auth.community, auth.password, auth.priv_password]) {
    if (secret.length >= 3) out = out.split(secret).join('<secret>');
  }
  return out;
}
