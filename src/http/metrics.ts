import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { securityEventsRecorded } from '../domain/activity/security-events.js';
import type { AccessCache } from '../cache/access-cache.js';
import { cacheOf } from '../cache/caching-database.js';
import type { Database } from '../store/database.js';
import { RequestTally } from './request-tally.js';
import { shareWithPrimary } from './cluster-metrics.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export interface RequestMetrics {
  registry: Registry;
  /** Counts an answered request: requests and latency by route, and the guard's decision. */
  recordRequest(request: FastifyRequest, reply: FastifyReply): void;
}

/** Extra gauges other parts register (the activity-log sinks' lag, cache ratios), read at scrape time. */
export type MetricsCollector = (registry: Registry) => void;

/**
 * Prometheus metrics of one Warden app: requests by route pattern and status with latency,
 * authorization decisions by outcome and reason, security events (failed logins, key
 * authentication failures, SSO failures, denials) and the database pool. One registry per app.
 * Requests and decisions are counted in plain maps on the hot path and handed to prom-client when
 * scraped (each metric's collect()), so a request costs no label hashing or validation.
 */
export function installMetrics(app: FastifyInstance, db: Database): RequestMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'warden' });
  collectDefaultMetrics({ register: registry, prefix: 'warden_process_' });
  const tally = new RequestTally(LATENCY_BUCKETS);
  new Counter({
    name: 'warden_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const series of tally.series()) for (const status of series.statuses.values()) this.inc(status.labels, status.count);
    },
  });
  new Histogram({
    name: 'warden_http_request_duration_seconds',
    help: 'HTTP request latency by method and route pattern.',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
    collect() {
      // The tally holds each series' bucket counts, sum and count; they are handed to prom-client in
      // the shape its Histogram keeps (`hashMap`: labels, per-bound counts, sum, count), which it renders.
      const self = this as unknown as { hashMap: Record<string, unknown> };
      self.hashMap = {};
      for (const series of tally.series()) {
        const bucketValues: Record<number, number> = {};
        LATENCY_BUCKETS.forEach((bound, i) => {
          bucketValues[bound] = series.buckets[i]!;
        });
        self.hashMap[`${series.labels.method}|${series.labels.route}`] = { labels: series.labels, bucketValues, sum: series.sum, count: series.count };
      }
    },
  });
  const decisionCounts = new Map<string, { labels: { outcome: string; reason: string }; count: number }>();
  new Counter({
    name: 'warden_authorization_decisions_total',
    help: 'Authorization decisions of the guard by outcome and reason.',
    labelNames: ['outcome', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, count } of decisionCounts.values()) this.inc(labels, count);
    },
  });
  const security = new Counter({
    name: 'warden_security_events_total',
    help: 'Security events recorded: login_failed, api_key_auth_failed, access_denied, sso_login_failed, scim_auth_failed.',
    labelNames: ['activity'],
    registers: [registry],
  });
  new Gauge({
    name: 'warden_db_pool_connections',
    help: 'Database pool connections by state (Postgres only).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const stats = db.poolStats?.();
      if (!stats) return;
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
      this.set({ state: 'max' }, stats.max);
    },
  });

  new Gauge({
    name: 'warden_activity_sink_lag_entries',
    help: "Entries of the organization's chain an enabled activity-log sink has not acknowledged yet.",
    labelNames: ['sink', 'organization'],
    // Read from the database: every worker sees the same lag.
    aggregator: 'max',
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.query<{ id: string; organization_id: string; lag: number }>(
        `SELECT s.id::text AS id, s.organization_id::text AS organization_id,
                greatest(coalesce(h.chain_seq, 0) - s.last_delivered_seq, 0)::int AS lag
           FROM activity_log_sinks s LEFT JOIN activity_chain_heads h ON h.organization_id = s.organization_id
          WHERE s.enabled`,
      );
      for (const row of rows) this.set({ sink: row.id, organization: row.organization_id }, row.lag);
    },
  });

  const cache = cacheOf(db);
  if (cache) registerCacheMetrics(registry, cache);

  const onSecurityEvent = (activity: string) => security.inc({ activity });
  securityEventsRecorded.on('recorded', onSecurityEvent);
  // Under --workers, the primary collects every worker's metrics for a scrape (src/http/cluster-metrics.ts).
  const stopSharing = shareWithPrimary(registry);
  app.addHook('onClose', async () => {
    securityEventsRecorded.off('recorded', onSecurityEvent);
    stopSharing();
  });
  /** Counts one answered request (the app's one onResponse hook calls it): a few map lookups, no prom-client work. */
  const recordRequest = (request: FastifyRequest, reply: FastifyReply): void => {
    tally.record(request.method, request.routeOptions.url ?? 'not_found', reply.statusCode, reply.elapsedTime / 1000);
    const decision = request.ctx?.decision;
    if (!decision) return;
    const key = decision.allow ? '' : decision.reason;
    let entry = decisionCounts.get(key);
    if (!entry) {
      entry = { labels: { outcome: decision.allow ? 'allow' : 'deny', reason: decision.allow ? 'granted' : decision.reason }, count: 0 };
      decisionCounts.set(key, entry);
    }
    entry.count++;
  };
  return { registry, recordRequest };
}

/** The access cache (src/cache/): lookups by kind of fact and result, hit ratio, size, trust. */
function registerCacheMetrics(registry: Registry, cache: AccessCache): void {
  new Counter({
    name: 'warden_access_cache_lookups_total',
    help: 'Access-cache lookups by kind of fact and result: hit (from memory), miss (read and kept), bypass (read, cache not trusted).',
    labelNames: ['space', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [space, counts] of cache.statsBySpace()) {
        this.inc({ space, result: 'hit' }, counts.hits);
        this.inc({ space, result: 'miss' }, counts.misses);
        this.inc({ space, result: 'bypass' }, counts.bypasses);
      }
    },
  });
  new Gauge({
    name: 'warden_access_cache_hit_ratio',
    help: 'Share of access-cache lookups answered from memory since start (hits / all lookups).',
    aggregator: 'average',
    registers: [registry],
    collect() {
      const { hits, misses, bypasses } = cache.stats();
      const all = hits + misses + bypasses;
      this.set(all === 0 ? 0 : hits / all);
    },
  });
  new Gauge({
    name: 'warden_access_cache_entries',
    help: 'Facts the access cache holds.',
    registers: [registry],
    collect() {
      this.set(cache.stats().entries);
    },
  });
  new Counter({
    name: 'warden_access_cache_invalidations_total',
    help: 'Things named changed (by this node, another node or the database) since start.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(cache.stats().invalidations);
    },
  });
  new Gauge({
    name: 'warden_access_cache_trusted',
    help: '1 while the node hears of every change (the cache serves), 0 while its invalidation connection is down (every read goes to the database).',
    aggregator: 'min',
    registers: [registry],
    collect() {
      this.set(cache.isTrusted ? 1 : 0);
    },
  });
}

/** Compares a presented bearer token with the configured one in constant time. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
