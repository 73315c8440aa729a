/** One method and route pattern: its latency histogram (per-bucket counts, sum, count) and its counts per status. */
export interface RequestSeries {
  labels: { method: string; route: string };
  /** Observations per upper bound (not cumulative), in the order of the bounds; the last slot is above every bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
  statuses: Map<number, { labels: { method: string; route: string; status: string }; count: number }>;
}

/**
 * Request counts and latencies kept in plain maps (route → method → series): recording one is two
 * map lookups and a few additions. The metrics (src/http/metrics.ts) read it when scraped.
 */
export class RequestTally {
  private readonly byRoute = new Map<string, Map<string, RequestSeries>>();

  constructor(private readonly bounds: readonly number[]) {}

  record(method: string, route: string, status: number, seconds: number): void {
    let methods = this.byRoute.get(route);
    if (!methods) this.byRoute.set(route, (methods = new Map()));
    let series = methods.get(method);
    if (!series) {
      series = { labels: { method, route }, buckets: new Float64Array(this.bounds.length + 1), sum: 0, count: 0, statuses: new Map() };
      methods.set(method, series);
    }
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    series.buckets[i]!++;
    series.sum += seconds;
    series.count++;
    let byStatus = series.statuses.get(status);
    if (!byStatus) series.statuses.set(status, (byStatus = { labels: { method, route, status: String(status) }, count: 0 }));
    byStatus.count++;
  }

  *series(): IterableIterator<RequestSeries> {
    for (const methods of this.byRoute.values()) yield* methods.values();
  }
}
