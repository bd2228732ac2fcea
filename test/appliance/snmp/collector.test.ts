import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildSnmpConfig, DEFAULT_SNMP_AUTH } from '../../../appliance/config/snmp.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import { SnmpError } from '../../../appliance/snmp/client.ts';
import {
  buildSnmpRegistry,
  createSnmpCollector,
  Semaphore,
  SnmpCollector,
  SnmpRequestError,
} from '../../../appliance/snmp/collector.ts';
import { SnmpModuleError } from '../../../appliance/snmp/module.ts';
import type { FakeAgent, VarbindValue } from './fake-agent.ts';
import { startFakeAgent, tableHandler, v } from './fake-agent.ts';

const MODS = `
auths:
  file_auth: { community: fromfile }
modules:
  sys:
    retries: 0
    timeout: 2s
    get: [1.3.6.1.2.1.1.5.0]
    metrics:
    - { name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: name }
`;

const LEGACY = `
legacy:
  version: 2
  auth: { community: legacycomm }
  retries: 0
  get: [1.3.6.1.2.1.1.5.0]
  metrics:
  - { name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString }
`;

describe('buildSnmpRegistry', () => {
  it('merges built-ins, files and config auths; public_v2 exists by default', () => {
    const r = buildSnmpRegistry({ auths: { mine: { ...DEFAULT_SNMP_AUTH, community: 'x' } } }, [
      { path: 'a.yml', text: MODS },
      { path: 'b.yml', text: LEGACY },
    ]);
    assert.ok(r.modules.has('if_mib') && r.modules.has('sys') && r.modules.has('legacy'));
    assert.deepEqual([...r.auths.keys()].sort(), ['file_auth', 'mine', 'public_v2']);
  });

  it('refuses duplicates, naming both places', () => {
    assert.throws(
      () => buildSnmpRegistry({ auths: {} }, [{ path: 'a.yml', text: 'if_mib:\n  walk: []\n' }]),
      (e: Error) =>
        e instanceof SnmpModuleError &&
        /a\.yml: module "if_mib" is already defined \(built-in\)/.test(e.message),
    );
    assert.throws(
      () =>
        buildSnmpRegistry({ auths: {} }, [
          { path: 'a.yml', text: MODS },
          { path: 'b.yml', text: MODS },
        ]),
      /b\.yml: module "sys" is already defined \(a\.yml\)/,
    );
    assert.throws(
      () => buildSnmpRegistry({ auths: { file_auth: DEFAULT_SNMP_AUTH } }, [{ path: 'a.yml', text: MODS }]),
      /snmp\.auths\.file_auth: already defined in a\.yml/,
    );
  });
});

describe('Semaphore', () => {
  it('queues beyond its size and lets aborted waiters leave the queue', async () => {
    const s = new Semaphore(1);
    await s.acquire(new AbortController().signal);
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    const second = s.acquire(new AbortController().signal);
    assert.equal(s.waiting, 2);
    ac.abort(new Error('deadline'));
    await assert.rejects(waiting, /deadline/);
    assert.equal(s.waiting, 1);
    s.release();
    await second; // the aborted waiter did not take the slot
    s.release();
    await s.acquire(new AbortController().signal);
  });
});

