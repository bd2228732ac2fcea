// Smoke test of the SNMP benchmark: `scripts/bench-snmp.ts --quick` runs both scenarios on tiny sizes against
// real snmpsimd and the net-snmp C clients and must print both tables with every walk successful. No timing
// or speed assertions: only the report's shape and the counts that hold whatever the machine's speed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requireBinary } from '../integration/peers.ts';

const run = promisify(execFile);
const BENCH = path.resolve(import.meta.dirname, '..', '..', 'scripts', 'bench-snmp.ts');

describe('scripts/bench-snmp.ts --quick', () => {
  it('prints the single-walk and fleet tables with every walk successful', { timeout: 300_000 }, async () => {
    requireBinary('snmpsimd', 'snmpsim');
    requireBinary('snmpbulkwalk', 'snmp');
    const { stdout } = await run(process.execPath, [BENCH, '--quick'], { maxBuffer: 1 << 20 });
    assert.match(
      stdout,
      /## single: if_mib walk of a 48-port switch \(1970 PDUs -> 1826 series\), median of 3/,
    );
    assert.match(
      stdout,
      /\| storewatch \(net-snmp npm, walk \+ mapping\) \| \d+ ms \| \d+ ms \(mapping \d+ ms\) \| \d+ ms \|/,
    );
    assert.match(
      stdout,
      /\| snmpbulkwalk -Cr25 \(net-snmp C, 3 processes\) \| \d+ ms \| \d+ ms \| \d+ ms \|/,
    );
    assert.match(stdout, /wall ratio storewatch \/ snmpbulkwalk: \d+\.\d\d/);
    assert.match(stdout, /## fleet: 3 devices x if_mib on 1 snmpsimd/);
    assert.match(stdout, /\| 1 \| [\d.]+ s \| [\d.]+ s \| 3\/3 \| (yes|NO) \|/);
    assert.match(stdout, /peak RSS of the collecting process: \d+ MB/);
    assert.doesNotMatch(stdout, /failed: /);
  });
});
