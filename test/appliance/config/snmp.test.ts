import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { buildSnmpConfig, defaultSnmpConfig, snmpSchema } from '../../../appliance/config/snmp.ts';

function problems(yaml: string): string[] {
  const r = snmpSchema.safeParse(parse(yaml));
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('snmp config section', () => {
  it('defaults: no module files, public_v2, bounded concurrency', () => {
    const d = defaultSnmpConfig();
    assert.deepEqual(d.module_files, []);
    assert.equal(d.auths['public_v2']?.community, 'public');
    assert.equal(d.auths['public_v2']?.version, 2);
    assert.equal(d.max_concurrent_walks, 16);
    assert.equal(d.max_concurrent_walks_per_device, 1);
    assert.deepEqual(buildSnmpConfig(undefined), d);
  });

  it('reads snmp_exporter 0.23+ auths with their defaults', () => {
    const raw = snmpSchema.parse(
      parse(`
module_files: [/etc/storewatch/snmp.yml]
auths:
  store_v2: { community: 12345 }
  store_v3:
    version: 3
    username: mon
    security_level: authPriv
    password: authpass
    auth_protocol: SHA256
    priv_protocol: AES256
    priv_password: privpass
max_concurrent_walks: 4
walk_limit: 5000
`),
    );
    const c = buildSnmpConfig(raw);
    assert.deepEqual(c.module_files, ['/etc/storewatch/snmp.yml']);
    assert.equal(c.auths['store_v2']?.community, '12345');
    assert.equal(c.auths['store_v2']?.version, 2);
    assert.equal(c.auths['store_v3']?.auth_protocol, 'SHA256');
    assert.equal(c.auths['store_v3']?.priv_protocol, 'AES256');
    assert.equal(c.auths['store_v3']?.context_name, '');
    assert.ok(c.auths['public_v2']);
    assert.equal(c.max_concurrent_walks, 4);
    assert.equal(c.max_concurrent_walks_per_device, 1);
    assert.equal(c.walk_limit, 5000);
  });

  it('refuses unknown keys, bad values and incomplete v3 users, naming the path and never the secret', () => {
    assert.deepEqual(problems('modules: {}'), [': Unrecognized key: "modules"']);
    const p = problems(`
auths:
  a: { version: 3, security_level: authPriv, password: s3cret-auth }
  b: { version: 5 }
  c: { priv_protocol: AES192 }
  d: { auth_protocol: SHA1 }
  e: { frob: 1 }
max_concurrent_walks: 0
walk_limit: -3
module_files: ['']
`);
    const text = p.join('\n');
    assert.match(text, /auths\.a\.username: required for version 3/);
    assert.match(text, /auths\.a\.priv_password: required for security_level authPriv/);
    assert.match(text, /auths\.b\.version: must be 1, 2 or 3/);
    assert.match(text, /auths\.c\.priv_protocol: unsupported priv_protocol \(net-snmp has no AES-192\)/);
    assert.match(text, /auths\.d\.auth_protocol: /);
    assert.match(text, /auths\.e: Unrecognized key: "frob"/);
    assert.match(text, /max_concurrent_walks: must be greater than 0/);
    assert.match(text, /walk_limit: must be greater than 0/);
    assert.match(text, /module_files\.0: must not be empty/);
    assert.doesNotMatch(text, /s3cret/);
  });
});
