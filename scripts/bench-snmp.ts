// SNMP collector benchmark: `npm run bench:snmp` (about 3 minutes on 2 cores) or `node scripts/bench-snmp.ts --quick`
// (3 walks, 3 devices on one agent: the smoke test's size). Options: --walks N, --devices N, --agents N, --rounds N.
//
// Scenarios, all against snmpsimd (Debian snmpsim) on 127.0.0.1 serving test/testdata/snmp/switch-48port.snmprec
// (48 interfaces, 1,970 PDUs in IF-MIB ifTable + ifXTable), request logging off:
// - single:  N walks of the built-in if_mib module (GETBULK, max-repetitions 25, the same two subtrees and one
//            GET as snmp_exporter's if_mib) in this process, alternating with N runs of the net-snmp C clients
//            (`snmpget` + 2 x `snmpbulkwalk -Cr25` over the same subtrees). Wall time per walk (median), and CPU per
//            walk of the walking process only (Node: process.cpuUsage; C: bash `time` user+sys). The agent's
//            own CPU per walk (snmpsimd, Python) is reported too: it dominates wall time for both.
// - fleet:   50 devices (50 communities over 5 snmpsimd processes) walked concurrently in one scrape interval
//            through SnmpCollector with its defaults (16 walks overall, 1 per device), in a fresh Node process
//            with the appliance's V8 flags: wall time of the round, CPU seconds, peak RSS (VmHWM), and whether
//            the round fits in the 60 s interval. Two rounds back to back, so the second shows steady state.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { NODE_RUNTIME_FLAGS } from '../firmware/node-flags.ts';
import { silentLogger } from '../appliance/model/logger.ts';
import { builtinModules } from '../appliance/snmp/builtin.ts';
import { runWalk } from '../appliance/snmp/client.ts';
import { buildSnmpRegistry, SnmpCollector } from '../appliance/snmp/collector.ts';
import { mapPdus } from '../appliance/snmp/mapping.ts';
import { DEFAULT_SNMP_AUTH } from '../appliance/config/snmp.ts';
import type { SnmpPeer } from '../test/integration/snmp-peers.ts';
import { startSnmpsim } from '../test/integration/snmp-peers.ts';
import { procStat } from './bench-targets.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RECORDING = path.join(HERE, '..', 'test', 'testdata', 'snmp', 'switch-48port.snmprec');
const NODE = process.execPath;
const exec = promisify(execFile);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0
    ? NaN
    : s.length % 2
      ? s[(s.length - 1) / 2]!
      : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

// ----- children ---------------------------------------------------------------------------------------------

/** Child: rounds of all devices at once through SnmpCollector; prints JSON. */
async function childFleet(targets: string[], communities: string[], rounds: number): Promise<void> {
  const auths = Object.fromEntries(communities.map((c) => [c, { ...DEFAULT_SNMP_AUTH, community: c }]));
  const collector = new SnmpCollector({
    registry: buildSnmpRegistry({ auths }, []),
    maxConcurrentWalks: 16,
    maxConcurrentWalksPerDevice: 1,
    walkLimit: 100_000,
    logger: silentLogger,
  });
  const out: { wallS: number; cpuS: number; ok: number; failed: string[] }[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const results = await Promise.allSettled(
      targets.map((t, i) =>
        collector.collect(
          { target: t, modules: ['if_mib'], auth: communities[i]! },
          AbortSignal.timeout(60_000),
        ),
      ),
    );
    const c1 = process.cpuUsage(c0);
    out.push({
      wallS: (performance.now() - t0) / 1000,
      cpuS: (c1.user + c1.system) / 1e6,
      ok: results.filter((x) => x.status === 'fulfilled').length,
      failed: results
        .flatMap((x) => (x.status === 'rejected' ? [String((x.reason as Error).message).slice(0, 160)] : []))
        .slice(0, 3),
    });
  }
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
  process.stdout.write(JSON.stringify({ rounds: out, peakRssMB: hwm }));
}

