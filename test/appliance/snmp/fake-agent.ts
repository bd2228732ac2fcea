// A tiny hostile SNMP v1/v2c agent on a loopback UDP port, for the failure cases real agents will not produce:
// it decodes just enough BER to read a request and answers with whatever bytes the test's handler crafts.
import dgram from 'node:dgram';

export interface DecodedRequest {
  readonly version: number;
  readonly community: string;
  /** 0xa0 get, 0xa1 getnext, 0xa5 getbulk. */
  readonly pduType: number;
  readonly requestId: number;
  /** nonRepeaters (getbulk) or errorStatus. */
  readonly field2: number;
  /** maxRepetitions (getbulk) or errorIndex. */
  readonly field3: number;
  readonly oids: readonly string[];
}

// ----- BER encoding -----------------------------------------------------------------------------------------

function len(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | bytes.length, ...bytes];
}

export function tlv(tag: number, content: readonly number[] | Uint8Array): number[] {
  return [tag, ...len(content.length), ...content];
}

export function berInt(v: number | bigint, tag = 0x02): number[] {
  let x = BigInt(v);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(x & 0xffn));
    x >>= 8n;
  } while (x !== 0n && x !== -1n);
  // Keep the sign bit right: positive values whose top bit is set need a leading 0x00.
  if (BigInt(v) >= 0n && (bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  if (BigInt(v) < 0n && (bytes[0]! & 0x80) === 0) bytes.unshift(0xff);
  return tlv(tag, bytes);
}

/** An unsigned application type (Counter32 0x41, Gauge32 0x42, TimeTicks 0x43, Counter64 0x46). */
export function berUnsigned(v: number | bigint, tag: number): number[] {
  let x = BigInt(v);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(x & 0xffn));
    x >>= 8n;
  } while (x > 0n);
  if ((bytes[0]! & 0x80) !== 0) bytes.unshift(0);
  return tlv(tag, bytes);
}

export function berOid(oid: string): number[] {
  const p = oid.split('.').map(Number);
  const out = [p[0]! * 40 + p[1]!];
  for (const n of p.slice(2)) {
    const b: number[] = [n & 0x7f];
    let x = Math.floor(n / 128);
    while (x > 0) {
      b.unshift((x & 0x7f) | 0x80);
      x = Math.floor(x / 128);
    }
    out.push(...b);
  }
  return tlv(0x06, out);
}

export function berStr(s: string | Uint8Array, tag = 0x04): number[] {
  return tlv(tag, typeof s === 'string' ? [...Buffer.from(s)] : s);
}

export const seq = (...parts: number[][]): number[] => tlv(0x30, parts.flat());

export type VarbindValue = number[];
export const v = {
  int: (n: number) => berInt(n),
  str: (s: string | Uint8Array) => berStr(s),
  oid: (o: string) => berOid(o),
  counter32: (n: number) => berUnsigned(n, 0x41),
  gauge32: (n: number) => berUnsigned(n, 0x42),
  ticks: (n: number) => berUnsigned(n, 0x43),
  counter64: (n: bigint) => berUnsigned(n, 0x46),
  opaque: (b: number[]) => tlv(0x44, b),
  noSuchObject: () => [0x80, 0x00],
  noSuchInstance: () => [0x81, 0x00],
  endOfMibView: () => [0x82, 0x00],
};

/** A complete v1/v2c response message. */
export function response(
  req: Pick<DecodedRequest, 'version' | 'community' | 'requestId'>,
  varbinds: readonly (readonly [string, VarbindValue])[],
  errorStatus = 0,
  errorIndex = 0,
): Buffer {
  const vbl = seq(...varbinds.map(([oid, val]) => seq(berOid(oid), val)));
  const pdu = tlv(0xa2, [...berInt(req.requestId), ...berInt(errorStatus), ...berInt(errorIndex), ...vbl]);
  return Buffer.from(seq(berInt(req.version), berStr(req.community), pdu));
}

// ----- BER decoding (requests only) -------------------------------------------------------------------------

function readTlv(b: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = b[at]!;
  let l = b[at + 1]!;
  let start = at + 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    l = 0;
    for (let i = 0; i < n; i++) l = l * 256 + b[start + i]!;
    start += n;
  }
  return { tag, start, end: start + l };
}

