import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectFiles } from '../config/model.js';

/** One file of the project as a worker needs it: where it stands, what it holds, whether it runs. */
export interface ProjectFile {
  /** Relative to the project directory, with `/` separators. */
  path: string;
  content: Buffer;
  executable: boolean;
}

/** Folders never shipped: dependencies, caches, version control. */
const SKIPPED_FOLDERS = new Set(['node_modules', '__pycache__']);

/**
 * Files that hold secrets by their name: private keys and keystores, and files named
 * `secrets.*` or `credentials.*`. A ConfigMap is no place for them.
 */
const SECRET_FILE = /^id_(rsa|dsa|ecdsa|ed25519)$|\.(pem|key|p12|pfx|jks|keystore)$|^(secrets?|credentials?)(\.[A-Za-z0-9]+)?$|\.secrets?$/i;

/** Whether a file or folder is left out: hidden ones (`.git`, `.orch`, `.venv`), dependencies and caches. */
function skipped(name: string, isDir: boolean): boolean {
  if (isDir) return name.startsWith('.') || SKIPPED_FOLDERS.has(name);
  return name.startsWith('.');
}

/** Whether a file is left out because it may hold secrets: `.env*` files, keys, `secrets.*`, `credentials.*`. */
export function mayHoldSecrets(name: string): boolean {
  return name.startsWith('.env') || SECRET_FILE.test(name);
}

/**
 * The files a worker needs to run the project: everything under the project directory
 * but hidden files and folders, dependencies, caches, the folders given in `exclude` (the
 * state directory, the deploy output) and files that may hold secrets, which are listed
 * in `withheld` instead. The configuration files found are always included, hidden or not
 * (`.mcp.json`). Symbolic links to folders are not followed; those to files are read through.
 */
export async function projectFiles(dir: string, config: ProjectFiles, exclude: readonly string[]): Promise<{ files: ProjectFile[]; withheld: string[] }> {
  const excluded = exclude.map((e) => path.resolve(e));
  const found: ProjectFile[] = [];
  const withheld: string[] = [];
  const add = async (file: string): Promise<void> => {
    const info = await stat(file);
    found.push({ path: path.relative(dir, file).split(path.sep).join('/'), content: await readFile(file), executable: (info.mode & 0o111) !== 0 });
  };
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(folder, entry.name);
      if (excluded.some((e) => full === e || full.startsWith(`${e}${path.sep}`))) continue;
      const isDir = entry.isDirectory();
      if (!isDir && mayHoldSecrets(entry.name)) withheld.push(path.relative(dir, full).split(path.sep).join('/'));
      else if (skipped(entry.name, isDir)) continue;
      else if (isDir) await walk(full);
      else if (entry.isFile() || (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isFile() === true)) await add(full);
    }
  };
  await walk(dir);
  for (const file of [config.gantz, config.team, config.mcp]) {
    if (file === undefined || !file.startsWith(`${dir}${path.sep}`)) continue;
    const rel = path.relative(dir, file).split(path.sep).join('/');
    if (!found.some((f) => f.path === rel) && !(await lstat(file)).isDirectory()) await add(file);
  }
  return { files: found.sort((a, b) => a.path.localeCompare(b.path)), withheld: withheld.sort() };
}
