import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { BUILTIN_MODULE_YAML, builtinModules } from '../../../appliance/snmp/builtin.ts';
import { parseModuleFile } from '../../../appliance/snmp/module.ts';
import { RECORDINGS, recordingText } from '../../testdata/snmp/generate-recordings.ts';

const TESTDATA = new URL('../../testdata/snmp/', import.meta.url);

describe('built-in modules', () => {
  it('all parse and cover the MIBs the issue asks for', () => {
    const m = builtinModules();
    assert.deepEqual([...m.keys()].sort(), [
      'entity',
      'host_resources',
      'if_mib',
      'printer',
      'system',
      'ups',
    ]);
    for (const mod of m.values()) {
      assert.ok(mod.metrics.length > 0, mod.name);
      assert.equal(mod.auth, undefined, `${mod.name} must not carry credentials`);
      // Every lookup OID is walked, otherwise the lookup label would always be empty.
      const walked = [...mod.walk, ...mod.get];
      for (const metric of mod.metrics) {
        for (const l of metric.lookups)
          assert.ok(
            walked.some((w) => l.oid === w || l.oid.startsWith(w + '.')),
            `${mod.name}/${metric.name} lookup ${l.oid}`,
          );
        assert.ok(
          walked.some(
            (w) => metric.oid.startsWith(w + '.') || w.startsWith(metric.oid + '.') || w === metric.oid,
          ),
          `${mod.name}/${metric.name}`,
        );
      }
    }
  });

  it('if_mib is snmp_exporter v0.21.0 generated module, unchanged', () => {
    const upstream = parseModuleFile(
      fs.readFileSync(new URL('if_mib-v0.21.0.yml', TESTDATA), 'utf8'),
      'if_mib.yml',
    ).modules.get('if_mib')!;
    const ours = builtinModules().get('if_mib')!;
    assert.deepEqual(ours, upstream);
    assert.match(BUILTIN_MODULE_YAML['if_mib']!, /ifHCInOctets/);
  });
});

describe('generated recordings', () => {
  it('the committed snmprec files are what the generator writes (re-run it after changing it)', () => {
    for (const file of Object.keys(RECORDINGS)) {
      assert.equal(fs.readFileSync(new URL(file, TESTDATA), 'utf8'), recordingText(file), file);
    }
  });
});
