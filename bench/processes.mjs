// What the benchmarks that run Warden as child processes share: where it is, the environment its
// children get, and a free loopback port.
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..');
export const WARDEN = join(REPO, 'bin/warden.js');

/** The children's environment: nothing that would point them at Postgres or change their settings. */
export const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'DATABASE_URL' && !k.startsWith('WARDEN_')));

/** A loopback port nothing listens on (the OS picks it; the caller binds it next). */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}