describe('SnmpCollector', () => {
  const agents: FakeAgent[] = [];
  after(async () => {
    for (const a of agents) await a.close();
  });
  const table = new Map<string, VarbindValue>([['1.3.6.1.2.1.1.5.0', v.str('fake-sw')]]);

  function collector(max = 4, perDevice = 1): SnmpCollector {
    return new SnmpCollector({
      registry: buildSnmpRegistry({ auths: {} }, [
        { path: 'a.yml', text: MODS },
        { path: 'b.yml', text: LEGACY },
      ]),
      maxConcurrentWalks: max,
      maxConcurrentWalksPerDevice: perDevice,
      walkLimit: 1000,
      logger: silentLogger,
    });
  }

  it('rejects unknown modules, auths and bad targets before sending anything', () => {
    const c = collector();
    assert.throws(
      () => c.resolve({ target: '127.0.0.1:1', modules: ['nope'] }),
      new SnmpRequestError("Unknown module 'nope'"),
    );
    assert.throws(
      () => c.resolve({ target: '127.0.0.1:1', modules: ['sys'], auth: 'nope' }),
      /Unknown auth 'nope'/,
    );
    assert.throws(() => c.resolve({ target: '127.0.0.1:1', modules: [] }), /no module/);
    assert.throws(() => c.resolve({ target: 'bad target', modules: ['sys'] }), SnmpRequestError);
  });

  it('picks the named auth, else the module own (0.21), else public_v2', async () => {
    const seen: string[] = [];
    const h = tableHandler(table);
    const a = await startFakeAgent((req, raw) => {
      seen.push(req.community);
      return h(req, raw);
    });
    agents.push(a);
    const c = collector();
    const ok = AbortSignal.timeout(5000);
    await c.collect({ target: a.address, modules: ['sys'] }, ok);
    await c.collect({ target: a.address, modules: ['sys'], auth: 'file_auth' }, ok);
    await c.collect({ target: a.address, modules: ['legacy'] }, ok);
    const r = await c.collect({ target: a.address, modules: ['legacy'], auth: 'file_auth' }, ok);
    assert.deepEqual(seen, ['public', 'fromfile', 'legacycomm', 'fromfile']);
    assert.deepEqual(r.series, [{ name: 'sysName', labels: { sysName: 'fake-sw' }, value: 1 }]);
  });

  it('merges several modules and names the module in errors', async () => {
    const a = await startFakeAgent(tableHandler(table));
    agents.push(a);
    const c = collector();
    const r = await c.collect({ target: a.address, modules: ['sys', 'system'] }, AbortSignal.timeout(5000));
    assert.ok(r.series.some((s) => s.name === 'sysName'));
    assert.equal(r.series.filter((s) => s.name === 'sysName').length, 2); // both modules read it
    const silent = await startFakeAgent(() => []);
    agents.push(silent);
    await assert.rejects(
      c.collect({ target: silent.address, modules: ['sys'] }, AbortSignal.timeout(5000)),
      (e: Error) =>
        e instanceof SnmpError && e.kind === 'timeout' && /^module sys: request timed out/.test(e.message),
    );
  });

  it('bounds concurrent walks per device and overall', async () => {
    let inFlight = 0;
    let peak = 0;
    const h = tableHandler(table);
    const a = await startFakeAgent(async (req, raw) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      return h(req, raw);
    });
    agents.push(a);
    const c = collector(8, 1);
    await Promise.all(
      Array.from({ length: 5 }, () =>
        c.collect({ target: a.address, modules: ['sys'] }, AbortSignal.timeout(5000)),
      ),
    );
    assert.equal(peak, 1, 'one walk at a time per device');

    // Overall: 6 devices (ports), limit 2.
    let overallInFlight = 0;
    let overallPeak = 0;
    const devices: FakeAgent[] = [];
    for (let i = 0; i < 6; i++) {
      const d = await startFakeAgent(async (req, raw) => {
        overallInFlight++;
        overallPeak = Math.max(overallPeak, overallInFlight);
        await new Promise((r) => setTimeout(r, 30));
        overallInFlight--;
        return h(req, raw);
      });
      devices.push(d);
      agents.push(d);
    }
    const c2 = collector(2, 1);
    await Promise.all(
      devices.map((d) => c2.collect({ target: d.address, modules: ['sys'] }, AbortSignal.timeout(5000))),
    );
    assert.equal(overallPeak, 2);
  });

  it('fails a walk that waited past its deadline for a slot, saying so', async () => {
    const h = tableHandler(table);
    const a = await startFakeAgent(async (req, raw) => {
      await new Promise((r) => setTimeout(r, 300));
      return h(req, raw);
    });
    agents.push(a);
    const c = collector(1, 1);
    const first = c.collect({ target: a.address, modules: ['sys'] }, AbortSignal.timeout(5000));
    const ac = new AbortController();
    const second = c.collect({ target: a.address, modules: ['sys'] }, ac.signal);
    setTimeout(() => ac.abort(new Error('scrape timed out after 50ms')), 50);
    await assert.rejects(
      second,
      /did not start: scrape timed out after 50ms while waiting for a free device walk slot/,
    );
    await first;
  });
});

describe('createSnmpCollector', () => {
  it('builds from the config section and module files, and refuses a bad file naming it', () => {
    const c = createSnmpCollector(
      buildSnmpConfig({ max_concurrent_walks: 2 }),
      [{ path: 'a.yml', text: MODS }],
      silentLogger,
    );
    assert.ok(c.registry.modules.has('sys') && c.registry.auths.has('file_auth'));
    assert.throws(
      () =>
        createSnmpCollector(
          buildSnmpConfig(undefined),
          [{ path: 'bad.yml', text: 'm: {walk: [x]}' }],
          silentLogger,
        ),
      /^SnmpModuleError: bad\.yml: m\.walk\[0\]/,
    );
  });
});
