// Start helpers for the SNMP peers (Debian snmpd, snmpsim, prometheus-snmp-exporter), in the style of peers.ts:
// loopback only, ports picked at runtime, everything in one temp dir, the caller stops what it starts.
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import * as snmp from 'net-snmp';
import type { ProcessHandle, TempDir } from './peers.ts';
import { freePort, requireBinary, spawnProcess, tempDir, waitFor } from './peers.ts';

/** A free UDP port on 127.0.0.1 (another process may take it before the caller binds it: callers retry). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves with sysName.0 over v2c, or rejects; used as the readiness check. */
export function v2cSysName(port: number, community: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = snmp.createSession('127.0.0.1', community, {
      port,
      retries: 0,
      timeout: timeoutMs,
      version: snmp.Version2c,
    });
    session.on('error', () => {});
    session.get(['1.3.6.1.2.1.1.5.0'], (err, vbs) => {
      session.close();
      if (err) return reject(err);
      resolve(String(vbs?.[0]?.value ?? ''));
    });
  });
}

export interface SnmpPeer {
  /** "127.0.0.1:PORT" */
  readonly address: string;
  readonly port: number;
  readonly dir: TempDir;
  readonly process: ProcessHandle;
  stop(): Promise<void>;
}

/** v3 users snmpsim accepts (all share each recording's data; the v3 context name is the recording's name). */
export const SNMPSIM_V3_USERS = [
  {
    user: 'edgeuser',
    authProto: 'SHA',
    authKey: 'edgeAuthPass123',
    privProto: 'AES',
    privKey: 'edgePrivPass123',
  },
  {
    user: 'sha256user',
    authProto: 'SHA256',
    authKey: 'sha256AuthPass1',
    privProto: 'AES256BLMT',
    privKey: 'aes256bPrivPass1',
  },
  {
    user: 'ciscouser',
    authProto: 'SHA',
    authKey: 'ciscoAuthPass12',
    privProto: 'AES256',
    privKey: 'aes256rPrivPass1',
  },
  { user: 'authonly', authProto: 'SHA512', authKey: 'authOnlyPass123', privProto: 'NONE', privKey: '' },
  { user: 'noauthuser', authProto: 'NONE', authKey: '', privProto: 'NONE', privKey: '' },
] as const;

/**
 * Starts snmpsimd on a free loopback UDP port serving `recordings` (community → recording file). The
 * community is also the v3 context name. Its log goes to a pipe this process drains: a caller that blocks the
 * event loop (execFileSync) while snmpsimd answers many requests stalls it once the pipe is full.
 */
export async function startSnmpsim(
  recordings: Readonly<Record<string, string>>,
  opts: { readonly log?: boolean; readonly readyTimeoutMs?: number } = {},
): Promise<SnmpPeer> {
  const bin = requireBinary('snmpsimd', 'snmpsim');
  const dir = await tempDir('storewatch-snmpsim-');
  const data = path.join(dir.path, 'data');
  const cache = path.join(dir.path, 'cache');
  fs.mkdirSync(data);
  fs.mkdirSync(cache);
  fs.chmodSync(cache, 0o777);
  for (const [community, file] of Object.entries(recordings))
    fs.copyFileSync(file, path.join(data, `${community}.snmprec`));
  const first = Object.keys(recordings)[0]!;
  const users: string[] = [];
  for (const u of SNMPSIM_V3_USERS) {
    users.push(`--v3-user=${u.user}`);
    if (u.authProto !== 'NONE') users.push(`--v3-auth-key=${u.authKey}`, `--v3-auth-proto=${u.authProto}`);
    if (u.privProto !== 'NONE') users.push(`--v3-priv-key=${u.privKey}`, `--v3-priv-proto=${u.privProto}`);
  }
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    const proc = spawnProcess(bin, [
      `--data-dir=${data}`,
      `--cache-dir=${cache}`,
      `--agent-udpv4-endpoint=127.0.0.1:${port}`,
      ...users,
      ...(process.getuid?.() === 0 ? ['--process-user=nobody', '--process-group=nogroup'] : []),
      // snmpsimd logs every request; benchmarks turn that off (it costs the agent CPU and fills pipes).
      opts.log === false ? '--logging-method=null' : '--logging-method=stderr',
    ]);
    try {
      await waitFor(
        async () => {
          if (proc.hasExited()) throw new Error(`exited early: ${proc.output()}`);
          return (await v2cSysName(port, first)) !== '';
        },
        opts.readyTimeoutMs ?? 20_000,
        200,
      );
    } catch (err) {
      await proc.stop('SIGKILL');
      last = `${String(err)}\n${proc.output()}`;
      continue;
    }
    return {
      address: `127.0.0.1:${port}`,
      port,
      dir,
      process: proc,
      async stop() {
        await proc.stop();
        await dir.remove();
      },
    };
  }
  await dir.remove();
  throw new Error(`snmpsimd did not become ready: ${last}`);
}

