// Parity with Debian's prometheus-snmp-exporter 0.21: for the same module file and the same snmpsim device,
// our /snmp output has the same series (names and label sets) and the same values; counters may only have grown
// by what the recording's rate allows between the two walks. The exporter runs with
// --no-snmp.wrap-large-counters: by default it wraps Counter64 at 2^53, which we deliberately do not do
// (see appliance/snmp/README.md); the 48-port recording has counters beyond 2^53 to prove the exact path.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { labelsKey, METRIC_NAME } from '../../appliance/model/labels.ts';
import { silentLogger } from '../../appliance/model/logger.ts';
import { parseExposition } from '../../appliance/scrape/textparse.ts';
import { BUILTIN_MODULE_YAML } from '../../appliance/snmp/builtin.ts';
import { buildSnmpRegistry, SnmpCollector } from '../../appliance/snmp/collector.ts';
import { createSnmpRouter } from '../../appliance/web/snmp.ts';
import type { SnmpExporter, SnmpPeer } from './snmp-peers.ts';
import { startSnmpExporter, startSnmpsim } from './snmp-peers.ts';

const DATA = new URL('../testdata/snmp/', import.meta.url).pathname;
const read = (f: string): string => fs.readFileSync(DATA + f, 'utf8');

interface Walk {
  readonly values: Map<string, number>;
  readonly types: Map<string, string>;
}

function parse(body: string): Walk {
  const r = parseExposition(body, 'text');
  const values = new Map<string, number>();
  for (const s of r.samples) {
    const name = s.labels.find((l) => l.name === METRIC_NAME)!.value;
    if (name.startsWith('snmp_scrape_')) continue; // each side's own bookkeeping
    const key = labelsKey(s.labels);
    assert.ok(!values.has(key), `duplicate series ${key}`);
    values.set(key, s.value);
  }
  const types = new Map<string, string>();
  for (const [name, md] of r.metadata) if (!name.startsWith('snmp_scrape_')) types.set(name, md.type);
  return { values, types };
}

const readable = (key: string): string => key.replace(/\uffff/g, '=').replace(/\ufffe/g, ' ');

describe('parity with prometheus-snmp-exporter 0.21', { timeout: 120_000 }, () => {
  const sims: Record<string, SnmpPeer> = {};
  let exporter: SnmpExporter;
  let ours: http.Server;
  let oursUrl = '';
  // Our built-ins other than if_mib are written in the 0.21 format, so the exporter can load them too.
  const builtinsForExporter = Object.entries(BUILTIN_MODULE_YAML)
    .filter(([name]) => name !== 'if_mib')
    .map(([, text]) => text)
    .join('\n');

  before(async () => {
    const recs = {
      sw3: 'switch-3port.snmprec',
      sw48: 'switch-48port.snmprec',
      ups: 'ups.snmprec',
      printer: 'printer.snmprec',
    };
    await Promise.all(
      Object.entries(recs).map(async ([k, f]) => {
        sims[k] = await startSnmpsim({ public: DATA + f });
      }),
    );
    exporter = await startSnmpExporter(
      read('if_mib-v0.21.0.yml') + read('edge-modules.yml') + builtinsForExporter,
      ['--no-snmp.wrap-large-counters'],
    );
    const collector = new SnmpCollector({
      registry: buildSnmpRegistry({ auths: {} }, [
        { path: 'edge-modules.yml', text: read('edge-modules.yml') },
      ]),
      maxConcurrentWalks: 4,
      maxConcurrentWalksPerDevice: 1,
      walkLimit: 100_000,
      logger: silentLogger,
    });
    const app = express();
    app.use(createSnmpRouter({ collector, logger: silentLogger, defaultTimeoutMs: 20_000 }));
    ours = http.createServer(app);
    await new Promise<void>((r) => ours.listen(0, '127.0.0.1', r));
    oursUrl = `http://127.0.0.1:${(ours.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((r) => ours?.close(r));
    await exporter?.stop();
    for (const s of Object.values(sims)) await s.stop();
  });

  async function scrape(base: string, target: string, module: string): Promise<{ walk: Walk; at: number }> {
    const res = await fetch(`${base}/snmp?target=${target}&module=${module}`);
    const body = await res.text();
    assert.equal(res.status, 200, `${base} ${module}: ${body}`);
    return { walk: parse(body), at: Date.now() };
  }

  const cases: [device: string, module: string, minSeries: number][] = [
    ['sw3', 'if_mib', 25],
    ['sw3', 'edge_if_v2', 11],
    ['sw48', 'if_mib', 1800],
    ['sw48', 'edge_if_v2', 140],
    ['sw48', 'system', 5],
    ['sw48', 'entity', 1],
    ['ups', 'ups', 10],
    ['printer', 'printer', 20],
    ['printer', 'host_resources', 9],
  ];

  for (const [device, module, minSeries] of cases) {
    it(`${module} on ${device}: same series, labels and values`, async () => {
      const target = sims[device]!.address;
      const t0 = Date.now();
      const theirs = await scrape(exporter.url, target, module);
      const mine = await scrape(oursUrl, target, module);
      const elapsedS = (mine.at - t0) / 1000 + 1;
      assert.ok(
        theirs.walk.values.size >= minSeries,
        `exporter returned only ${theirs.walk.values.size} series`,
      );
      const missing = [...theirs.walk.values.keys()].filter((k) => !mine.walk.values.has(k)).map(readable);
      const extra = [...mine.walk.values.keys()].filter((k) => !theirs.walk.values.has(k)).map(readable);
      assert.deepEqual(
        { missing: missing.slice(0, 5), extra: extra.slice(0, 5) },
        { missing: [], extra: [] },
      );
      assert.deepEqual(mine.walk.types, theirs.walk.types);
      for (const [key, want] of theirs.walk.values) {
        const got = mine.walk.values.get(key)!;
        const name = key.slice(key.indexOf('\uffff') + 1, key.indexOf('\ufffe'));
        if (theirs.walk.types.get(name) === 'counter' && got !== want) {
          // Only the rate-driven counters move: 1000/s in the recordings.
          assert.ok(got > want && got - want <= 1000 * elapsedS, `${readable(key)}: ${got} vs ${want}`);
        } else {
          assert.equal(got, want, readable(key));
        }
      }
    });
  }

  it('exact Counter64 beyond 2^53 matches the non-wrapping exporter', async () => {
    const target = sims['sw48']!.address;
    const mine = await scrape(oursUrl, target, 'if_mib');
    const v = [...mine.walk.values].find(
      ([k]) => k.includes('ifHCInOctets') && k.includes('ifIndex\uffff48\ufffe'),
    );
    assert.equal(v?.[1], 18446744073709550000);
  });

  it('the same unknown-module answer (400)', async () => {
    const a = await fetch(`${exporter.url}/snmp?target=${sims['sw3']!.address}&module=nope`);
    const b = await fetch(`${oursUrl}/snmp?target=${sims['sw3']!.address}&module=nope`);
    assert.equal(a.status, 400);
    assert.equal(b.status, a.status);
    assert.equal((await b.text()).trim(), (await a.text()).trim());
  });
});
