/**
 * One writer per run directory: an exclusive lock file created with O_EXCL (`wx`), holding its
 * owner (pid, host, the process's start time, Slurm job). A second process finds it and is told who
 * holds the run. A lock whose owner is gone is stale and taken over:
 *   - same host: the pid is dead, or alive with another start time (the pid was reused);
 *   - another host (a Slurm task on a shared filesystem): its heartbeat, the file's mtime, which the
 *     owner refreshes every minute, is older than STALE_AFTER_MS.
 * Taking over removes the stale file under a guard file (itself O_EXCL), then creates a new one
 * with O_EXCL, so two processes never both believe they hold the lock.
 */
import { closeSync, existsSync, openSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { InputError } from '../errors.js';
import { fsCause, isProcessAlive, fsError, writeAll } from '../fs-safety.js';

export interface LockOwner {
  pid: number;
  host: string;
  /** The owner process's start time as the kernel counts it (/proc/<pid>/stat), null where unknown. */
  started: string | null;
  since: string; // ISO time the lock was taken
  slurm_job: string | null;
}

/** A lock owned elsewhere is presumed dead when its heartbeat is this old. */
export const STALE_AFTER_MS = 10 * 60_000;
const HEARTBEAT_MS = 60_000;
/** Tries to create the lock before giving up with RunLocked (each after removing a stale one or a lock released meanwhile). */
const LOCK_ATTEMPTS = 6;
/** An unreadable lock younger than this may be one a live process is writing; older, it is damage and stale. */
const UNREADABLE_GRACE_MS = 5_000;

/** The second writer of a run: exit 2 with who holds it. */
export class RunLocked extends InputError {
  override name = 'RunLocked';
  constructor(
    readonly dir: string,
    /** null: the lock file is unreadable (being written this instant, or damaged). */
    readonly owner: LockOwner | null,
    lockFile: string,
  ) {
    const slurm = owner?.slurm_job ? `, Slurm job ${owner.slurm_job}` : '';
    super(
      owner
        ? `${dir}: already being run by process ${owner.pid} on ${owner.host}${slurm} since ${owner.since}; wait for it to end (if that process is gone for sure, delete ${lockFile})`
        : `${dir}: its lock ${lockFile} is unreadable (empty or damaged): another process may be taking it this instant; run again in a few seconds (a damaged lock older than ${UNREADABLE_GRACE_MS / 1000} s is taken over)`,
    );
  }
}

/** The kernel's start time of a process (field 22 of /proc/<pid>/stat), null off Linux or when it is gone. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null; // fields after "(comm)" start at field 3
  } catch {
    return null;
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as LockOwner;
    // pid 0 or below would signal a process group (kill(0) always "succeeds"): not an owner, damage.
    return Number.isInteger(owner?.pid) && owner.pid > 0 && typeof owner.host === 'string' && owner.host !== ''
      ? owner
      : null;
  } catch {
    return null; // empty or half-written: its writer was killed at that instant (see holds)
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    return parseOwner(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/** Whether the owner recorded in `file` still holds it. */
function holds(file: string, owner: LockOwner | null): boolean {
  if (!owner) {
    // Unreadable: a writer killed between create and write; give a live writer a moment to finish.
    try {
      return Date.now() - statSync(file).mtimeMs < UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }
  // A requeued Slurm task keeps its job id: an owner with ours is an earlier, dead incarnation.
  if (owner.slurm_job !== null && owner.slurm_job === (process.env.SLURM_JOB_ID ?? null) && owner.pid !== process.pid)
    return false;
  if (owner.host === hostname()) {
    if (!isProcessAlive(owner.pid)) return false;
    const started = processStart(owner.pid);
    return owner.started === null || started === null || started === owner.started; // a different start: the pid was reused
  }
  try {
    return Date.now() - statSync(file).mtimeMs < STALE_AFTER_MS;
  } catch {
    return false;
  }
}

/** The live owner of the lock `file`, or null when it is free (absent or stale). */
export function lockOwner(file: string): LockOwner | null {
  if (!existsSync(file)) return null;
  const owner = readOwner(file);
  return holds(file, owner) ? owner : null;
}

export interface RunLock {
  file: string;
  release(): void;
}

const sameProcess = (a: LockOwner, b: LockOwner) => a.pid === b.pid && a.host === b.host && a.started === b.started;

/** Creates `file` exclusively with `owner` in it; false when it exists. */
function tryCreate(file: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fsError(file, "cannot take the run's lock", err);
  }
  try {
    writeAll(fd, `${JSON.stringify(owner)}\n`);
  } catch (err) {
    rmSync(file, { force: true }); // a half-written lock would block the run until its heartbeat ages
    throw fsError(file, "cannot take the run's lock", err);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Removes the stale lock whose text was `staleText`, under a short-lived guard file so that two
 * processes taking over at once cannot remove each other's fresh lock.
 */
function removeStale(file: string, staleText: string): void {
  const guard = `${file}.takeover`;
  try {
    closeSync(openSync(guard, 'wx'));
  } catch {
    try {
      if (Date.now() - statSync(guard).mtimeMs > 10_000) rmSync(guard, { force: true }); // its owner died mid take-over
    } catch {
      // gone already
    }
    return;
  }
  try {
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // removed meanwhile
    }
    if (text === staleText) rmSync(file, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
}

/**
 * Takes the lock `file` of the run in `dir`, or throws RunLocked naming its owner. The lock is kept
 * fresh by a timer that does not keep the process alive, and released by `release()` (a killed
 * process leaves it behind, stale, for the next one to take over).
 */
export function acquireLock(file: string, dir: string): RunLock {
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    started: processStart(process.pid),
    since: new Date().toISOString(),
    slurm_job: process.env.SLURM_JOB_ID ?? null,
  };
  // Bounded: a lock released and re-taken by others over and over, or one that exists but cannot be
  // read, ends in one line instead of a loop that never returns.
  for (let attempt = 0; !tryCreate(file, owner); attempt++) {
    if (attempt >= LOCK_ATTEMPTS) throw new RunLocked(dir, null, file);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile: try again
      throw new InputError(
        `${file}: the run's lock exists but cannot be read (${fsCause(err)}); remove it if no process runs ${dir}`,
      );
    }
    const current = parseOwner(text);
    if (current && sameProcess(current, owner))
      throw new Error(`${dir}: this process already holds the run (opened twice)`);
    if (holds(file, current) || attempt >= LOCK_ATTEMPTS - 1) throw new RunLocked(dir, current, file);
    removeStale(file, text);
  }
  const heartbeat = setInterval(() => {
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // the directory is gone (deleted by the user); nothing to keep fresh
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      const current = readOwner(file);
      if (current && sameProcess(current, owner)) rmSync(file, { force: true });
    },
  };
}
