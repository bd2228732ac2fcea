// Opens SQLite databases through better-sqlite3 both in development and inside the single executable.
//
// In development (plain `node`, unbundled) better-sqlite3 13 finds its own prebuilt addon in
// node_modules/better-sqlite3/prebuilds/. Inside a Node single-executable application (SEA) there is no
// node_modules and `require` only loads built-in modules, so the build embeds the addon as the SEA asset
// SQLITE_ADDON_ASSET. At startup we copy it into a cache directory and load it with `process.dlopen`, then hand
// the addon OBJECT to better-sqlite3 through its `nativeBinding` option (the string form would call `require`,
// which fails in a SEA, and the bundled default lookup resolves paths relative to the bundle, which is wrong).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** The SEA asset key under which firmware/build-binary.ts embeds better-sqlite3's prebuilt addon. */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node';

/** Options for {@link openSqlite}. */
export interface OpenSqliteOptions {
  /**
   * Writable directory on an exec-mounted filesystem where the embedded addon is extracted when running as a
   * single executable (ignored in development). The composition root chooses it, e.g. from systemd's
   * $CACHE_DIRECTORY. Each addon build gets its own hash-named subdirectory, so a new binary never reuses an
   * old addon.
   */
  cacheDir: string;
  /** Open the database read-only. */
  readonly?: boolean;
}

/** Thrown when the embedded SQLite addon cannot be extracted or loaded. */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
  readonly file: string;
  constructor(message: string, file: string, options?: { cause?: unknown }) {
    super(message, options);
    this.file = file;
  }
}

/**
 * Opens (creating it if needed, unless read-only) the SQLite database `file`.
 * Works unbundled in development and inside the single executable; see the module comment.
 */
export function openSqlite(file: string, opts: OpenSqliteOptions): Database.Database {
  const addon = loadEmbeddedAddon(SQLITE_ADDON_ASSET, opts.cacheDir);
  if (addon === undefined) {
    return new Database(file, { readonly: opts.readonly ?? false });
  }
  // @types/better-sqlite3 types nativeBinding as a path string, but better-sqlite3 13 also accepts the addon
  // object itself (lib/database.js), which is the only form that works inside a SEA.
  return new Database(file, {
    readonly: opts.readonly ?? false,
    nativeBinding: addon as unknown as string,
  });
}

/**
 * Returns the exports of the native addon embedded as SEA asset `assetKey`, or undefined when not running as a
 * single executable (then the caller uses the package's normal loading).
 */
export function loadEmbeddedAddon(assetKey: string, cacheDir: string): object | undefined {
  // getBuiltinModule instead of `require`/`import`: this file is ESM in development and CJS in the bundle, and
  // a plain function call is left alone by esbuild while still working in both module systems.
  const sea = process.getBuiltinModule('node:sea');
  if (!sea.isSea()) return undefined;

  let bytes: Buffer;
  try {
    bytes = Buffer.from(sea.getAsset(assetKey));
  } catch (err) {
    throw new NativeAddonError(`SEA asset ${assetKey} is missing from this executable`, assetKey, {
      cause: err,
    });
  }
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const file = path.join(cacheDir, `addon-${hash}`, assetKey);
  extractOnce(file, bytes);

  const mod = { exports: {} as object };
  try {
    process.dlopen(mod, file);
  } catch (err) {
    // The usual cause on appliances is a noexec mount (hardened /tmp), so name the directory in the message.
    throw new NativeAddonError(
      `cannot load native addon ${file} (is ${cacheDir} on a noexec filesystem?): ${String(err)}`,
      file,
      { cause: err },
    );
  }
  return mod.exports;
}

/**
 * Writes `bytes` to `file` unless an identical-size copy is already there. Two instances may start at once,
 * so each writes a private temporary file and renames it into place: rename is atomic, and both copies are
 * identical, so whichever rename wins leaves a complete file.
 */
function extractOnce(file: string, bytes: Buffer): void {
  try {
    if (fs.statSync(file).size === bytes.length) return;
  } catch {
    // Not extracted yet.
  }
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    fs.writeFileSync(tmp, bytes, { mode: 0o755 });
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // Cleanup is best effort; the extraction error below is the one that matters.
    }
    throw new NativeAddonError(`cannot extract native addon to ${file}: ${String(err)}`, file, {
      cause: err,
    });
  }
}