function readInt(b: Buffer, t: { start: number; end: number }): number {
  let x = 0;
  for (let i = t.start; i < t.end; i++) x = x * 256 + b[i]!;
  if (t.end > t.start && b[t.start]! & 0x80) x -= 2 ** (8 * (t.end - t.start));
  return x;
}

function readOid(b: Buffer, t: { start: number; end: number }): string {
  const first = b[t.start]!;
  const parts = [Math.floor(first / 40), first % 40];
  let x = 0;
  for (let i = t.start + 1; i < t.end; i++) {
    x = x * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(x);
      x = 0;
    }
  }
  return parts.join('.');
}

export function decodeRequest(b: Buffer): DecodedRequest {
  const msg = readTlv(b, 0);
  const ver = readTlv(b, msg.start);
  const com = readTlv(b, ver.end);
  const pdu = readTlv(b, com.end);
  const rid = readTlv(b, pdu.start);
  const f2 = readTlv(b, rid.end);
  const f3 = readTlv(b, f2.end);
  const vbl = readTlv(b, f3.end);
  const oids: string[] = [];
  let at = vbl.start;
  while (at < vbl.end) {
    const vb = readTlv(b, at);
    oids.push(readOid(b, readTlv(b, vb.start)));
    at = vb.end;
  }
  return {
    version: readInt(b, ver),
    community: b.subarray(com.start, com.end).toString(),
    pduType: pdu.tag,
    requestId: readInt(b, rid),
    field2: readInt(b, f2),
    field3: readInt(b, f3),
    oids,
  };
}

/** What the handler returns: datagrams to send back (none = stay silent). */
export type Handler = (req: DecodedRequest, raw: Buffer) => Buffer[] | Promise<Buffer[]>;

export interface FakeAgent {
  readonly port: number;
  readonly address: string;
  /** Requests received so far. */
  readonly requests: DecodedRequest[];
  close(): Promise<void>;
}

export function startFakeAgent(handler: Handler): Promise<FakeAgent> {
  const sock = dgram.createSocket('udp4');
  const requests: DecodedRequest[] = [];
  let closed = false;
  sock.on('message', (msg, rinfo) => {
    let req: DecodedRequest;
    try {
      req = decodeRequest(msg);
    } catch {
      return;
    }
    requests.push(req);
    void Promise.resolve(handler(req, msg)).then((outs) => {
      // A delayed answer may come after the test closed the agent: drop it.
      if (closed) return;
      for (const out of outs) sock.send(out, rinfo.port, rinfo.address);
    });
  });
  return new Promise((resolve) => {
    sock.bind(0, '127.0.0.1', () => {
      const port = sock.address().port;
      resolve({
        port,
        address: `127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((r) => {
            closed = true;
            sock.close(() => r());
          }),
      });
    });
  });
}

/**
 * A well-behaved handler over a sorted table of OIDs: GET, GETNEXT and GETBULK with endOfMibView at the end.
 * Useful as the base that hostile handlers distort.
 */
export function tableHandler(table: ReadonlyMap<string, VarbindValue>): Handler {
  const keys = [...table.keys()].sort(cmp);
  const next = (oid: string): string | undefined => keys.find((k) => cmp(k, oid) > 0);
  return (req) => {
    const vbs: [string, VarbindValue][] = [];
    if (req.pduType === 0xa0) {
      for (const o of req.oids) vbs.push([o, table.get(o) ?? v.noSuchInstance()]);
    } else if (req.pduType === 0xa1) {
      for (const o of req.oids) {
        const n = next(o);
        vbs.push(n ? [n, table.get(n)!] : [o, v.endOfMibView()]);
      }
    } else if (req.pduType === 0xa5) {
      let cur = req.oids[0]!;
      for (let i = 0; i < Math.max(1, req.field3); i++) {
        const n = next(cur);
        if (!n) {
          vbs.push([cur, v.endOfMibView()]);
          break;
        }
        vbs.push([n, table.get(n)!]);
        cur = n;
      }
    }
    return [response(req, vbs)];
  };
}

export function cmp(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
