import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SnmpAuth } from '../../../appliance/config/snmp.ts';
import { DEFAULT_SNMP_AUTH } from '../../../appliance/config/snmp.ts';
import type { WalkPlan } from '../../../appliance/snmp/client.ts';
import {
  compareOids,
  counter64FromBytes,
  parseSnmpTarget,
  runWalk,
  SnmpError,
  varbindToPdu,
} from '../../../appliance/snmp/client.ts';
import type { FakeAgent, VarbindValue } from './fake-agent.ts';
import { response, startFakeAgent, tableHandler, v } from './fake-agent.ts';

const auth: SnmpAuth = { ...DEFAULT_SNMP_AUTH, community: 'c0mmunity-secret' };
const fast = { max_repetitions: 5, retries: 1, timeout: 150, allow_nonincreasing_oids: false };

function plan(p: Partial<WalkPlan>): WalkPlan {
  return { get: [], walk: [], params: fast, walkLimit: 1000, ...p };
}

function table(n: number, root = '1.3.6.1.2.1.2.2.1.2'): Map<string, VarbindValue> {
  const t = new Map<string, VarbindValue>();
  for (let i = 1; i <= n; i++) t.set(`${root}.${i}`, v.str(`port${i}`));
  t.set('1.3.6.1.2.1.1.5.0', v.str('fake'));
  t.set('1.3.6.1.9.9', v.int(1)); // after the walked subtree
  return t;
}

const agents: FakeAgent[] = [];
async function agent(h: Parameters<typeof startFakeAgent>[0]): Promise<FakeAgent> {
  const a = await startFakeAgent(h);
  agents.push(a);
  return a;
}
after(async () => {
  for (const a of agents) await a.close();
});

async function rejects(p: Promise<unknown>, kind: string, re?: RegExp): Promise<SnmpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SnmpError, `expected SnmpError, got ${String(err)}`);
    assert.equal(err.kind, kind, err.message);
    if (re) assert.match(err.message, re);
    assert.doesNotMatch(err.message, /c0mmunity-secret/);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('parseSnmpTarget', () => {
  it('reads host:port, bare hosts, IPv6 and rejects garbage', () => {
    assert.deepEqual(parseSnmpTarget('10.0.0.1:1161'), { host: '10.0.0.1', port: 1161, transport: 'udp4' });
    assert.deepEqual(parseSnmpTarget('sw1'), { host: 'sw1', port: 161, transport: 'udp4' });
    assert.deepEqual(parseSnmpTarget('[::1]:16161'), { host: '::1', port: 16161, transport: 'udp6' });
    assert.deepEqual(parseSnmpTarget('udp6://[fe80::1]'), { host: 'fe80::1', port: 161, transport: 'udp6' });
    for (const bad of ['', 'a:99999', 'host:0', 'a b:1', 'x:-1', 'http://x/y']) {
      assert.throws(() => parseSnmpTarget(bad), SnmpError, bad);
    }
  });
});

describe('value conversion', () => {
  it('reads Counter64 bytes exactly, beyond 2^53', () => {
    assert.equal(counter64FromBytes(Buffer.from('0020000000000001', 'hex')), 9007199254740993n);
    assert.equal(counter64FromBytes(Buffer.from('00ffffffffffffffff', 'hex')), 18446744073709551615n);
    // A hostile 10-byte "Counter64" wraps at 64 bits instead of growing without bound.
    assert.equal(counter64FromBytes(Buffer.from('01020000000000000005', 'hex')), 5n);
    assert.equal(counter64FromBytes(new Uint8Array()), 0n);
  });
  it('converts varbinds and drops unknown types', () => {
    assert.deepEqual(varbindToPdu({ oid: '1.2', type: 70, value: Buffer.from([1, 0]) }), {
      oid: '1.2',
      type: 'Counter64',
      value: 256n,
    });
    assert.equal(varbindToPdu({ oid: '1.2', type: 128, value: null }), null);
    assert.deepEqual(varbindToPdu({ oid: '1', type: 1, value: true }), {
      oid: '1',
      type: 'Boolean',
      value: 1,
    });
  });
  it('compares OIDs numerically', () => {
    assert.ok(compareOids('1.3.6.10', '1.3.6.9') > 0);
    assert.ok(compareOids('1.3.6', '1.3.6.0') < 0);
    assert.equal(compareOids('1.3', '1.3'), 0);
  });
});

