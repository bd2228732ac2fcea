import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { buildSnmpConfig } from '../../../appliance/config/snmp.ts';
import { snmpProbe } from '../../../appliance/snmp/probe.ts';
import type { FakeAgent, VarbindValue } from './fake-agent.ts';
import { startFakeAgent, tableHandler, v } from './fake-agent.ts';

describe('snmpProbe (storewatch snmp probe)', () => {
  const agents: FakeAgent[] = [];
  after(async () => {
    for (const a of agents) await a.close();
  });

  it('prints the walk of a built-in module as text exposition (exit 0)', async () => {
    const a = await startFakeAgent(
      tableHandler(
        new Map<string, VarbindValue>([
          ['1.3.6.1.2.1.1.5.0', v.str('till-printer')],
          ['1.3.6.1.2.1.1.3.0', v.ticks(7)],
        ]),
      ),
    );
    agents.push(a);
    const r = await snmpProbe({ target: a.address, modules: ['system'] });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^sysName\{sysName="till-printer"\} 1$/m);
    assert.match(r.stdout, /^sysUpTime 7$/m);
    assert.match(r.stderr, /^# 2 series from 2 PDUs/);
  });

  it('uses module files and config auths (exit 0), and names unknown modules (exit 2)', async () => {
    const seen: string[] = [];
    const h = tableHandler(new Map<string, VarbindValue>([['1.3.6.1.2.1.1.5.0', v.str('x')]]));
    const a = await startFakeAgent((req, raw) => {
      seen.push(req.community);
      return h(req, raw);
    });
    agents.push(a);
    const config = buildSnmpConfig({ auths: { shop: { community: 'shopcomm' } }, module_files: ['m.yml'] });
    const moduleFiles = [
      {
        path: 'm.yml',
        text: 'only_name:\n  get: [1.3.6.1.2.1.1.5.0]\n  metrics:\n  - { name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString }\n',
      },
    ];
    const r = await snmpProbe(
      { target: a.address, modules: ['only_name'], auth: 'shop' },
      { config, moduleFiles },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(seen, ['shopcomm']);
    const bad = await snmpProbe({ target: a.address, modules: ['nope'] }, { config, moduleFiles });
    assert.equal(bad.exitCode, 2);
    assert.match(
      bad.stderr,
      /Unknown module 'nope' \(known modules: entity, host_resources, if_mib, only_name, printer, system, ups\)/,
    );
    const badFile = await snmpProbe(
      { target: a.address, modules: ['x'] },
      { moduleFiles: [{ path: 'bad.yml', text: 'x: [' }] },
    );
    assert.equal(badFile.exitCode, 2);
    assert.match(badFile.stderr, /bad\.yml: not valid YAML/);
  });

  it('reports a device failure with its reason (exit 1)', async () => {
    const a = await startFakeAgent(() => []);
    agents.push(a);
    const r = await snmpProbe({ target: a.address, modules: ['system'], timeoutMs: 300 });
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^down \(timeout\): module system: SNMP walk of 127\.0\.0\.1:\d+ did not finish/);
  });
});
