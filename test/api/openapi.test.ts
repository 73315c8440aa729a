/** The OpenAPI 3.1 document: valid by a standard validator, complete, and stating every route's access. */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeAccess } from '../../src/access/route-access.js';
import { requiredScope } from '../../src/http/openapi.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let doc: any;
beforeAll(async () => {
  server = await startServer();
  const res = await new Client(server.url).get('/api/schema/?format=json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(async () => {
  await server?.close();
});

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace('*', '{*}');

describe('GET /api/schema/', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('holds every registered route, each with its access and required scope', () => {
    expect(server.routes.length).toBeGreaterThan(100);
    const missing: string[] = [];
    for (const route of server.routes) {
      const operation = doc.paths?.[openApiPath(route.url)]?.[route.method.toLowerCase()];
      if (!operation) {
        missing.push(`${route.method} ${route.url}`);
        continue;
      }
      expect(operation['x-warden-access'], `${route.method} ${route.url}`).toEqual(route.access);
      expect(operation.description).toContain(describeAccess(route.access));
      expect(operation['x-required-scope'] ?? null).toBe(requiredScope(route.access));
    }
    expect(missing).toEqual([]);
  });

  it('states the response of every operation: a 2xx (or a redirect) response schema, not the default placeholder', () => {
    // @fastify/swagger writes `200: {description: 'Default Response'}` (no content) for a route without a
    // response schema; a declared one has its content, or (a bodiless 204 or a redirect) a description of its own.
    const undeclared: string[] = [];
    for (const route of server.routes) {
      const operation = doc.paths?.[openApiPath(route.url)]?.[route.method.toLowerCase()];
      const declared = Object.entries(operation?.responses ?? {}).filter(
        ([status, response]: [string, any]) =>
          /^(2(\d\d|XX)|30[12378])$/.test(status) && (response.content !== undefined || response.description !== 'Default Response'),
      );
      if (declared.length === 0) undeclared.push(`${route.method} ${route.url}`);
    }
    expect(undeclared).toEqual([]);
  });

  it('shows the shapes of responses, with the nullable and optional fields as they are', () => {
    const flag = doc.paths['/api/projects/{project_id}/feature_flags/{flag_id}/'].get.responses['200'].content['application/json'].schema;
    expect(flag.required).toEqual(expect.arrayContaining(['id', 'key', 'filters', 'created_by', 'created_at']));
    expect(flag.properties.created_by.anyOf.map((s: any) => s.type ?? 'object')).toEqual(['object', 'null']);
    const list = doc.paths['/api/organizations/{organization_id}/members/'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(list.properties)).toEqual(['count', 'next', 'previous', 'results']);
    const sink = doc.paths['/api/organizations/{organization_id}/activity_log_sinks/'].post.responses['201'].content['application/json'].schema;
    expect(sink.required).not.toContain('secret');
    expect(Object.keys(doc.paths['/api/personal_api_keys/{key_id}/'].delete.responses)).toContain('204');
  });

  it('names the scope in the description and security of a scoped route', () => {
    const op = doc.paths['/api/projects/{project_id}/feature_flags/']?.get;
    expect(op.description).toContain('feature_flag:read');
    expect(op.security).toEqual([{ Session: [] }, { PersonalApiKey: ['feature_flag:read'] }]);
    expect(doc.paths['/api/projects/{project_id}/feature_flags/'].post['x-required-scope']).toBe('feature_flag:write');
  });

  it('is YAML by default (as PostHog serves it) and JSON on request, the same document', async () => {
    const client = new Client(server.url);
    const yaml = await fetch(new URL('/api/schema/', server.url));
    expect(yaml.headers.get('content-type')).toContain('application/vnd.oai.openapi');
    expect(parse(await yaml.text())).toEqual(doc);
    const json = await client.request('GET', '/api/schema/', undefined, { headers: { accept: 'application/json' } });
    expect(json.body).toEqual(doc);
    expect((await client.get('/api/schema/?format=xml')).status).toBe(400);
  });

  it('serves an interactive reference page with its assets, under a strict CSP', async () => {
    const page = await fetch(new URL('/api/schema/docs/', server.url));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).not.toMatch(/<script>[^<]/);
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'init.js']) {
      expect(html).toContain(asset);
      const res = await fetch(new URL(`/api/schema/docs/${asset}`, server.url));
      expect(res.status, asset).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });
});
