import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { publicRoute } from '../../access/route-access.js';
import type { Deps } from '../deps.js';
import { OpenApiDocument, SchemaQuery } from '../schemas/schema.js';
import { TextBody } from '../schemas/documents.js';

/** swagger-ui-dist's files the reference page needs. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};
const assetDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Warden API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script><script src="swagger-ui-standalone-preset.js"></script><script src="init.js"></script>
</body></html>`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/api/schema/?format=json', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });`;
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/**
 * The OpenAPI document (PostHog serves its own at /api/schema/: YAML by default, `?format=json`
 * or `Accept: application/json` for JSON) and an interactive reference page at /api/schema/docs/.
 */
export function schemaRoutes(app: FastifyInstance, _deps: Deps): void {
  const config = { access: publicRoute };
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get('/api/schema/', { config, schema: { querystring: SchemaQuery, response: { 200: OpenApiDocument } } }, async (request, reply) => {
    const { format } = request.query;
    const wantsJson = format === 'json' || (format === undefined && /application\/json/.test(request.headers.accept ?? ''));
    const document = app.swagger();
    if (wantsJson) return reply.type('application/json; charset=utf-8').send(document);
    return reply.type('application/vnd.oai.openapi; charset=utf-8').send(stringify(document, { aliasDuplicateObjects: false }));
  });

  app.get('/api/schema/docs/', { config, schema: { response: { 200: TextBody('text/html', 'The API reference page') } } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').send(PAGE),
  );
  app.get(
    '/api/schema/docs/init.js',
    { config, schema: { response: { 200: TextBody('text/javascript', "The API reference page's script") } } },
    async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('x-content-type-options', 'nosniff').send(INIT),
  );
  for (const [file, type] of Object.entries(ASSETS)) {
    app.get(
      `/api/schema/docs/${file}`,
      { config, schema: { response: { 200: TextBody(type.split(';')[0]!, "The API reference page's asset") } } },
      async (_request, reply) =>
        reply
          .type(type)
          .header('cache-control', 'public, max-age=86400')
          .header('x-content-type-options', 'nosniff')
          .send(await readFile(join(assetDir, file))),
    );
  }
}
