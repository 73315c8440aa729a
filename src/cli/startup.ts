import { countUsers } from '../domain/identity/users.js';
import type { Queryable } from '../store/database.js';

/**
 * What `warden serve` tells a person at a terminal once it listens (machines read the JSON log lines,
 * which stay as they are): the address to open and, on a new instance, that its first page creates
 * the owner account.
 */
export async function startupMessage(db: Queryable, url: string): Promise<string> {
  const fresh = (await countUsers(db)) === 0;
  const next = fresh ? 'This is a new instance: open it in a browser, and its first page creates the owner account.' : 'Open it in a browser to sign in.';
  return `\n  Warden is running at ${url}\n  ${next}\n  Ctrl-C stops it.\n`;
}
