import type { WardenConfig } from '../config.js';
import { backupEmbedded, restoreEmbedded, type BackupSummary } from '../store/backup.js';

const POSTGRES_HINT = 'warden backup/restore handle the embedded database; on Postgres use pg_dump / pg_restore (see docs/deployment.md).';

function summaryLine(verb: string, s: BackupSummary): string {
  return `${verb} ${s.organizations} organizations, ${s.users} users, ${s.activity_entries} activity entries (${(s.bytes / 1024).toFixed(1)} KiB) ${verb === 'Backed up' ? 'to' : 'from'} ${s.file}`;
}

/** `warden backup --out FILE [--json]`: the embedded database, while no other process has it open (data-dir-lock.ts). */
export async function runBackup(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  if (config.databaseUrl) {
    console.error(`warden backup: ${POSTGRES_HINT}`);
    return 2;
  }
  const out = flags.out;
  if (!out || out === 'true') {
    console.error('warden backup: usage: warden backup --out FILE [--data-dir D] [--json]');
    return 2;
  }
  if (!flags.json && process.stderr.isTTY) process.stderr.write(`Backing up ${config.dataDir} ...\n`);
  try {
    const summary = await backupEmbedded(config.dataDir, out);
    console.log(flags.json ? JSON.stringify(summary) : summaryLine('Backed up', summary));
    return 0;
  } catch (err) {
    console.error(`warden backup: ${(err as Error).message}`);
    return 1;
  }
}

/** `warden restore --from FILE [--replace] [--json]`: into the data directory, while no server uses it. */
export async function runRestore(config: WardenConfig, flags: Record<string, string>): Promise<number> {
  if (config.databaseUrl) {
    console.error(`warden restore: ${POSTGRES_HINT}`);
    return 2;
  }
  const from = flags.from;
  if (!from || from === 'true') {
    console.error('warden restore: usage: warden restore --from FILE [--data-dir D] [--replace] [--json]');
    return 2;
  }
  if (!flags.json && process.stderr.isTTY) process.stderr.write(`Restoring ${from} into ${config.dataDir} ...\n`);
  try {
    const summary = await restoreEmbedded(from, config.dataDir, Boolean(flags.replace));
    if (flags.json) console.log(JSON.stringify(summary));
    else {
      console.log(summaryLine('Restored', summary));
      if (summary.kept_aside) console.log(`The database that was there is kept in ${summary.kept_aside}.`);
      console.log('Start the server: migrations bring an older backup up to date.');
    }
    return 0;
  } catch (err) {
    console.error(`warden restore: ${(err as Error).message}`);
    return 1;
  }
}
