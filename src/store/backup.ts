import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

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

/** `warden serve` on the embedded database marks its data directory as in use. */
export function markDataDirInUse(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, PID_FILE);
  writeFileSync(path, String(process.pid));
  return () => rmSync(path, { force: true });
}

/** The pid of a live `warden serve` using the directory, if any (a stale pid file is ignored). */
export function serverUsing(dataDir: string): number | null {
  const path = join(dataDir, PID_FILE);
  if (!existsSync(path)) return null;
  const pid = Number(readFileSync(path, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
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
  const db = await PGlite.create(pgdataOf(dataDir));
  try {
    const dump = await db.dumpDataDir('gzip');
    const bytes = Buffer.from(await dump.arrayBuffer());
    writeFileSync(file, bytes, { mode: 0o600 });
    return await summarize(db, file, bytes.length);
  } finally {
    await db.close();
  }
}

/**
 * Restores a backup into the data directory. An existing database is kept aside (pgdata.before-
 * restore-<time>) and only with `replace`; otherwise restoring over data is refused.
 */
export async function restoreEmbedded(file: string, dataDir: string, replace: boolean): Promise<BackupSummary & { kept_aside: string | null }> {
  const bytes = readFileSync(file);
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
