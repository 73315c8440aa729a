import pg from 'pg';
import { asUnavailable, DatabaseUnavailableError, isConnectionFailure, type Database, type Queryable } from './database.js';
import { Outage } from './outage.js';

/** How long Warden waits for Postgres (settings of `warden serve`; docs/deployment.md). */
export interface PostgresSettings {
  /** Opening a connection, or waiting for a free one in the pool. */
  connectTimeoutMs: number;
  /**
   * One statement: the server cancels it after this long (statement_timeout), and the client gives
   * up on an answer a second later (a frozen or partitioned server never cancels anything).
   */
  statementTimeoutMs: number;
  poolSize: number;
}

export const DEFAULT_POSTGRES_SETTINGS: PostgresSettings = { connectTimeoutMs: 5_000, statementTimeoutMs: 10_000, poolSize: 10 };

/** The client's own wait beyond the server's statement timeout, for a server that cannot answer at all. */
const READ_GRACE_MS = 1_000;
/** How long a probe waits for the database during an outage (outage.ts). */
const PROBE_TIMEOUT_MS = 1_000;
/** The longest timer Node keeps: "no read timeout" for one query (0 would mean the pool's default). */
const UNBOUNDED_MS = 2_147_483_647;
/** TCP keepalive probes start after this much silence (the OS default is two hours). */
const KEEPALIVE_DELAY_MS = 10_000;

export async function openPostgres(connectionString: string, settings: Partial<PostgresSettings> = {}): Promise<Database> {
  const { connectTimeoutMs, statementTimeoutMs, poolSize } = { ...DEFAULT_POSTGRES_SETTINGS, ...settings };
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + READ_GRACE_MS,
    // A transaction left open by a client that vanished must not hold its locks forever.
    idle_in_transaction_session_timeout: Math.max(60_000, statementTimeoutMs * 2),
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
  });
  // An idle pooled connection can be cut by the server (a restart, an administrator's command).
  // The pool discards that client and the next query opens a new one; without a listener the
  // event would crash the process.
  pool.on('error', (err) => {
    process.emitWarning(`Postgres connection lost while idle: ${err.message}`);
  });
  async function ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailableError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      // query_timeout ends the probe's own connection when the server is frozen.
      await Promise.race([
        pool.query({ text: 'SELECT 1', query_timeout: timeoutMs } as pg.QueryConfig).catch((err) => Promise.reject(asUnavailable(err))),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
  const outage = new Outage(() => ping(PROBE_TIMEOUT_MS));
  /** A driver error as Warden sees it: the connection's fault is DatabaseUnavailableError, and noted. */
  const failed = (err: unknown): unknown => {
    outage.report(err);
    return asUnavailable(err);
  };
  const checkout = async (): Promise<pg.PoolClient> => {
    await outage.admit();
    try {
      return await pool.connect();
    } catch (err) {
      throw failed(err);
    }
  };
  // Fail at start, not at the first request, when the server is unreachable.
  const probe = await checkout();
  probe.release();

  /** `unbounded`: no client-side read timeout (migrations, whose statements may rightly run long). */
  const wrap = (c: pg.Pool | pg.PoolClient, unbounded = false): Queryable => {
    const timeout = unbounded ? { query_timeout: UNBOUNDED_MS } : {};
    return {
      async query<Row>(text: string, params?: readonly unknown[]) {
        if (c === pool) await outage.admit();
        try {
          const result = await c.query({ text, values: params as unknown[] | undefined, ...timeout });
          return result.rows as Row[];
        } catch (err) {
          throw failed(err);
        }
      },
      async exec(script: string) {
        if (c === pool) await outage.admit();
        try {
          await c.query({ text: script, ...timeout });
        } catch (err) {
          throw failed(err);
        }
      },
    };
  };

  /**
   * Runs fn on a checked-out client. While checked out the pool does not listen to the client, so
   * a session the server ends (pg_terminate_backend, a restart, a crash) would be an unhandled
   * 'error' event: this listener takes it, and a client that failed is destroyed, never reused.
   */
  async function withClient<T>(fn: (client: pg.PoolClient, broken: () => Error | undefined) => Promise<T>): Promise<T> {
    const client = await checkout();
    let failure: Error | undefined;
    const onError = (err: Error) => {
      failure ??= err;
    };
    client.on('error', onError);
    try {
      return await fn(client, () => failure);
    } catch (err) {
      if (isConnectionFailure(err)) failure ??= err as Error;
      if (failure) outage.report(failure);
      throw failure && !(err instanceof DatabaseUnavailableError) ? asUnavailable(failure) : err;
    } finally {
      // A dead client keeps a listener: it may still report its end after the pool let go of it.
      if (!failure) client.off('error', onError);
      client.release(failure);
    }
  }

  return {
    kind: 'postgres',
    ...wrap(pool),
    transaction: (fn) =>
      withClient(async (client, broken) => {
        const tx = wrap(client);
        await tx.query('BEGIN');
        try {
          const value = await fn(tx);
          await tx.query('COMMIT');
          return value;
        } catch (err) {
          if (!broken() && !isConnectionFailure(err)) await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    // Only migrations hold it: building an index on a large table may take longer than any
    // request should, so this session runs without the statement timeout (waiting for the lock
    // while another node migrates included), and gets it back before it returns to the pool.
    withAdvisoryLock: (key, fn) =>
      withClient(async (client) => {
        const q = wrap(client, true);
        await q.query('SET statement_timeout = 0');
        try {
          await q.query('SELECT pg_advisory_lock($1)', [key]);
          try {
            return await fn(q);
          } finally {
            await q.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => undefined);
          }
        } finally {
          await q.query('RESET statement_timeout').catch(() => undefined);
        }
      }),
    ping,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolSize }),
    close: () => pool.end(),
  };
}
