import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { getLabel } from '../../../appliance/model/labels.ts';
import { ProbeError, splitHostPort, TcpProbeScraper } from '../../../appliance/scrape/probe.ts';

function listen(): Promise<{ port: number; close: () => Promise<void>; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((sock) => {
    accepted++;
    sock.destroy();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        accepted: () => accepted,
        close: () => new Promise((r) => server.close(() => r())),
      });
    });
  });
}

test('a reachable port: probe_success 1 and the connect time', async () => {
  const srv = await listen();
  try {
    const out = await new TcpProbeScraper(`127.0.0.1:${srv.port}`).scrape(new AbortController().signal);
    const byName = new Map(out.samples.map((s) => [getLabel(s.labels, '__name__'), s.value]));
    assert.equal(byName.get('probe_success'), 1);
    assert.ok((byName.get('probe_duration_seconds') ?? -1) >= 0);
    assert.equal(out.metadata?.get('probe_duration_seconds')?.unit, 'seconds');
  } finally {
    await srv.close();
  }
});

test('a closed port is connection_refused, with the address in the message', async () => {
  const srv = await listen();
  const port = srv.port;
  await srv.close();
  await assert.rejects(new TcpProbeScraper(`127.0.0.1:${port}`).scrape(new AbortController().signal), (e) => {
    assert.ok(e instanceof ProbeError);
    assert.equal(e.kind, 'connection_refused');
    assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    return true;
  });
});

test('an abort (the scrape timeout) ends a hanging connect as timeout and destroys the socket', async () => {
  let destroyed = false;
  // A socket that never connects: the probe must not wait for the OS's own timeout.
  const connect = () => {
    const sock = new net.Socket();
    const destroy = sock.destroy.bind(sock);
    sock.destroy = (err?: Error) => {
      destroyed = true;
      return destroy(err);
    };
    return sock;
  };
  const ac = new AbortController();
  const p = new TcpProbeScraper('127.0.0.1:9', { connect }).scrape(ac.signal);
  ac.abort();
  await assert.rejects(p, (e) => e instanceof ProbeError && e.kind === 'timeout');
  assert.equal(destroyed, true);
});

test('hostile addresses are refused before any connection is attempted', async () => {
  let connects = 0;
  const connect = () => {
    connects++;
    return new net.Socket();
  };
  for (const a of [
    '',
    'host',
    'host:',
    ':80',
    'h:0',
    'h:65536',
    'h:99999999',
    '[::1]',
    'a:b:c',
    'x'.repeat(10_000),
  ]) {
    await assert.rejects(
      new TcpProbeScraper(a, { connect }).scrape(new AbortController().signal),
      (e) => e instanceof ProbeError && e.kind === 'other',
      a,
    );
  }
  assert.equal(connects, 0);
  assert.deepEqual(splitHostPort('[fe80::1]:9100'), { host: 'fe80::1', port: 9100 });
  assert.deepEqual(splitHostPort('127.1.2.3:9100'), { host: '127.1.2.3', port: 9100 });
});
