import pg from 'pg';
import type { AccessCache } from './access-cache.js';

export const INVALIDATION_CHANNEL = 'warden_cache';
export const LISTENER_APPLICATION_NAME = 'warden-cache-listener';

export interface ListenerOptions {
  /** How often the connection is proven alive (a heartbeat query on it). */
  heartbeatMs?: number;
  /**
   * The cache-trust bound: memory is served for at most this long after the last heartbeat that
   * was answered was sent. An answered heartbeat proves every change committed before it was sent
   * has been heard (Postgres delivers notifications before the query's answer), so a change made
   * on another node is served stale for at most this long, whatever happened to the connection.
   */
  trustMs?: number;
  /** A heartbeat unanswered for this long: the connection is dead (half-open TCP, a frozen backend); replace it. */
  deadMs?: number;
  /** First reconnection delay; doubles per failure up to 5 s. */
  retryBaseMs?: number;
  onStateChange?: (state: 'listening' | 'lost', err?: Error) => void;
}

export const DEFAULT_TRUST_MS = 2_000;

export interface InvalidationListener {
  stop(): Promise<void>;
}

/**
 * Hears the changes other nodes (or the CLI, or an operator in psql) make, on its own Postgres
 * connection: LISTEN warden_cache, each notification's tags invalidated in this node's cache.
 * While the connection is down the cache is distrusted (every read goes to the database); once
 * LISTEN is back it starts from nothing, since changes made meanwhile went unheard. While it is up,
 * trust lasts `trustMs` past each answered heartbeat: a connection that goes silent without failing
 * (half-open TCP, a stopped backend) stops the cache being trusted within that bound too.
 */
export async function listenForInvalidations(connectionString: string, cache: AccessCache, options: ListenerOptions = {}): Promise<InvalidationListener> {
  const trustMs = options.trustMs ?? DEFAULT_TRUST_MS;
  const heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(trustMs / 4));
  const deadMs = options.deadMs ?? Math.max(5_000, trustMs * 2);
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
    // A silent peer never answers the goodbye: drop the socket itself.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
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
    const c = new pg.Client({
      connectionString,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: deadMs,
      // The OS default waits two hours before probing a silent peer.
      keepAlive: true,
      keepAliveInitialDelayMillis: Math.min(10_000, deadMs),
    });
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    c.on('notification', (message) => {
      if (message.channel === INVALIDATION_CHANNEL) cache.invalidate(message.payload ?? '*');
    });
    let listenedAt: number;
    try {
      await c.connect();
      listenedAt = performance.now();
      await c.query({ text: `LISTEN ${INVALIDATION_CHANNEL}`, query_timeout: deadMs } as pg.QueryConfig);
    } catch (err) {
      lost(c, err as Error);
      throw err;
    }
    if (client !== c || stopped) return;
    failures = 0;
    cache.resume();
    cache.trustUntil(listenedAt + trustMs);
    options.onStateChange?.('listening');
    let inFlight = false;
    heartbeat = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      const sentAt = performance.now();
      c.query({ text: 'SELECT 1', query_timeout: deadMs } as pg.QueryConfig).then(
        () => {
          inFlight = false;
          if (client === c) cache.trustUntil(sentAt + trustMs);
        },
        (err: Error) => lost(c, err),
      );
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