export const SNMPD_V3 = { user: 'edgeuser', auth: 'edgeAuthPass123', priv: 'edgePrivPass123' } as const;

/** Starts Debian's snmpd on a loopback UDP port: community `public` and v3 authPriv user edgeuser (SHA/AES). */
export async function startSnmpd(): Promise<SnmpPeer> {
  const bin = requireBinary('snmpd', 'snmpd');
  const dir = await tempDir('storewatch-snmpd-');
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freeUdpPort();
    const persist = path.join(dir.path, `persist-${attempt}`);
    fs.mkdirSync(persist);
    const conf = path.join(dir.path, 'snmpd.conf');
    fs.writeFileSync(
      conf,
      [
        `agentAddress udp:127.0.0.1:${port}`,
        'rocommunity public 127.0.0.1',
        `createUser ${SNMPD_V3.user} SHA "${SNMPD_V3.auth}" AES "${SNMPD_V3.priv}"`,
        `rouser ${SNMPD_V3.user} priv`,
        'sysLocation Store 001 back office',
        'sysContact ops@example.invalid',
        'sysName edge-snmpd-test',
        'sysServices 72',
        '',
      ].join('\n'),
    );
    const proc = spawnProcess(
      bin,
      [
        '-f',
        '-C',
        '-c',
        conf,
        '-m',
        '',
        '-M',
        '/nonexistent',
        '-I',
        '-smux',
        '-Lo',
        '-p',
        path.join(dir.path, 'snmpd.pid'),
      ],
      { env: { ...process.env, SNMP_PERSISTENT_DIR: persist } },
    );
    try {
      await waitFor(
        async () => {
          if (proc.hasExited()) throw new Error(`exited early: ${proc.output()}`);
          return (await v2cSysName(port, 'public')) === 'edge-snmpd-test';
        },
        15_000,
        200,
      );
    } catch (err) {
      await proc.stop('SIGKILL');
      last = `${String(err)}\n${proc.output()}`;
      continue;
    }
    return {
      address: `127.0.0.1:${port}`,
      port,
      dir,
      process: proc,
      async stop() {
        await proc.stop();
        await dir.remove();
      },
    };
  }
  await dir.remove();
  throw new Error(`snmpd did not become ready: ${last}`);
}

export interface SnmpExporter {
  readonly url: string;
  readonly process: ProcessHandle;
  stop(): Promise<void>;
}

/** Starts Debian's prometheus-snmp-exporter (0.21) on a loopback port with `configText` as snmp.yml. */
export async function startSnmpExporter(
  configText: string,
  extraArgs: readonly string[] = [],
): Promise<SnmpExporter> {
  const bin = requireBinary('prometheus-snmp-exporter', 'prometheus-snmp-exporter');
  const dir = await tempDir('storewatch-snmp-exporter-');
  const conf = path.join(dir.path, 'snmp.yml');
  fs.writeFileSync(conf, configText);
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = spawnProcess(bin, [
      `--config.file=${conf}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...extraArgs,
    ]);
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => {
        if (proc.hasExited()) throw new Error(`exited early: ${proc.output()}`);
        const res = await fetch(url + '/');
        await res.arrayBuffer();
        return res.ok;
      }, 15_000);
    } catch (err) {
      await proc.stop('SIGKILL');
      last = `${String(err)}\n${proc.output()}`;
      continue;
    }
    return {
      url,
      process: proc,
      async stop() {
        await proc.stop();
        await dir.remove();
      },
    };
  }
  await dir.remove();
  throw new Error(`prometheus-snmp-exporter did not become ready: ${last}`);
}
