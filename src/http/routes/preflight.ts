import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import { countUsers } from '../../domain/identity/users.js';
import type { Deps } from '../deps.js';
import { Preflight } from '../schemas/preflight.js';

/**
 * PostHog's `GET /api/preflight/`: what a signed-out page needs to know about the instance. The
 * console reads `initiated` (does the instance have a user yet?) to open on the create-owner page.
 */
export function preflightRoutes(app: FastifyInstance, { db, config }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/preflight/', { config: { access: publicRoute }, schema: { response: { 200: Preflight } } }, async () => ({
    initiated: (await countUsers(db)) > 0,
    cloud: false,
    demo: false,
    realm: 'hosted',
    site_url: config.publicUrl,
    signup_enabled: config.openSignup,
    email_service_available: config.smtp !== undefined,
  }));
}
