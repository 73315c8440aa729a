import { DatabaseUnavailableError, isConnectionFailure, pgErrorCode } from './database.js';

/**
 * Fail fast while the database is known to be unreachable. Once a connection has failed (refused,
 * ended by the server, or silent past its read timeout), requests are not each sent to wait out
 * their own timeouts: one probe at a time asks the database (`SELECT 1`, a short timeout), and
 * until one answers, requests get DatabaseUnavailableError at once (at most every `retryMs` a new
 * probe). The first answer ends the outage, so recovery is seen within about `retryMs`.
 */
export class Outage {
  private down = false;
  private failedAt = -Infinity;
  private probing: Promise<void> | null = null;

  constructor(
    private readonly probe: () => Promise<void>,
    private readonly retryMs = 500,
  ) {}

  /**
   * Notes a failure. Only the connection's count: not a statement cancelled by its timeout (one slow
   * query), nor a wait for a free pooled connection (load), nor a refusal for too many connections.
   */
  report(err: unknown): void {
    if (!isConnectionFailure(err)) return;
    const cause = (err as { cause?: unknown }).cause ?? err;
    const code = pgErrorCode(cause);
    if (code === '57014' || code === '53300') return;
    if (cause instanceof Error && cause.message.startsWith('timeout exceeded when trying to connect')) return;
    this.down = true;
  }

  /** Resolves when a request may go to the database; throws DatabaseUnavailableError during an outage. */
  async admit(): Promise<void> {
    if (!this.down) return;
    if (!this.probing && performance.now() - this.failedAt < this.retryMs) {
      throw new DatabaseUnavailableError('unreachable a moment ago; trying again shortly');
    }
    this.probing ??= this.probe().then(
      () => {
        this.down = false;
        this.probing = null;
      },
      (err: unknown) => {
        this.failedAt = performance.now();
        this.probing = null;
        throw err;
      },
    );
    await this.probing;
  }

  get isDown(): boolean {
    return this.down;
  }
}
