import pg from 'pg';
import type { AccessCache } from './access-cache.js';

export const INVALIDATION_CHANNEL = 'warden_cache';
export const LISTENER_APPLICATION_NAME = 'warden-cache-listener';

export interface ListenerOptions {
  /** How often the connection is proven alive; a silent connection could otherwise hide lost changes. */
  heartbeatMs?: number;
  /** First reconnection delay; doubles per failure up to 5 s. */
  retryBaseMs?: number;
  onStateChange?: (state: 'listening' | 'lost', err?: Error) => void;
}

export interface InvalidationListener {
  stop(): Promise<void>;
}

/**
 * Hears the changes other nodes (or the CLI, or an operator in psql) make, on its own Postgres
 * connection: LISTEN warden_cache, each notification's tags invalidated in this node's cache.
 * While the connection is down the cache is distrusted (every read goes to the database); once
 * LISTEN is back it starts from nothing, since changes made meanwhile went unheard.
 */
export async function listenForInvalidations(
  connectionString: string,
  cache: AccessCache,
  options: ListenerOptions = {},
): Promise<InvalidationListener> {
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const retryBaseMs = options.retryBaseMs ?? 100;
  let client: pg.Client | null = null;
  let stopped = false;
  let failures = 0;
  let retry: NodeJS.Timeout | null = null;
  let heartbeat: NodeJS.Timeout | null = null;

  const lost = (c: pg.Client, err?: Error) => {
    if (client !== c) return;
    client = null;
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = null;
    cache.distrust();
    c.end().catch(() => undefined);
    options.onStateChange?.('lost', err);
    if (!stopped) {
      const delay = Math.min(retryBaseMs * 2 ** failures, 5_000);
      failures++;
      retry = setTimeout(() => void connect().catch(() => undefined), delay);
      retry.unref();
    }
  };

  const connect = async (): Promise<void> => {
    retry = null;
    const c = new pg.Client({ connectionString, application_name: LISTENER_APPLICATION_NAME, keepAlive: true });
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    c.on('notification', (message) => {
      if (message.channel === INVALIDATION_CHANNEL) cache.invalidate(message.payload ?? '*');
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    } catch (err) {
      lost(c, err as Error);
      throw err;
    }
    if (client !== c || stopped) return;
    failures = 0;
    cache.resume();
    options.onStateChange?.('listening');
    heartbeat = setInterval(() => {
      c.query('SELECT 1').catch((err: Error) => lost(c, err));
    }, heartbeatMs);
    heartbeat.unref();
  };

  cache.distrust();
  try {
    await connect();
  } catch (err) {
    stopped = true;
    if (retry) clearTimeout(retry);
    throw err;
  }
  return {
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      if (heartbeat) clearInterval(heartbeat);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}