async function runChild(args: string[]): Promise<unknown> {
  const child = spawn(NODE, [...NODE_RUNTIME_FLAGS, fileURLToPath(import.meta.url), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`child ${args[1]} exited with ${code}`);
  return JSON.parse(out);
}

// ----- parent -----------------------------------------------------------------------------------------------

async function cWalk(address: string, env: NodeJS.ProcessEnv): Promise<{ wallMs: number; cpuMs: number }> {
  const walk = (oid: string) =>
    `snmpbulkwalk -m "" -M /nonexistent -v2c -c public -On -Cr25 ${address} ${oid} >/dev/null`;
  const script = `TIMEFORMAT="%R %U %S"; time { snmpget -m "" -M /nonexistent -v2c -c public -On ${address} 1.3.6.1.2.1.1.3.0 >/dev/null; ${walk('1.3.6.1.2.1.2')}; ${walk('1.3.6.1.2.1.31.1.1')}; }`;
  const { stderr } = await exec('bash', ['-c', script], { env });
  const [real, user, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { wallMs: real! * 1000, cpuMs: (user! + sys!) * 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      targets: { type: 'string' },
      communities: { type: 'string' },
      walks: { type: 'string', default: '15' },
      rounds: { type: 'string', default: '2' },
      devices: { type: 'string', default: '50' },
      agents: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
    },
  });
  if (values.child === 'fleet')
    return childFleet(values.targets!.split(','), values.communities!.split(','), Number(values.rounds));

  const walks = values.quick ? 3 : Number(values.walks);
  const devices = values.quick ? 3 : Number(values.devices);
  const agents = values.quick ? 1 : Math.max(1, Number(values.agents));
  const rounds = values.quick ? 1 : Number(values.rounds);
  const clientDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-snmp-client-'));
  // The C clients keep state under SNMP_PERSISTENT_DIR; keep it out of /var/lib/snmp.
  const env = { ...process.env, SNMP_PERSISTENT_DIR: clientDir };
  const sims: SnmpPeer[] = [];
  try {
    console.log(
      `# bench:snmp  (${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}, Node ${process.version})`,
    );
    const sim = await startSnmpsim({ public: RECORDING }, { log: false });
    sims.push(sim);
    const simPid = sim.process.child.pid!;

    // Our walks and the C client's alternate, so that load from elsewhere on the machine hits both alike.
    // Both are warmed once first (snmpsimd builds its index on first use; V8 compiles our code).
    const m = builtinModules().get('if_mib')!;
    const ourWalk = async (): Promise<{
      wallMs: number;
      cpuMs: number;
      mapCpuMs: number;
      pdus: number;
      series: number;
    }> => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await runWalk(
        { host: '127.0.0.1', port: sim.port, auth: DEFAULT_SNMP_AUTH },
        { get: m.get, walk: m.walk, params: m.walk_params, walkLimit: 1e6 },
        AbortSignal.timeout(60_000),
      );
      const c1 = process.cpuUsage();
      const mapped = mapPdus(r.pdus, m);
      const c2 = process.cpuUsage();
      return {
        wallMs: performance.now() - t0,
        cpuMs: (c2.user - c0.user + c2.system - c0.system) / 1000,
        mapCpuMs: (c2.user - c1.user + c2.system - c1.system) / 1000,
        pdus: r.pdus.length,
        series: mapped.series.length,
      };
    };
    await cWalk(sim.address, env);
    await ourWalk();
    const mine: Awaited<ReturnType<typeof ourWalk>>[] = [];
    const c: { wallMs: number; cpuMs: number }[] = [];
    let agentOurs = 0;
    let agentC = 0;
    for (let i = 0; i < walks; i++) {
      const a0 = procStat(simPid).cpuSec;
      mine.push(await ourWalk());
      const a1 = procStat(simPid).cpuSec;
      c.push(await cWalk(sim.address, env));
      const a2 = procStat(simPid).cpuSec;
      agentOurs += a1 - a0;
      agentC += a2 - a1;
    }
    const ours = {
      pdus: mine[0]!.pdus,
      series: mine[0]!.series,
      wallMs: median(mine.map((x) => x.wallMs)),
      cpuMs: median(mine.map((x) => x.cpuMs)),
      mapCpuMs: median(mine.map((x) => x.mapCpuMs)),
    };
    const cWall = median(c.map((x) => x.wallMs));
    const cCpu = median(c.map((x) => x.cpuMs));
    console.log(
      `\n## single: if_mib walk of a 48-port switch (${ours.pdus} PDUs -> ${ours.series} series), median of ${walks}, alternating`,
    );
    console.log('| client | wall per walk | CPU per walk (client) | agent CPU per walk (snmpsimd) |');
    console.log('|---|---|---|---|');
    console.log(
      `| storewatch (net-snmp npm, walk + mapping) | ${ours.wallMs.toFixed(0)} ms | ${ours.cpuMs.toFixed(0)} ms (mapping ${ours.mapCpuMs.toFixed(0)} ms) | ${((agentOurs / walks) * 1000).toFixed(0)} ms |`,
    );
    console.log(
      `| snmpbulkwalk -Cr25 (net-snmp C, 3 processes) | ${cWall.toFixed(0)} ms | ${cCpu.toFixed(0)} ms | ${((agentC / walks) * 1000).toFixed(0)} ms |`,
    );
    console.log(`wall ratio storewatch / snmpbulkwalk: ${(ours.wallMs / cWall).toFixed(2)} (target <= 1.5)`);

    // Fleet: the devices spread by community over `agents` snmpsimd processes (Python is single-threaded).
    const perSim = Math.ceil(devices / agents);
    const targets: string[] = [];
    const communities: string[] = [];
    // Started one after the other: each indexes its recordings at start-up, which is CPU-bound.
    const fleetSims: { p: SnmpPeer; recs: Record<string, string> }[] = [];
    for (let s = 0; s * perSim < devices; s++) {
      const recs: Record<string, string> = {};
      for (let d = 0; d < perSim && s * perSim + d < devices; d++)
        recs[`dev${s * perSim + d + 1}`] = RECORDING;
      const p = await startSnmpsim(recs, { log: false, readyTimeoutMs: 120_000 });
      sims.push(p); // stopped in `finally` even if a later agent fails to start
      fleetSims.push({ p, recs });
    }
    for (const { p, recs } of fleetSims) {
      for (const community of Object.keys(recs)) {
        targets.push(p.address);
        communities.push(community);
      }
    }
    // Each agent indexes its recordings on first use; do that outside the measurement.
    for (let i = 0; i < targets.length; i++) {
      await exec(
        'snmpget',
        [
          '-m',
          '',
          '-M',
          '/nonexistent',
          '-v2c',
          '-c',
          communities[i]!,
          '-On',
          targets[i]!,
          '1.3.6.1.2.1.1.5.0',
        ],
        { env },
      );
    }
    const fleetCpu0 = fleetSims.reduce((a, { p }) => a + procStat(p.process.child.pid!).cpuSec, 0);
    const fleet = (await runChild([
      '--child',
      'fleet',
      '--targets',
      targets.join(','),
      '--communities',
      communities.join(','),
      '--rounds',
      String(rounds),
    ])) as { rounds: { wallS: number; cpuS: number; ok: number; failed: string[] }[]; peakRssMB: number };
    const fleetCpu1 = fleetSims.reduce((a, { p }) => a + procStat(p.process.child.pid!).cpuSec, 0);
    console.log(
      `\n## fleet: ${targets.length} devices x if_mib on ${fleetSims.length} snmpsimd, all due at once (16 walks overall, 1 per device)`,
    );
    console.log('| round | wall | storewatch CPU | walks ok | fits 60 s |');
    console.log('|---|---|---|---|---|');
    fleet.rounds.forEach((r, i) =>
      console.log(
        `| ${i + 1} | ${r.wallS.toFixed(1)} s | ${r.cpuS.toFixed(2)} s | ${r.ok}/${targets.length} | ${r.wallS <= 60 && r.ok === targets.length ? 'yes' : 'NO'} |`,
      ),
    );
    for (const r of fleet.rounds) for (const f of r.failed) console.log(`failed: ${f}`);
    console.log(
      `peak RSS of the collecting process: ${fleet.peakRssMB.toFixed(0)} MB; agents' CPU (${fleetSims.length} snmpsimd): ${(fleetCpu1 - fleetCpu0).toFixed(1)} s`,
    );
  } finally {
    for (const s of sims) await s.stop();
    fs.rmSync(clientDir, { recursive: true, force: true });
  }
}

await main();
