import { statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { OrchError } from '../errors.js';

/** The `code` of a Node file-system error (`ENOSPC`...), if it is one. */
export function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** What an errno means to someone looking at their disk, and what to do about it. */
const EXPLAINED: Record<string, { what: string; hint: string }> = {
  ENOSPC: { what: 'no space left on the device', hint: 'free some disk space, or set ORCH_STATE_DIR to a folder on another disk' },
  EDQUOT: { what: 'the disk quota is used up', hint: 'free some space within your quota, or set ORCH_STATE_DIR to a folder elsewhere' },
  EFBIG: { what: 'the file would pass the file size limit', hint: 'raise the limit (`ulimit -f`), or free space' },
  EROFS: { what: 'the file system is read-only', hint: 'set ORCH_STATE_DIR to a writable folder' },
  EACCES: { what: 'permission denied', hint: 'make it writable by this user, or set ORCH_STATE_DIR to a folder that is' },
  EPERM: { what: 'operation not permitted', hint: 'make it writable by this user, or set ORCH_STATE_DIR to a folder that is' },
  ENOTDIR: { what: 'a file stands where a folder belongs', hint: 'move that file away; orch makes the folders it needs' },
  EISDIR: { what: 'a folder stands where a file belongs', hint: 'move that folder away' },
  EEXIST: { what: 'something else already stands there', hint: 'move it away' },
  EIO: { what: 'an input/output error of the device', hint: 'check the disk' },
  EMFILE: { what: 'too many open files', hint: 'raise the open-file limit (`ulimit -n`)' },
  ENFILE: { what: 'too many open files on the system', hint: 'close other programs, or raise the system limit' },
};

/** The first component of `file`'s path that exists and is not a folder, if any. */
function blockingFile(file: string): string | undefined {
  const parts: string[] = [];
  for (let at = path.dirname(file); at !== path.dirname(at); at = path.dirname(at)) parts.unshift(at);
  return parts.find((p) => {
    try {
      return !statSync(p).isDirectory();
    } catch {
      return false;
    }
  });
}

/** What a file-system error means for `file`, in words, with a hint when there is one. */
export function explainFsError(err: unknown, file: string): { what: string; hint?: string } {
  const code = errnoOf(err) ?? '';
  const blocker = code === 'ENOTDIR' ? blockingFile(file) : undefined;
  if (blocker) return { what: `${blocker} is a file, where orch needs a folder (ENOTDIR)`, hint: 'move that file away; orch makes the folders it needs' };
  const known = EXPLAINED[code];
  if (known) return { what: `${known.what} (${code})`, hint: known.hint };
  return { what: code || (err instanceof Error ? err.message : String(err)) };
}

/**
 * A write of orch's own state (journal, registry, lock, pid record) that the file system
 * refused — a full disk, a read-only folder, a file where a folder belongs. It is the
 * user's environment, not a bug: a clear error (exit 2), never a stack trace.
 */
export function stateWriteError(err: unknown, file: string, stateDir = path.dirname(file)): OrchError {
  if (err instanceof OrchError) return err;
  const { what, hint } = explainFsError(err, file);
  return new OrchError('ORCH_STATE_WRITE', `cannot write ${file}: ${what}`, {
    hint: hint ?? `orch keeps its state in ${stateDir}; make it a writable folder, or set ORCH_STATE_DIR`,
    cause: err,
  });
}

/** A file of orch's state that cannot be read (a folder in its place, no permission...). */
export function stateReadError(err: unknown, file: string): OrchError {
  if (err instanceof OrchError) return err;
  const { what, hint } = explainFsError(err, file);
  return new OrchError('ORCH_STATE_UNREADABLE', `cannot read ${file}: ${what}`, { hint, cause: err });
}

/**
 * Makes a folder inside the state directory (and the state directory itself). A state
 * directory that is a file, or cannot be made, is ORCH_STATE_DIR.
 */
export async function ensureStateFolder(folder: string, stateDir: string): Promise<void> {
  try {
    await mkdir(folder, { recursive: true });
  } catch (err) {
    throw await stateDirError(err, folder, stateDir);
  }
}

async function stateDirError(err: unknown, folder: string, stateDir: string): Promise<OrchError> {
  const info = await stat(stateDir).catch(() => undefined);
  if (info && !info.isDirectory()) {
    return new OrchError('ORCH_STATE_DIR', `${stateDir} is a file, but orch keeps its state in a folder of that name`, {
      hint: `move the file away, or set ORCH_STATE_DIR to another folder`,
      cause: err,
    });
  }
  const { what, hint } = explainFsError(err, folder);
  const rel = path.relative(stateDir, folder);
  return new OrchError('ORCH_STATE_DIR', `cannot create ${rel && !rel.startsWith('..') ? folder : stateDir}: ${what}`, {
    hint: hint ?? `orch keeps its state in ${stateDir}; make it a writable folder, or set ORCH_STATE_DIR`,
    cause: err,
  });
}
