import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { DEFAULT_SNMP_AUTH } from '../../../appliance/config/snmp.ts';
import { silentLogger } from '../../../appliance/model/logger.ts';
import { buildSnmpRegistry, SnmpCollector } from '../../../appliance/snmp/collector.ts';
import { createSnmpRouter } from '../../../appliance/web/snmp.ts';
import type { FakeAgent, VarbindValue } from '../snmp/fake-agent.ts';
import { startFakeAgent, tableHandler, v } from '../snmp/fake-agent.ts';

const MODS = `
quick:
  retries: 0
  timeout: 200ms
  get: [1.3.6.1.2.1.1.5.0, 1.3.6.1.2.1.1.3.0]
  metrics:
  - { name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString, help: "The name" }
  - { name: sysUpTime, oid: 1.3.6.1.2.1.1.3, type: gauge, help: Uptime }
`;

describe('GET /snmp', () => {
  let server: http.Server;
  let base = '';
  let good: FakeAgent;
  let silent: FakeAgent;

  before(async () => {
    good = await startFakeAgent(
      tableHandler(
        new Map<string, VarbindValue>([
          ['1.3.6.1.2.1.1.3.0', v.ticks(99)],
          ['1.3.6.1.2.1.1.5.0', v.str('sw "one"')],
        ]),
      ),
    );
    silent = await startFakeAgent(() => []);
    const collector = new SnmpCollector({
      registry: buildSnmpRegistry(
        {
          auths: {
            secret_auth: { ...DEFAULT_SNMP_AUTH, community: 'n0t-for-pages' },
          },
        },
        [{ path: 'm.yml', text: MODS }],
      ),
      maxConcurrentWalks: 2,
      maxConcurrentWalksPerDevice: 1,
      walkLimit: 1000,
      logger: silentLogger,
    });
    const app = express();
    app.use(createSnmpRouter({ collector, logger: silentLogger, defaultTimeoutMs: 5000 }));
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await good.close();
    await silent.close();
  });

  const get = async (q: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}/snmp?${q}`, { headers });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
  };

  it('returns one walk as text exposition', async () => {
    const r = await get(`target=${good.address}&module=quick`);
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    assert.match(
      r.body,
      /# HELP sysName The name\n# TYPE sysName gauge\nsysName\{sysName="sw \\"one\\""\} 1\n/,
    );
    assert.match(r.body, /^sysUpTime 99$/m);
    assert.match(r.body, /^snmp_scrape_pdus_returned 2$/m);
    assert.match(r.body, /^snmp_scrape_duration_seconds [\d.e-]+$/m);
  });

  it('walks several modules given comma-separated', async () => {
    const r = await get(`target=${good.address}&module=quick,system&auth=secret_auth`);
    assert.equal(r.status, 200);
    assert.equal(r.body.match(/^sysName\{/gm)?.length, 2);
  });

  it('answers 400 like snmp_exporter for missing target, unknown module or auth', async () => {
    assert.deepEqual(await get('module=quick'), {
      status: 400,
      type: 'text/plain; charset=utf-8',
      body: "'target' parameter must be specified once\n",
    });
    assert.equal((await get(`target=a&target=b&module=quick`)).status, 400);
    const m = await get(`target=${good.address}&module=nope`);
    assert.equal(m.status, 400);
    assert.equal(m.body, "Unknown module 'nope'\n");
    const a = await get(`target=${good.address}&module=quick&auth=nope`);
    assert.equal(a.status, 400);
    assert.equal(a.body, "Unknown auth 'nope'\n");
    assert.equal((await get(`target=${encodeURIComponent('not a target')}&module=quick`)).status, 400);
  });

  it('answers 500 with an snmp_error body naming the reason, never the community', async () => {
    const r = await get(`target=${silent.address}&module=quick&auth=secret_auth`);
    assert.equal(r.status, 500);
    assert.match(
      r.body,
      /^An error has occurred while serving metrics:\n\nerror collecting metric Desc\{fqName: "snmp_error"/,
    );
    assert.match(
      r.body,
      /module quick: request timed out: no response from 127\.0\.0\.1:\d+ after 1 tries of 200ms \(with SNMP v1\/v2c a wrong community looks exactly like this/,
    );
    assert.match(r.body, /reason: timeout\n$/);
    assert.doesNotMatch(r.body, /n0t-for-pages/);
  });

  it('honours the scrape timeout header as the walk deadline', async () => {
    // system has retries 3 x 5 s; the header cuts the walk at 0.7 s - 0.5 s offset = 0.2 s.
    const r = await get(`target=${silent.address}&module=system`, {
      'X-Prometheus-Scrape-Timeout-Seconds': '0.7',
    });
    assert.equal(r.status, 500);
    assert.match(r.body, /did not finish: timed out after 200ms \(getting 1\.3\.6\.1\.2\.1\.1\.1\.0\)/);
  });
});
