/** docs/routes.md is generated from the route declarations (scripts/route-table.mjs) and must match them. */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTableMarkdown, type RouteDocsSource } from '../../src/http/route-docs.js';
import { ROUTE_SUMMARIES } from '../../src/http/route-summaries.js';
import { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let doc: RouteDocsSource;
beforeAll(async () => {
  server = await startServer();
  const res = await new Client(server.url).get('/api/schema/?format=json');
  expect(res.status).toBe(200);
  doc = res.body as RouteDocsSource;
});
afterAll(async () => {
  await server?.close();
});

describe('docs/routes.md', () => {
  it('is what the route declarations generate', async () => {
    const committed = await readFile(new URL('../../docs/routes.md', import.meta.url), 'utf8');
    expect(committed, 'docs/routes.md is out of date: run `npm run docs:routes` and commit docs/routes.md').toBe(routeTableMarkdown(doc));
  });

  it('lists every registered route once, with who may call it', () => {
    const generated = routeTableMarkdown(doc);
    const rows = generated.split('\n').filter((line) => /^\| (GET|POST|PUT|PATCH|DELETE) \|/.test(line));
    expect(rows).toHaveLength(server.routes.length);
    for (const route of server.routes) {
      const row = rows.find((r) => r.startsWith(`| ${route.method} | \`${route.url}\` |`));
      expect(row, `${route.method} ${route.url}`).toBeDefined();
    }
    expect(rows.find((r) => r.includes('`/api/projects/:project_id/feature_flags/:flag_id/`') && r.startsWith('| DELETE'))).toContain(
      '`feature_flag:write`; editor on feature_flag (`:flag_id`)',
    );
    expect(rows.find((r) => r.startsWith('| POST | `/capture/`'))).toContain('project token');
  });

  it('has a summary for each route from src/http/route-summaries.ts, whose every entry names a registered route', () => {
    const registered = new Set(server.routes.map((r) => `${r.method} ${r.url}`));
    expect(Object.keys(ROUTE_SUMMARIES).filter((key) => !registered.has(key))).toEqual([]);
    const path = doc.paths?.['/api/projects/{project_id}/feature_flags/'];
    expect(path?.get?.summary).toBe(ROUTE_SUMMARIES['GET /api/projects/:project_id/feature_flags/']);
  });
});
