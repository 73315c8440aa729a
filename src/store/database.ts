/**
 * The one database interface Warden's domain code sees. Two drivers implement it with the same SQL:
 * PGlite (embedded, the default) and node-postgres (when DATABASE_URL is set).
 */
export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs fn in one transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs fn while holding a session-level advisory lock (used to serialize migrations across nodes). */
  withAdvisoryLock<T>(key: number, fn: (q: Queryable) => Promise<T>): Promise<T>;
  /** Proves the database answers within `timeoutMs`; throws DatabaseUnavailableError otherwise (readiness). */
  ping(timeoutMs: number): Promise<void>;
  /** Connection pool use (Postgres only): connections open, idle, and callers waiting for one. */
  poolStats?(): { total: number; idle: number; waiting: number; max: number };
  close(): Promise<void>;
}

/** Postgres error codes Warden reacts to. */
export const PgCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
} as const;

export function pgErrorCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/**
 * The database cannot be reached or did not answer in time (a restart, a terminated session, a
 * network partition, a frozen server, a statement over its timeout). Requests answer 503 and the
 * next request tries again. A transaction that failed so was rolled back, except one whose COMMIT
 * was already on its way: like any 503 to a write, its outcome is for the client to check.
 */
export class DatabaseUnavailableError extends Error {
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`The database is unavailable (${reason}).`, options);
    this.name = 'DatabaseUnavailableError';
  }
}

/** SQLSTATEs of a connection that is gone or refused: class 08, shutdowns, too many connections. */
const UNAVAILABLE_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOENT']);
/** node-postgres's own messages for a connection that ended, never opened, or stopped answering. */
const DRIVER_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed and is not queryable)/;

/** Is this error the connection's (retry later), rather than the statement's (a bug or bad input)? */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const code = pgErrorCode(err);
  if (code && (code.startsWith('08') || UNAVAILABLE_CODES.has(code) || NETWORK_CODES.has(code))) return true;
  // 57014 is a cancel: the server's statement_timeout (an operator's pg_cancel_backend is the same code).
  if (code === '57014') return true;
  return err instanceof Error && DRIVER_MESSAGES.test(err.message);
}

/** `err` as a DatabaseUnavailableError when it is the connection's fault; otherwise unchanged. */
export function asUnavailable(err: unknown): unknown {
  if (err instanceof DatabaseUnavailableError || !isConnectionFailure(err)) return err;
  const code = pgErrorCode(err);
  return new DatabaseUnavailableError(code ? `${code}: ${(err as Error).message}` : (err as Error).message, { cause: err });
}
