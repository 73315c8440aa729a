import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { publicRoute } from '../../access/route-access.js';
import { notFound } from '../../domain/errors.js';
import { findProjectByToken, flagsForEvaluation } from '../../domain/analytics/feature-flags.js';
import type { Deps } from '../deps.js';
import { RemoteConfig, RemoteConfigParams } from '../schemas/remote-config.js';
import { TextBody } from '../schemas/documents.js';

/**
 * PostHog's remote config, which posthog-js loads before its flags: `/array/<token>/config.js` (a
 * script that sets `window._POSTHOG_REMOTE_CONFIG[token]`) and, when that fails, the JSON at
 * `/array/<token>/config`. Warden evaluates flags and stores events; recordings, surveys,
 * heatmaps, autocapture and site apps are off. `hasFeatureFlags` tells posthog-js whether to ask
 * /flags at all. A token that names no project gets a 404, the same for every such token.
 */

/** The project's remote config, in the shape PostHog's remote config has (camelCase keys). */
export async function remoteConfig(db: Deps['db'], projectId: number, token: string): Promise<RemoteConfig> {
  const flags = await flagsForEvaluation(db, projectId);
  return {
    token,
    supportedCompression: ['gzip', 'gzip-js'],
    hasFeatureFlags: flags.some((f) => f.active),
    captureDeadClicks: false,
    capturePerformance: false,
    autocapture_opt_out: true,
    autocaptureExceptions: false,
    analytics: { endpoint: '/i/v0/e/' },
    elementsChainAsString: true,
    sessionRecording: false,
    heatmaps: false,
    surveys: false,
    defaultIdentifiedOnly: true,
    siteApps: [],
  };
}

/** JSON that is safe inside a script: no `</script>`, no line terminators JavaScript refuses. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function remoteConfigRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const configOf = async (token: string) => {
    const project = token.length <= 200 && !token.includes('\u0000') ? await findProjectByToken(db, token) : undefined;
    if (!project) throw notFound();
    return remoteConfig(db, project.id, token);
  };
  const options = { config: { access: publicRoute } };

  api.get('/array/:token/config', { ...options, schema: { params: RemoteConfigParams, response: { 200: RemoteConfig } } }, async (request, reply) => {
    const config = await configOf(request.params.token);
    return reply.header('cache-control', 'no-cache').send(config);
  });
  // A script, not JSON: no response schema.
  api.get(
    '/array/:token/config.js',
    { ...options, schema: { params: RemoteConfigParams, response: { 200: TextBody('application/javascript', "posthog-js's remote config as a script") } } },
    async (request, reply) => {
      const config = await configOf(request.params.token);
      const { siteApps, ...rest } = config;
      const script =
        '(function(){window._POSTHOG_REMOTE_CONFIG=window._POSTHOG_REMOTE_CONFIG||{};' +
        `window._POSTHOG_REMOTE_CONFIG[${scriptJson(config.token)}]={config:${scriptJson(rest)},siteApps:${scriptJson(siteApps)}};})();\n`;
      return reply.header('cache-control', 'no-cache').type('application/javascript; charset=utf-8').send(script);
    },
  );
}