describe('runWalk against a fake agent', () => {
  it('walks a subtree with GETBULK and gets scalars, stopping at the subtree end', async () => {
    const a = await agent(tableHandler(table(12)));
    const r = await runWalk(
      { host: '127.0.0.1', port: a.port, auth },
      plan({ get: ['1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.1.6.0'], walk: ['1.3.6.1.2.1.2.2.1.2'] }),
      AbortSignal.timeout(5000),
    );
    // sysLocation is noSuchInstance: skipped, as snmp_exporter does.
    assert.deepEqual(
      r.pdus.map((p) => p.oid),
      ['1.3.6.1.2.1.1.5.0', ...Array.from({ length: 12 }, (_, i) => `1.3.6.1.2.1.2.2.1.2.${i + 1}`)],
    );
    const bulks = a.requests.filter((q) => q.pduType === 0xa5);
    assert.equal(bulks.length, 3); // 5 + 5 + 2 rows, the last response leaves the subtree
    assert.ok(bulks.every((q) => q.field3 === 5 && q.community === 'c0mmunity-secret'));
  });

  it('uses GETNEXT for SNMP v1', async () => {
    const a = await agent(tableHandler(table(3)));
    const r = await runWalk(
      { host: '127.0.0.1', port: a.port, auth: { ...auth, version: 1 } },
      plan({ walk: ['1.3.6.1.2.1.2.2.1.2'] }),
      AbortSignal.timeout(5000),
    );
    assert.equal(r.pdus.length, 3);
    assert.ok(a.requests.every((q) => q.pduType === 0xa1 && q.version === 0));
  });

  it('ends a walk at endOfMibView and at noSuchObject', async () => {
    const t = table(2);
    t.delete('1.3.6.1.9.9');
    const a = await agent(tableHandler(t));
    const r = await runWalk(
      { host: '127.0.0.1', port: a.port, auth },
      plan({ walk: ['1.3.6.1.2.1.2.2.1.2'] }),
      AbortSignal.timeout(5000),
    );
    assert.equal(r.pdus.length, 2);
    const b = await agent((req) => [response(req, [[req.oids[0]!, v.noSuchObject()]])]);
    const r2 = await runWalk(
      { host: '127.0.0.1', port: b.port, auth },
      plan({ walk: ['1.3.6.1.4'] }),
      AbortSignal.timeout(5000),
    );
    assert.equal(r2.pdus.length, 0);
  });

  it('times out on a silent agent and says a wrong community looks the same', async () => {
    const a = await agent(() => []);
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: a.port, auth },
        plan({ get: ['1.3.6.1.2.1.1.5.0'] }),
        AbortSignal.timeout(5000),
      ),
      'timeout',
      /no response from 127\.0\.0\.1:\d+ after 2 tries of 150ms.*wrong community/,
    );
    assert.equal(a.requests.length, 2); // one retry
  });

  it('reports malformed and truncated responses instead of crashing', async () => {
    for (const bad of [
      () => Buffer.from('not snmp at all'),
      (req: Parameters<typeof response>[0]) =>
        response(req, [['1.3.6.1.2.1.1.5.0', v.str('x')]]).subarray(0, 20),
      () => Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02]), // absurd length
    ]) {
      const a = await agent((req) => [bad(req)]);
      await rejects(
        runWalk(
          { host: '127.0.0.1', port: a.port, auth },
          plan({ get: ['1.3.6.1.2.1.1.5.0'] }),
          AbortSignal.timeout(5000),
        ),
        'invalid_response',
        /not valid SNMP/,
      );
    }
  });

  it('ignores answers to other requests and refuses answers with another community', async () => {
    const a = await agent((req) => [
      response({ ...req, requestId: req.requestId + 1 }, [['1.3.6.1.2.1.1.5.0', v.str('x')]]),
    ]);
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: a.port, auth },
        plan({ get: ['1.3.6.1.2.1.1.5.0'] }),
        AbortSignal.timeout(5000),
      ),
      'timeout',
    );
    const b = await agent((req) => [
      response({ ...req, community: 'other' }, [['1.3.6.1.2.1.1.5.0', v.str('x')]]),
    ]);
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: b.port, auth },
        plan({ get: ['1.3.6.1.2.1.1.5.0'] }),
        AbortSignal.timeout(5000),
      ),
      'invalid_response',
      /invalid response from 127\.0\.0\.1:\d+: the community in the response does not match/,
    );
  });

  it('copes with oversized answers: far more rows than asked, huge values, an absurd Counter64', async () => {
    const root = '1.3.6.1.2.1.2.2.1.2';
    const big = 'x'.repeat(60_000);
    let n = 0;
    const a = await agent((req) => {
      if (n++ > 0) return [response(req, [['1.3.6.1.9', v.int(0)]])];
      const rows: [string, number[]][] = Array.from(
        { length: 200 },
        (_, i) => [`${root}.${i + 1}`, v.int(i)] as [string, number[]],
      );
      rows.push([`${root}.1000`, v.str(big)], [`${root}.1001`, [0x46, 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 7]]);
      return [response(req, rows)];
    });
    const r = await runWalk(
      { host: '127.0.0.1', port: a.port, auth },
      plan({ walk: [root] }),
      AbortSignal.timeout(5000),
    );
    assert.equal(r.pdus.length, 202);
    assert.equal((r.pdus[200]!.value as Uint8Array).length, 60_000);
    assert.equal(r.pdus[201]!.value, 7n);
  });

  it('detects an agent that loops (non-increasing OIDs) and one that repeats forever', async () => {
    const root = '1.3.6.1.2.1.2.2.1.2';
    const a = await agent((req) => [
      response(req, [
        [`${root}.5`, v.str('a')],
        [`${root}.3`, v.str('b')],
      ]),
    ]);
    await rejects(
      runWalk({ host: '127.0.0.1', port: a.port, auth }, plan({ walk: [root] }), AbortSignal.timeout(5000)),
      'loop',
      /returned OID 1\.3\.6\.1\.2\.1\.2\.2\.1\.2\.3 after 1\.3\.6\.1\.2\.1\.2\.2\.1\.2\.5/,
    );
    // With allow_nonincreasing_oids an agent that keeps answering the same OID is still stopped.
    const b = await agent((req) => [response(req, [[`${root}.1`, v.str('a')]])]);
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: b.port, auth },
        plan({ walk: [root], params: { ...fast, allow_nonincreasing_oids: true } }),
        AbortSignal.timeout(5000),
      ),
      'loop',
    );
  });

  it('stops a huge table at the walk limit', async () => {
    const root = '1.3.6.1.2.1.2.2.1.2';
    // An endless table: every answer is the next row.
    const a = await agent((req) => {
      const last = Number(req.oids[0]!.split('.').pop());
      const base = req.oids[0] === root ? 0 : last;
      return [
        response(
          req,
          Array.from({ length: req.field3 }, (_, i) => [`${root}.${base + i + 1}`, v.int(i)] as const),
        ),
      ];
    });
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: a.port, auth },
        plan({ walk: [root], walkLimit: 40 }),
        AbortSignal.timeout(5000),
      ),
      'walk_limit',
      /more than 40 PDUs/,
    );
  });

  it('ends a slow walk at the deadline with a clear error saying how far it got', async () => {
    const root = '1.3.6.1.2.1.2.2.1.2';
    const h = tableHandler(table(50));
    const a = await agent(async (req, raw) => {
      await new Promise((r) => setTimeout(r, 60));
      return h(req, raw);
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('scrape timed out after 200ms')), 200);
    const err = await rejects(
      runWalk(
        { host: '127.0.0.1', port: a.port, auth },
        plan({ walk: [root], params: { ...fast, max_repetitions: 2, timeout: 1000 } }),
        ac.signal,
      ),
      'timeout',
      /did not finish: scrape timed out after 200ms \(walking 1\.3\.6\.1\.2\.1\.2\.2\.1\.2 at .* PDUs so far\)/,
    );
    assert.ok(err);
  });

  it('reports agent error statuses', async () => {
    const a = await agent((req) => [response(req, [[req.oids[0]!, [0x05, 0x00]]], 5, 1)]);
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: a.port, auth },
        plan({ get: ['1.3.6.1.2.1.1.5.0'] }),
        AbortSignal.timeout(5000),
      ),
      'agent_error',
      /GeneralError/i,
    );
    const b = await agent((req) => [response(req, [[req.oids[0]!, [0x05, 0x00]]], 16, 1)]);
    await rejects(
      runWalk(
        { host: '127.0.0.1', port: b.port, auth },
        plan({ get: ['1.3.6.1.2.1.1.5.0'] }),
        AbortSignal.timeout(5000),
      ),
      'auth',
      /refused access/,
    );
  });

  it('returns exact Counter64 and other types', async () => {
    const t = new Map<string, VarbindValue>([
      ['1.3.6.1.2.1.31.1.1.1.6.1', v.counter64(18446744073709551615n)],
      ['1.3.6.1.2.1.31.1.1.1.6.2', v.counter64(9007199254740993n)],
      ['1.3.6.1.2.1.31.1.1.1.6.3', v.counter32(4294967295)],
      ['1.3.6.1.2.1.31.1.1.1.6.4', v.ticks(100)],
      ['1.3.6.1.2.1.31.1.1.1.6.5', v.oid('1.3.6.1.4.1.9')],
      ['1.3.6.1.2.1.31.1.1.1.6.6', v.opaque([0x9f, 0x78, 0x04, 0x3f, 0xc0, 0x00, 0x00])],
    ]);
    const a = await agent(tableHandler(t));
    const r = await runWalk(
      { host: '127.0.0.1', port: a.port, auth },
      plan({ walk: ['1.3.6.1.2.1.31.1.1.1.6'] }),
      AbortSignal.timeout(5000),
    );
    assert.deepEqual(
      r.pdus.map((p) => [p.type, p.value instanceof Uint8Array ? [...p.value] : p.value]),
      [
        ['Counter64', 18446744073709551615n],
        ['Counter64', 9007199254740993n],
        ['Counter32', 4294967295],
        ['TimeTicks', 100],
        ['OID', '1.3.6.1.4.1.9'],
        ['Opaque', [0x9f, 0x78, 0x04, 0x3f, 0xc0, 0x00, 0x00]],
      ],
    );
  });
});
