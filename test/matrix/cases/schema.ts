import type { Case } from '../model.js';
import type { World } from '../world.js';

/** The OpenAPI document, its reference page and /metrics: public routes, the same answer for everyone. */
export function schemaCases(_w: World): Case[] {
  const open = (path: string): Case => ({
    route: `GET ${path}`,
    access: 'public',
    who: 'anyone',
    ok: 200,
    request: async () => ({ method: 'GET', path }),
  });
  return [
    { ...open('/api/schema/'), request: async () => ({ method: 'GET', path: '/api/schema/?format=json' }) },
    open('/api/schema/docs/'),
    open('/api/schema/docs/init.js'),
    open('/api/schema/docs/swagger-ui.css'),
    open('/api/schema/docs/swagger-ui-bundle.js'),
    open('/api/schema/docs/swagger-ui-standalone-preset.js'),
    // Metrics are off in the matrix's server (no WARDEN_METRICS_TOKEN): 404 for everyone.
    { route: 'GET /metrics', access: 'public', who: 'anyone', ok: 404, request: async () => ({ method: 'GET', path: '/metrics' }) },
  ];
}
