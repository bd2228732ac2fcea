// Builds storewatch as one executable: a Node single-executable application (SEA) on the pinned Node 24.
//
//   npx node firmware/build-binary.ts [--entry appliance/cli.ts] [--out dist/storewatch] [--build-dir build]
//
// Steps (see shared notes packaging.md for why each is needed):
//   1. esbuild bundles the entry into one CommonJS file (a SEA main script must be CJS on Node 24).
//   2. The pinned Node 24 binary turns the bundle plus better-sqlite3's prebuilt addon (a SEA asset, extracted at
//      run time by appliance/native.ts) into a blob. The blob must come from the same binary that becomes the base.
//   3. A copy of that binary is stripped (about 18 MB smaller; stripping after injection would corrupt it) and
//      postject injects the blob.
// The result needs no node, node_modules or source tree on the target machine.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { NODE_RUNTIME_FLAGS } from './node-flags.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The esbuild `define` key that carries package.json's version into the bundle (undefined in development). */
const VERSION_DEFINE = 'process.env.STOREWATCH_BUILD_VERSION';

/** SEA asset key of the SQLite addon; must equal SQLITE_ADDON_ASSET in appliance/native.ts. */
const SQLITE_ASSET = 'better_sqlite3.node';

/** The fuse string Node looks for to know a blob was injected (fixed by Node, see its SEA docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * Optional requires left in our dependencies' code, each inside a try/catch with a fallback. Found by bundling
 * and listing the non-builtin `require("…")` calls that remain in the output. systeminformation asks for these
 * two macOS sensor packages; express 5, pino, prom-client, yaml and zod need none at their current versions.
 */
const OPTIONAL_REQUIRES = ['osx-temperature-sensor', 'macos-temperature-sensor'];

/** Thrown when a build step fails; carries the step's name. */
class BuildError extends Error {
  override readonly name = 'BuildError';
}

interface BuildOptions {
  entry: string;
  out: string;
  buildDir: string;
}

function parseOptions(argv: string[]): BuildOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      entry: { type: 'string', default: path.join(ROOT, 'appliance', 'cli.ts') },
      out: { type: 'string', default: path.join(ROOT, 'dist', 'storewatch') },
      'build-dir': { type: 'string', default: path.join(ROOT, 'build') },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    entry: path.resolve(values.entry),
    out: path.resolve(values.out),
    buildDir: path.resolve(values['build-dir']),
  };
}

function readVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') {
    throw new BuildError('package.json has no version');
  }
  return pkg.version;
}

/** The pinned Node 24 binary (npm package `node`), never the machine's node. */
function pinnedNode(): string {
  const bin = path.join(ROOT, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(bin)) throw new BuildError(`pinned node not found at ${bin}: run npm ci`);
  return fs.realpathSync(bin);
}

function sqliteAddon(): string {
  const file = path.join(ROOT, 'node_modules', 'better-sqlite3', 'prebuilds', `linux-${process.arch}.node`);
  if (!fs.existsSync(file)) throw new BuildError(`better-sqlite3 prebuild not found at ${file}`);
  return file;
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function run(step: string, file: string, args: string[]): void {
  try {
    execFileSync(file, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new BuildError(`${step} failed: ${String(err)}`, { cause: err });
  }
}

async function bundle(opts: BuildOptions, version: string): Promise<string> {
  const outfile = path.join(opts.buildDir, 'app.cjs');
  const stub = path.join(ROOT, 'firmware', 'stubs', 'optional-dependency.ts');
  await esbuild.build({
    entryPoints: [opts.entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    // The entry may live outside the repo (throwaway test entries); dependencies still come from ours.
    nodePaths: [path.join(ROOT, 'node_modules')],
    alias: Object.fromEntries(OPTIONAL_REQUIRES.map((name) => [name, stub])),
    define: { [VERSION_DEFINE]: JSON.stringify(version) },
    logLevel: 'warning',
  });
  checkLeftoverRequires(outfile);
  return outfile;
}

/**
 * Fails the build when the bundle still requires a non-builtin module by name. esbuild silently leaves such
 * requires in place when they sit in a try/catch (optional dependencies); inside the executable they would
 * throw ERR_UNKNOWN_BUILTIN_MODULE, which the library's fallback may not expect. Each one must either be
 * installed (then esbuild bundles it) or be listed in OPTIONAL_REQUIRES.
 */
function checkLeftoverRequires(bundleFile: string): void {
  const code = fs.readFileSync(bundleFile, 'utf8');
  const leftovers = new Set<string>();
  for (const m of code.matchAll(/\brequire\("([^"]+)"\)/g)) {
    const name = m[1];
    if (name !== undefined && !isBuiltin(name)) leftovers.add(name);
  }
  if (leftovers.size > 0) {
    throw new BuildError(
      `the bundle still requires ${[...leftovers].join(', ')}: add them to OPTIONAL_REQUIRES in firmware/build-binary.ts`,
    );
  }
}

function makeBlob(opts: BuildOptions, node: string, main: string): string {
  const blob = path.join(opts.buildDir, 'sea-prep.blob');
  const configFile = path.join(opts.buildDir, 'sea-config.json');
  const config = {
    main,
    output: blob,
    disableExperimentalSEAWarning: true,
    execArgv: [...NODE_RUNTIME_FLAGS],
    // Measured: the code cache gives no startup gain and makes the blob larger.
    useCodeCache: false,
    assets: { [SQLITE_ASSET]: sqliteAddon() },
  };
  fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  run('SEA blob', node, ['--experimental-sea-config', configFile]);
  return blob;
}

function inject(opts: BuildOptions, node: string, blob: string): void {
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  // Build under a temporary name and rename at the end, so a failed build never leaves a broken executable at
  // the output path.
  const tmp = `${opts.out}.${process.pid}.tmp`;
  try {
    fs.copyFileSync(node, tmp);
    fs.chmodSync(tmp, 0o755);
    if (hasCommand('strip')) run('strip', 'strip', [tmp]);
    else console.log('strip not found: the executable stays unstripped (about 18 MB larger)');
    run('postject', 'npx', [
      '--no-install',
      'postject',
      tmp,
      'NODE_SEA_BLOB',
      blob,
      '--sentinel-fuse',
      SEA_FUSE,
    ]);
    fs.renameSync(tmp, opts.out);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const opts = parseOptions(process.argv.slice(2));
  if (!fs.existsSync(opts.entry)) throw new BuildError(`entry ${opts.entry} does not exist`);
  fs.mkdirSync(opts.buildDir, { recursive: true });
  const version = readVersion();
  const node = pinnedNode();

  const bundleFile = await bundle(opts, version);
  const blob = makeBlob(opts, node, bundleFile);
  inject(opts, node, blob);

  const bytes = fs.statSync(opts.out).size;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `built ${opts.out}: storewatch ${version}, ${bytes} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${seconds} s`,
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `${err.name}: ${err.message}` : err);
  process.exit(1);
});
