import type { FastifyInstance } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import type { Deps } from '../deps.js';

export function healthRoutes(app: FastifyInstance, { db }: Deps): void {
  app.get('/_health', { config: { access: publicRoute } }, async (_request, reply) => {
    await db.query('SELECT 1');
    return reply.send({ status: 'ok' });
  });
}
