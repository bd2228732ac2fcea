// The function behind `storewatch snmp probe --target HOST:PORT --module NAME[,NAME] [--auth NAME] [--config FILE]`:
// one walk, printed as text exposition, with the same collector, modules and credentials the appliance uses.
// The CLI reads the config and module files and passes their text in; this function does no file I/O.

import type { SnmpConfig } from '../config/snmp.ts';
import { defaultSnmpConfig } from '../config/snmp.ts';
import type { Logger } from '../model/logger.ts';
import { silentLogger } from '../model/logger.ts';
import { SnmpError } from './client.ts';
import type { SnmpCollector } from './collector.ts';
import { createSnmpCollector, SnmpRequestError } from './collector.ts';
import { toExposition } from './mapping.ts';
import { SnmpModuleError } from './module.ts';

export interface SnmpProbeArgs {
  readonly target: string;
  /** Module names; each entry may itself be comma-separated. */
  readonly modules: readonly string[];
  readonly auth?: string;
  /** Deadline for the whole walk; default 10 s. */
  readonly timeoutMs?: number;
}

export interface SnmpProbeDeps {
  /** The config's `snmp:` section (defaults when the CLI got no --config). */
  readonly config?: SnmpConfig;
  /** The texts of config.module_files, read by the CLI. */
  readonly moduleFiles?: readonly { readonly path: string; readonly text: string }[];
  readonly logger?: Logger;
  /** Aborts the probe (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Exit codes: 0 the walk worked, 1 the device failed (reason in stderr), 2 bad arguments, modules or auth. */
export interface SnmpProbeResult {
  readonly exitCode: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

export async function snmpProbe(args: SnmpProbeArgs, deps: SnmpProbeDeps = {}): Promise<SnmpProbeResult> {
  const config = deps.config ?? defaultSnmpConfig();
  let collector: SnmpCollector;
  try {
    collector = createSnmpCollector(config, deps.moduleFiles ?? [], deps.logger ?? silentLogger);
  } catch (err) {
    if (err instanceof SnmpModuleError) return { exitCode: 2, stdout: '', stderr: `${err.message}\n` };
    throw err;
  }
  const modules = args.modules
    .flatMap((m) => m.split(','))
    .map((m) => m.trim())
    .filter((m) => m !== '');
  const request = { target: args.target, modules, ...(args.auth ? { auth: args.auth } : {}) };
  const timeoutMs = args.timeoutMs ?? 10_000;
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (deps.signal) signals.push(deps.signal);
  try {
    const c = await collector.collect(request, AbortSignal.any(signals));
    const summary = `# ${c.series.length} series from ${c.pdus} PDUs in ${c.walkSeconds.toFixed(3)}s\n`;
    return { exitCode: 0, stdout: toExposition(c.families, c.series), stderr: summary };
  } catch (err) {
    if (err instanceof SnmpRequestError) {
      const known = [...collector.registry.modules.keys()].sort().join(', ');
      return { exitCode: 2, stdout: '', stderr: `${err.message} (known modules: ${known})\n` };
    }
    if (err instanceof SnmpError)
      return { exitCode: 1, stdout: '', stderr: `down (${err.kind}): ${err.message}\n` };
    throw err;
  }
}
