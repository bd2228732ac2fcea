// The README's configuration example is a real, valid configuration: it must load without an issue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../appliance/config/load.ts';

test('the configuration example in README.md loads', () => {
  const readme = fs.readFileSync(path.join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const block = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README has a yaml block under ## Configuration');
  // Secret files read as a secret; module files as an snmp_exporter file with one module.
  const moduleFile =
    'edge_sys:\n  get: [1.3.6.1.2.1.1.5.0]\n  metrics:\n    - {name: sysName, oid: 1.3.6.1.2.1.1.5, type: DisplayString}\n';
  const cfg = loadConfig(block[1]!, {
    baseDir: '/',
    readFile: (p) => (p.endsWith('.yml') ? moduleFile : 'secret\n'),
  });
  assert.ok(cfg.snmp.auths.store_v3);
  assert.equal(cfg.scrape_configs[1]!.collector, 'snmp');
  assert.equal(cfg.scrape_configs[0]!.job_name, 'pos');
  assert.equal(cfg.remote_write[0]!.name, 'central');
  assert.equal(cfg.web.listen_address, '0.0.0.0:9782');
});
