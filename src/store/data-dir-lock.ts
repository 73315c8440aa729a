import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded database is single-process: two processes on one data directory corrupt it (the
 * second one's writes, or the first one's after the second leaves). Every command that opens a
 * data directory holds `<dir>/warden.lock` while it has it open. The file names its holder (pid,
 * the process's start time, the command); a lock whose process is gone, or whose pid now belongs
 * to a process started at another time, is stale and taken over.
 */
export const LOCK_FILE = 'warden.lock';

export interface LockHolder {
  pid: number;
  /** The process's start time as the kernel counts it (Linux: clock ticks after boot); null elsewhere. */
  started: string | null;
  command: string;
  /** When the lock was taken (ISO 8601): for the refusal message. */
  since: string;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `${dataDir} is in use by ${holder.command} (pid ${holder.pid}, since ${holder.since}); the embedded database is single-process: stop that process first.`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** A process's start time from /proc/<pid>/stat (field 22), or null where there is no /proc. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function alive(holder: LockHolder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: it exists, under another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A pid the kernel gave to a newer process after the holder died.
  const started = processStartTime(holder.pid);
  return holder.started === null || started === null || started === holder.started;
}

function readHolder(path: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? holder : null;
  } catch {
    return null;
  }
}

/** `warden serve`, `warden audit verify`, …: what this process is, for another one's refusal. */
function commandOf(argv: readonly string[]): string {
  const words = argv.slice(2).filter((a, i, all) => !a.startsWith('-') && !(i > 0 && all[i - 1]!.startsWith('--') && !all[i - 1]!.includes('=')));
  return ['warden', ...words.slice(0, 2)].join(' ');
}

const held = new Map<string, () => void>();
process.once('exit', () => {
  for (const release of held.values()) release();
});

/**
 * Takes the data directory's lock for this process, or throws DataDirInUseError naming the live
 * holder. Returns the release function (also run at exit; a kill -9 leaves a stale lock, which
 * the next opener recognizes). A process may hold one directory once.
 */
export function lockDataDir(dataDir: string, command = commandOf(process.argv)): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  if (held.has(path)) throw new DataDirInUseError(dataDir, readHolder(path) ?? { pid: process.pid, started: null, command, since: '?' });
  const mine: LockHolder = { pid: process.pid, started: processStartTime(process.pid), command, since: new Date().toISOString() };
  // Written in full under a private name, then linked into place: link() fails if the lock exists,
  // so the file another process reads is always complete.
  const draft = `${path}.${process.pid}.${Date.now()}`;
  const fd = openSync(draft, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(mine));
  } finally {
    closeSync(fd);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(draft, path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readHolder(path);
      if (holder && alive(holder)) throw new DataDirInUseError(dataDir, holder);
      if (attempt > 0) throw new Error(`could not take over the stale lock ${path}`);
      // Stale (or unreadable, left by a crash): move it aside under a unique name, then try again.
      // Another opener may have replaced it meanwhile: a live lock moved aside goes back.
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        continue;
      }
      const moved = readHolder(aside);
      if (moved && alive(moved)) {
        try {
          linkSync(aside, path);
        } finally {
          rmSync(aside, { force: true });
        }
        throw new DataDirInUseError(dataDir, moved);
      }
      rmSync(aside, { force: true });
    }
  } finally {
    rmSync(draft, { force: true });
  }
  const release = () => {
    if (!held.delete(path)) return;
    // Only our own lock: never one another process took over.
    if (readHolder(path)?.pid === process.pid) rmSync(path, { force: true });
  };
  held.set(path, release);
  return release;
}
