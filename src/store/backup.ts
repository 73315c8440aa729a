import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';

/** What a backup or restore holds, for the operator's summary. */
export interface BackupSummary {
  file: string;
  bytes: number;
  organizations: number;
  users: number;
  activity_entries: number;
}

const PID_FILE = 'warden.pid';
export const pgdataOf = (dataDir: string) => join(dataDir, 'pgdata');

/**
 * `warden serve` on the embedded database writes its pid to `<dir>/warden.pid` for operators'
 * scripts, once it holds the directory's lock (data-dir-lock.ts), so a refused second server never
 * overwrites it.
 */
export function markDataDirInUse(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, PID_FILE);
  writeFileSync(path, String(process.pid));
  return () => rmSync(path, { force: true });
}

async function summarize(db: PGlite, file: string, bytes: number): Promise<BackupSummary> {
  const count = async (table: string) => {
    const result = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return result.rows[0]?.n ?? 0;
  };
  return { file, bytes, organizations: await count('organizations'), users: await count('users'), activity_entries: await count('activity_log') };
}

/**
 * Writes the embedded database to one gzipped tarball (PGlite's own dump of its data directory),
 * readable by the owner only. The server must be stopped: the embedded database is single-process.
 */
export async function backupEmbedded(dataDir: string, file: string): Promise<BackupSummary> {
  if (!existsSync(pgdataOf(dataDir))) throw new Error(`there is no embedded database in ${dataDir}`);
  const release = lockDataDir(dataDir);
  try {
    const db = await PGlite.create(pgdataOf(dataDir));
    try {
      const dump = await db.dumpDataDir('gzip');
      const bytes = Buffer.from(await dump.arrayBuffer());
      writeAtomically(file, bytes);
      return await summarize(db, file, bytes.length);
    } finally {
      await db.close();
    }
  } finally {
    release();
  }
}

/**
 * Replaces `file` with `bytes` all at once: written to a private temporary file in the same
 * directory, flushed to disk, renamed over `file`, and the directory flushed. A crash at any moment
 * leaves either the previous file or the new one, never a part of either.
 */
export function writeAtomically(file: string, bytes: Uint8Array): void {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Restores a backup into the data directory. An existing database is kept aside (pgdata.before-
 * restore-<time>) and only with `replace`; otherwise restoring over data is refused.
 */
export async function restoreEmbedded(file: string, dataDir: string, replace: boolean): Promise<BackupSummary & { kept_aside: string | null }> {
  const bytes = readFileSync(file);
  mkdirSync(dataDir, { recursive: true });
  const release = lockDataDir(dataDir);
  try {
    return await restoreLocked(file, bytes, dataDir, replace);
  } finally {
    release();
  }
}

async function restoreLocked(
  file: string,
  bytes: Uint8Array<ArrayBuffer>,
  dataDir: string,
  replace: boolean,
): Promise<BackupSummary & { kept_aside: string | null }> {
  const target = pgdataOf(dataDir);
  let keptAside: string | null = null;
  if (existsSync(target) && readdirSync(target).length > 0) {
    if (!replace) throw new Error(`${dataDir} already holds a database; add --replace to keep it aside and restore over it`);
    keptAside = `${target}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(target, keptAside);
  }
  mkdirSync(dataDir, { recursive: true });
  try {
    const db = await PGlite.create(target, { loadDataDir: new Blob([bytes]) });
    try {
      return { ...(await summarize(db, file, bytes.length)), kept_aside: keptAside };
    } finally {
      await db.close();
    }
  } catch (err) {
    rmSync(target, { recursive: true, force: true });
    if (keptAside) renameSync(keptAside, target);
    throw new Error(`${file} is not a Warden backup that PGlite can load: ${(err as Error).message}`);
  }
}
