import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import type { Deps } from '../deps.js';
import { errorBody, sendError } from '../errors.js';
import { tokenMatches } from '../metrics.js';
import { MetricsText } from '../schemas/metrics.js';
import { scrape } from '../cluster-metrics.js';

/**
 * Prometheus metrics. Off unless WARDEN_METRICS_TOKEN is set (then 404, as for any unknown path);
 * with it, scrapers send `Authorization: Bearer <token>`. Not a user credential: no session or
 * personal API key opens it.
 */
export function metricsRoutes(app: FastifyInstance, { config, metrics }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/metrics', { config: { access: publicRoute }, schema: { response: { 200: MetricsText } } }, async (request, reply) => {
    if (!config.metricsToken) return sendError(reply, 404, errorBody('invalid_request', 'not_found', 'Not found.'));
    const presented = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]?.trim();
    if (!tokenMatches(presented, config.metricsToken)) {
      reply.header('www-authenticate', 'Bearer realm="metrics"');
      return sendError(reply, 401, errorBody('authentication_error', 'authentication_failed', 'A valid metrics token is required.'));
    }
    return reply.type(metrics.contentType).send(await scrape(metrics));
  });
}
