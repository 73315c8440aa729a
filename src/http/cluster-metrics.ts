import cluster, { type Worker } from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry, type Registry } from 'prom-client';

/** One worker's metrics, as `registry.getMetricsAsJSON()` gives them. */
type Metric = Awaited<ReturnType<Registry['getMetricsAsJSON']>>[number];

/**
 * /metrics under `warden serve --workers N` (src/cli/workers.ts): the worker that gets the scrape
 * asks the primary, which collects every worker's metrics (as JSON, over the cluster's IPC channel)
 * and merges them with prom-client's AggregatorRegistry: counters and histograms summed, gauges as
 * each declares (`aggregator`). Without workers, the app's own registry answers.
 */

export type MetricsMessage =
  | { warden: 'metrics-request'; id: string }
  | { warden: 'metrics-collect'; id: string }
  | { warden: 'metrics-part'; id: string; metrics: Metric[] }
  | { warden: 'metrics-answer'; id: string; text?: string; error?: string };

const isMessage = (value: unknown): value is MetricsMessage =>
  typeof value === 'object' && value !== null && typeof (value as { warden?: unknown }).warden === 'string';

const pending = new Map<string, { resolve: (text: string) => void; reject: (err: Error) => void }>();

/** In a worker: answers the primary's collection requests from `registry`. Returns how to stop. */
export function shareWithPrimary(registry: Registry): () => void {
  if (!cluster.isWorker) return () => undefined;
  const onMessage = (message: unknown) => {
    if (!isMessage(message)) return;
    if (message.warden === 'metrics-collect') {
      void registry.getMetricsAsJSON().then(
        (metrics) => process.send?.({ warden: 'metrics-part', id: message.id, metrics } satisfies MetricsMessage),
        () => process.send?.({ warden: 'metrics-part', id: message.id, metrics: [] } satisfies MetricsMessage),
      );
    } else if (message.warden === 'metrics-answer') {
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      if (message.text !== undefined) waiting?.resolve(message.text);
      else waiting?.reject(new Error(message.error ?? 'metrics unavailable'));
    }
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** The text a scrape answers: every worker's metrics merged under --workers, else this registry's. */
export function scrape(registry: Registry, timeoutMs = 5_000): Promise<string> {
  if (!cluster.isWorker || !process.send) return registry.metrics();
  const id = randomUUID();
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      reject(new Error('the primary did not answer the metrics request'));
    }, timeoutMs);
    pending.set(id, {
      resolve: (text) => (clearTimeout(timer), resolve(text)),
      reject: (err) => (clearTimeout(timer), reject(err)),
    });
    process.send!({ warden: 'metrics-request', id } satisfies MetricsMessage);
  });
}

/** In the primary: asks every live worker for its metrics and answers the one that asked, merged. */
export function answerMetricsRequests(timeoutMs = 4_000): void {
  cluster.on('message', (from, message: unknown) => {
    if (!isMessage(message) || message.warden !== 'metrics-request') return;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    const id = randomUUID();
    const parts: Metric[][] = [];
    const answer = (reply: MetricsMessage) => {
      cluster.off('message', collect);
      clearTimeout(timer);
      if (from.isConnected()) from.send(reply);
    };
    const finish = async () => {
      try {
        answer({ warden: 'metrics-answer', id: message.id, text: await AggregatorRegistry.aggregate(parts).metrics() });
      } catch (err) {
        answer({ warden: 'metrics-answer', id: message.id, error: (err as Error).message });
      }
    };
    const collect = (_worker: unknown, part: unknown) => {
      if (!isMessage(part) || part.warden !== 'metrics-part' || part.id !== id) return;
      parts.push(part.metrics);
      if (parts.length === workers.length) void finish();
    };
    // A worker that does not answer in time (busy, dying) is left out rather than failing the scrape.
    const timer = setTimeout(() => void finish(), timeoutMs);
    cluster.on('message', collect);
    for (const worker of workers) worker.send({ warden: 'metrics-collect', id } satisfies MetricsMessage);
  });
}
