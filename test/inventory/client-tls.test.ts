// The client against the fixture over HTTPS, with a throwaway CA made by the openssl binary: a custom CA is
// trusted, an unknown one is refused without retries, and insecure_skip_verify skips the check.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetBoxClient, TokenBucket, nodeTransport } from '../../inventory/client.ts';
import type { TransportTLS } from '../../inventory/client.ts';
import { NetboxFixture } from '../../scripts/netbox-fixture.ts';
import { V1_TOKEN } from './helpers.ts';

function makeCerts(dir: string): { ca: string; key: string; cert: string; otherCa: string } {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const name of ['ca', 'other']) {
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=storewatch test ${name} CA`,
    );
  }
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=netbox.test',
  );
  const ext = join(dir, 'ext.cnf');
  execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:netbox.test\\n' > ${ext}`]);
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    ext,
  );
  const r = (f: string) => readFileSync(join(dir, f), 'utf8');
  return { ca: r('ca.pem'), key: r('server.key'), cert: r('server.pem'), otherCa: r('other.pem') };
}

describe('NetBoxClient over HTTPS', () => {
  let dir = '';
  let certs: ReturnType<typeof makeCerts>;
  let fixture: NetboxFixture;
  let url = '';
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sw-nb-tls-'));
    certs = makeCerts(dir);
    fixture = new NetboxFixture({ v1Tokens: [V1_TOKEN], tls: { key: certs.key, cert: certs.cert } });
    url = await fixture.start();
  });
  after(async () => {
    await fixture.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function status(tls: TransportTLS) {
    const transport = nodeTransport(tls);
    const client = new NetBoxClient({
      url,
      token: V1_TOKEN,
      transport,
      timeoutMs: 5000,
      maxBytes: 1 << 20,
      retries: 2,
      minBackoffMs: 1,
      bucket: new TokenBucket({ rate: 1000, now: Date.now, sleep: async () => {} }),
    });
    const r = await client.get('api/status/', new URLSearchParams(), new AbortController().signal);
    transport.close();
    return { r, requests: client.requests };
  }

  it('trusts a custom CA', async () => {
    const { r } = await status({ ca: certs.ca, insecure_skip_verify: false });
    assert.equal(r.kind, 'success');
  });

  it('refuses a server its CA cannot vouch for, as a TLS failure that is not retried', async () => {
    const { r, requests } = await status({ ca: certs.otherCa, insecure_skip_verify: false });
    assert.equal(r.kind, 'failure');
    assert.equal(r.kind === 'failure' && r.error.kind, 'tls');
    assert.equal(requests, 1);
  });

  it('checks the server name, unless told to verify against another', async () => {
    const wrong = await status({ ca: certs.ca, server_name: 'other.test', insecure_skip_verify: false });
    assert.equal(wrong.r.kind === 'failure' && wrong.r.error.kind, 'tls');
    const right = await status({ ca: certs.ca, server_name: 'netbox.test', insecure_skip_verify: false });
    assert.equal(right.r.kind, 'success');
  });

  it('skips verification only when insecure_skip_verify is set', async () => {
    const { r } = await status({ insecure_skip_verify: true });
    assert.equal(r.kind, 'success');
  });
});
