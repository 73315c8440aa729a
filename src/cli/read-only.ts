import type { WardenConfig } from '../config.js';
import { DataDirInUseError } from '../store/data-dir-lock.js';
import type { Database } from '../store/database.js';
import { openStore, storeOptions } from '../store/open.js';

/**
 * Opens the database for a command that only reads. When a running server holds the embedded data
 * directory, the command is refused (the database is single-process) with one line that names the
 * server and the API route that answers the same question through it; null then (exit 1).
 */
export async function openForReading(config: WardenConfig, command: string, apiRoute: string): Promise<Database | null> {
  try {
    return await openStore(storeOptions(config));
  } catch (err) {
    if (!(err instanceof DataDirInUseError)) throw err;
    console.error(`${command}: ${err.message} The running server answers this itself: ${apiRoute}`);
    return null;
  }
}
