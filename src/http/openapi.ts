import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { describeAccess, type RouteAccess } from '../access/route-access.js';
import { ROUTE_SUMMARIES } from './route-summaries.js';

/** Security schemes by the route's declared access. */
function securityOf(access: RouteAccess): Array<Record<string, string[]>> | undefined {
  switch (access.kind) {
    case 'public':
      return [];
    case 'project_token':
      return [{ ProjectToken: [] }];
    case 'scim_token':
      return [{ ScimToken: [] }];
    case 'scoped':
      return [{ Session: [] }, { PersonalApiKey: [`${access.scope}:${access.action}`] }];
    case 'key_management':
      return [{ Session: [] }, { PersonalApiKey: access.keys === 'self' ? [] : ['*'] }];
  }
}

/** The scope a personal API key needs, as the document states it per operation. */
export function requiredScope(access: RouteAccess): string | null {
  if (access.kind === 'scoped') return `${access.scope}:${access.action}`;
  if (access.kind === 'key_management') return access.keys === 'self' ? null : '*';
  return null;
}

/**
 * The OpenAPI 3.1 document, generated from every route's schemas as it is registered. Each
 * operation's description says what access it needs (from the route's own declaration), and
 * `x-warden-access` / `x-required-scope` carry it for machines. Registered before any route.
 */
export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Warden',
        version,
        description: "Self-hosted access control that speaks PostHog's API. Errors have PostHog's shape {type, code, detail, attr}.",
      },
      components: {
        securitySchemes: {
          PersonalApiKey: { type: 'http', scheme: 'bearer', description: 'A personal API key (phx_...) with the scopes listed.' },
          Session: { type: 'apiKey', in: 'cookie', name: 'sessionid', description: 'A browser session; writes also send X-CSRFToken.' },
          ProjectToken: { type: 'apiKey', in: 'query', name: 'token', description: "A project's token (phc_...), also accepted in the body." },
          ScimToken: { type: 'http', scheme: 'bearer', description: "The domain's SCIM bearer token." },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const access = (route.config as { access?: RouteAccess } | undefined)?.access;
      if (!access) return { schema: { ...schema, hide: true } as FastifySchema, url };
      const tag = url.split('/').filter((p) => p && p !== 'api' && !p.startsWith(':'))[0] ?? 'root';
      const scope = requiredScope(access);
      const method = Array.isArray(route.method) ? route.method[0] : route.method;
      const summary = (schema as { summary?: string } | undefined)?.summary ?? ROUTE_SUMMARIES[`${method} ${url}`];
      const described = {
        ...schema,
        ...(summary ? { summary } : {}),
        description: [schema?.description, describeAccess(access)].filter(Boolean).join('\n\n'),
        tags: [tag],
        security: securityOf(access),
        'x-warden-access': access,
        ...(scope ? { 'x-required-scope': scope } : {}),
      };
      return { schema: described as FastifySchema, url };
    },
  });
}
