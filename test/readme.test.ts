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
  const cfg = loadConfig(block[1]!, { baseDir: '/', readFile: () => 'secret\n' });
  assert.equal(cfg.scrape_configs[0]!.job_name, 'pos');
  assert.equal(cfg.remote_write[0]!.name, 'central');
  assert.equal(cfg.web.listen_address, '0.0.0.0:9782');
});
