import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Labels } from '../../../appliance/model/labels.ts';
import { labelsFromRecord, labelsToRecord } from '../../../appliance/model/labels.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import { ScrapeLoop, systemClock } from '../../../appliance/scrape/loop.ts';
import type { RoundReport } from '../../../appliance/scrape/loop.ts';
import { classifySnmpError, SnmpScraper, snmpRequestFromUrl } from '../../../appliance/scrape/snmp.ts';
import type { Target } from '../../../appliance/scrape/targets.ts';
import { SnmpError } from '../../../appliance/snmp/client.ts';
import { buildSnmpRegistry, SnmpCollector, SnmpRequestError } from '../../../appliance/snmp/collector.ts';
import type { Appendable } from '../../../appliance/storage/interface.ts';
import type { FakeAgent, VarbindValue } from '../snmp/fake-agent.ts';
import { startFakeAgent, tableHandler, v } from '../snmp/fake-agent.ts';

describe('snmpRequestFromUrl', () => {
  it('reads address, modules (repeated or comma-separated) and auth', () => {
    assert.deepEqual(
      snmpRequestFromUrl('snmp://10.0.0.2:161?module=if_mib%2Csystem&module=ups&auth=store_v3'),
      {
        target: '10.0.0.2:161',
        modules: ['if_mib', 'system', 'ups'],
        auth: 'store_v3',
      },
    );
    assert.deepEqual(snmpRequestFromUrl('snmp://[::1]:1161?module=system'), {
      target: '[::1]:1161',
      modules: ['system'],
    });
    assert.throws(() => snmpRequestFromUrl('snmp://10.0.0.2'), /no SNMP module given/);
    assert.throws(() => snmpRequestFromUrl('http://10.0.0.2/metrics?module=x'), SnmpRequestError);
  });
  it('classifies SNMP errors into reasons and leaves others to the caller', () => {
    assert.equal(classifySnmpError(new SnmpError('auth', 'x')), 'auth');
    assert.equal(classifySnmpError(new SnmpRequestError('x')), 'config');
    assert.equal(classifySnmpError(new Error('x')), null);
  });
});

/** Storage that remembers the last value of every series. */
function memoryStorage(): { storage: Appendable; last: Map<string, number> } {
  const last = new Map<string, number>();
  const key = (l: Labels): string => JSON.stringify(labelsToRecord(l));
  return {
    last,
    storage: {
      appender: () => {
        let pending: [string, number][] = [];
        return {
          append: (ref, labels, _t, val) => {
            pending.push([key(labels), val]);
            return ref || 1;
          },
          commit: () => {
            for (const [k, val] of pending) last.set(k, val);
            pending = [];
          },
          rollback: () => {
            pending = [];
          },
        };
      },
    },
  };
}

describe('SnmpScraper in a ScrapeLoop', () => {
  const agents: FakeAgent[] = [];
  after(async () => {
    for (const a of agents) await a.close();
  });

  async function round(url: string, handler: Parameters<typeof startFakeAgent>[0] | null, timeoutMs = 2000) {
    const collector = new SnmpCollector({
      registry: buildSnmpRegistry({ auths: {} }, []),
      maxConcurrentWalks: 4,
      maxConcurrentWalksPerDevice: 1,
      walkLimit: 1000,
      logger: silentLogger,
    });
    let address = '127.0.0.1:9';
    if (handler) {
      const a = await startFakeAgent(handler);
      agents.push(a);
      address = a.address;
    }
    const target: Target = {
      discoveredLabels: labelsFromRecord({ __address__: address, job: 'switches' }),
      labels: labelsFromRecord({ job: 'switches', instance: 'sw1' }),
      url: url.replace('ADDR', address),
      intervalMs: 60_000,
      timeoutMs,
    };
    const { storage, last } = memoryStorage();
    const reports: RoundReport[] = [];
    const loop = new ScrapeLoop({
      target,
      scraper: new SnmpScraper(collector, target),
      storage,
      limits: { sample_limit: 0, label_limit: 0, label_name_length_limit: 0, label_value_length_limit: 0 },
      honorLabels: false,
      honorTimestamps: true,
      trackTimestampsStaleness: false,
      metricRelabel: [],
      clock: systemClock,
      logger: silentLogger,
      // As the manager's classifier: SNMP reasons first, then the loop's own deadline.
      classify: (err) =>
        classifySnmpError(err) ??
        (err instanceof Error && err.message.includes('timed out') ? 'timeout' : 'other'),
      onRound: (r) => reports.push(r),
    });
    await loop.scrapeOnce(Date.now());
    await loop.stop(false);
    return { last, report: reports[0]!, status: loop.getStatus() };
  }

  const sys = new Map<string, VarbindValue>([
    ['1.3.6.1.2.1.1.1.0', v.str('FakeSwitch')],
    ['1.3.6.1.2.1.1.3.0', v.ticks(4242)],
    ['1.3.6.1.2.1.1.5.0', v.str('sw1')],
  ]);

  it('stores the walk with the target labels and up=1', async () => {
    const { last, report } = await round('snmp://ADDR?module=system', tableHandler(sys));
    assert.equal(report.ok, true);
    assert.equal(last.get(JSON.stringify({ __name__: 'sysUpTime', instance: 'sw1', job: 'switches' })), 4242);
    assert.equal(
      last.get(JSON.stringify({ __name__: 'sysName', instance: 'sw1', job: 'switches', sysName: 'sw1' })),
      1,
    );
    assert.equal(last.get(JSON.stringify({ __name__: 'up', instance: 'sw1', job: 'switches' })), 1);
  });

  it('a silent agent is down with reason timeout once the target deadline passes', async () => {
    const { last, report, status } = await round('snmp://ADDR?module=system', () => [], 500);
    assert.equal(report.ok, false);
    assert.equal(report.reason, 'timeout');
    assert.equal(status.health, 'down');
    // The scraper's own deadline fires just before the loop's, so the error says where the walk was.
    assert.match(
      status.lastError,
      /^module system: SNMP walk of 127\.0\.0\.1:\d+ did not finish: walk deadline of 450ms \(just under scrape_timeout\) reached \(getting 1\.3\.6\.1\.2\.1\.1\.1\.0\)$/,
    );
    assert.equal(last.get(JSON.stringify({ __name__: 'up', instance: 'sw1', job: 'switches' })), 0);
  });

  it('an unknown module fails the target with reason config instead of throwing at construction', async () => {
    const { report, status } = await round('snmp://ADDR?module=nope', tableHandler(sys));
    assert.equal(report.reason, 'config');
    assert.match(status.lastError, /Unknown module 'nope'/);
    const r2 = await round('snmp://ADDR', tableHandler(sys));
    assert.equal(r2.report.reason, 'config');
  });
});
