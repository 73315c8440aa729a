import { readFileSync } from 'node:fs';
import type { WardenConfig } from '../../config.js';
import type { Database } from '../../store/database.js';
import type { ChainedActivityRow } from './activity-log.js';
import { pruneExpired } from './activity-retention.js';
import { sinkDeliverer } from './activity-sink-delivery.js';
import { outboundPolicy } from '../../net/outbound-policy.js';

/**
 * The activity log's background work inside the server: delivery to sinks (every sinkPollMs) and
 * retention (every retentionIntervalMs, first run shortly after start). Both are safe with several
 * nodes on one Postgres (sink leases under FOR UPDATE SKIP LOCKED; pruning under the chain's lock).
 */

/** Runs `run` now and then `intervalMs` after each run ends, never two at once; `stop()` waits for the run in progress. */
export function periodic(run: () => Promise<void>, intervalMs: number, onError: (err: unknown) => void, firstDelayMs = 0) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    timer = null;
    running = run()
      .catch(onError)
      .finally(() => {
        running = null;
        if (!stopped) schedule(intervalMs);
      });
  };
  const schedule = (ms: number) => {
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  schedule(firstDelayMs);
  return {
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      while (running) await running;
    },
  };
}

/** How long a stopping node waits for a sink's answer to the delivery in flight. */
export const SHUTDOWN_GRACE_MS = 5_000;

export interface JobLog {
  error(obj: unknown, msg: string): void;
}

export function startActivityJobs(db: Database, config: WardenConfig, log: JobLog, entry: (row: ChainedActivityRow) => Record<string, unknown>) {
  const deliverer = sinkDeliverer(db, {
    retryBaseMs: config.sinkRetryBaseMs,
    retryMaxMs: config.sinkRetryMaxMs,
    entry,
    policy: outboundPolicy(config.outboundAllow),
    ...(config.sinkCaFile ? { ca: readFileSync(config.sinkCaFile, 'utf8') } : {}),
  });
  const delivery = periodic(
    () => deliverer.runOnce(),
    config.sinkPollMs,
    (err) => log.error({ err }, 'activity sink delivery failed'),
    config.sinkPollMs,
  );
  const retention = periodic(
    async () => void (await pruneExpired(db, config.auditKeyFile)),
    config.retentionIntervalMs,
    (err) => log.error({ err }, 'activity log retention failed'),
    Math.min(config.retentionIntervalMs, 5000),
  );
  return {
    /**
     * Drains: no new sink is claimed, a delivery in flight gets up to SHUTDOWN_GRACE_MS for its
     * answer (and its cursor moves if it was a 2xx); after that it is aborted and its sink released,
     * so the next node or start delivers the batch again (at least once).
     */
    async stop(): Promise<void> {
      deliverer.stopClaiming();
      const grace = setTimeout(() => deliverer.abort(), SHUTDOWN_GRACE_MS);
      try {
        await Promise.all([delivery.stop(), retention.stop()]);
      } finally {
        clearTimeout(grace);
        deliverer.abort();
      }
    },
  };
}
