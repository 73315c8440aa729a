import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import type { Deps } from '../deps.js';
import { Health } from '../schemas/health.js';

/** How long readiness waits for the database before calling it down. */
export const HEALTH_TIMEOUT_MS = 2_000;

/**
 * Readiness, for load balancers and orchestrators: 200 `{"status":"ok","database":"up"}` while the
 * database answers within HEALTH_TIMEOUT_MS, else 503 in PostHog's error shape (code
 * `database_unavailable`), never a hang. A node that answers 503 here answers 503 to requests that
 * need the database too, and recovers on its own when the database is back. Under
 * `warden serve --workers N` it also names the worker process that answered (`worker: {slot, pid}`).
 */
export function healthRoutes(app: FastifyInstance, { db }: Deps): void {
  const worker = cluster.isWorker ? { slot: Number(process.env.WARDEN_WORKER_SLOT) || cluster.worker?.id, pid: process.pid } : undefined;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/_health', { config: { access: publicRoute }, schema: { response: { 200: Health } } }, async (_request, reply) => {
    await db.ping(HEALTH_TIMEOUT_MS);
    return reply.send(worker ? { status: 'ok', database: 'up', worker } : { status: 'ok', database: 'up' });
  });
}
