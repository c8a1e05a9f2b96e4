// One process at a time on a DATA_DIR. The embedded store numbers each room's messages and wakes their
// readers in the process that writes them: a second process on the same files would number its own, and
// readers of the two would see different histories. The lock is the file DATA_DIR/parley.lock holding the
// owner's pid, created only if absent; one left by a process that no longer runs (SIGKILL, a crash, a
// power cut) is taken over.
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StartupError } from '../startup-error';

const LOCK_FILE = 'parley.lock';

/** Lock files this process holds: its own pid in one of them is a second open here, not a leftover. */
const heldHere = new Set<string>();

export interface DataDirLock {
  /** Removes the lock file (if it is still this process's); calling it again does nothing. */
  release(): void;
}

/** Takes `dir` for this process, or throws StartupError naming the process that has it. */
export function lockDataDir(dir: string): DataDirLock {
  const path = resolve(dir, LOCK_FILE);
  // A few rounds: each either takes the lock, finds a live owner, or clears a stale one for the next.
  for (let round = 0; round < 3; round++) {
    if (createLockFile(path, dir)) {
      heldHere.add(path);
      return { release: () => releaseLockFile(path) };
    }
    const owner = readLockFile(path);
    if (owner === undefined) continue;
    const pid = pidIn(owner);
    // This process's own pid, in a file it does not hold, was left by an earlier process with the same pid
    // (a restarted container numbers its processes the same way): stale like any other.
    if (pid !== undefined && isRunning(pid) && (pid !== process.pid || heldHere.has(path))) throw inUse(dir, pid);
    removeStaleLockFile(path, owner);
  }
  throw inUse(dir, pidIn(readLockFile(path) ?? ''));
}

/**
 * Creates the lock file holding this pid unless one exists; false if one does. It is written aside and
 * then linked into place, so that no other process ever reads it empty.
 */
function createLockFile(path: string, dir: string): boolean {
  const draft = `${path}.${process.pid}`;
  try {
    writeFileSync(draft, `${process.pid}\n`);
    linkSync(draft, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw new StartupError(`cannot lock DATA_DIR ${dir}: ${(error as Error).message}`);
  } finally {
    unlinkQuietly(draft);
  }
}

/** What a lock file says, trimmed; undefined when there is no file (any more). */
function readLockFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** The pid a lock file names; undefined when it names none (then no process holds it). */
function pidIn(text: string): number | undefined {
  const pid = /^\d{1,10}$/.test(text) ? Number(text) : 0;
  return pid > 0 ? pid : undefined;
}

/** Whether a process with this pid exists (one of another user's counts: it cannot be signalled, but it runs). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

/**
 * Removes a lock file found to say `stale`. It is first moved aside, which only one process can do: if
 * what was moved says something else (another process took over meanwhile), it is put back.
 */
function removeStaleLockFile(path: string, stale: string): void {
  const aside = `${path}.stale.${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  if (readLockFile(aside) !== stale) {
    try {
      linkSync(aside, path);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
  }
  unlinkQuietly(aside);
}

function releaseLockFile(path: string): void {
  if (!heldHere.delete(path)) return;
  if (pidIn(readLockFile(path) ?? '') === process.pid) unlinkQuietly(path);
}

function inUse(dir: string, pid: number | undefined): StartupError {
  const who = pid === undefined ? 'another Parley' : `another Parley (pid ${pid})`;
  return new StartupError(`DATA_DIR ${dir} is in use by ${who}; stop it or choose another DATA_DIR`);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined;
}
