/**
 * posthog-js in a real browser, as an app uses it: the page on one origin, loading the SDK from its
 * npm package, `api_host` on Warden's origin (another loopback port). Flags arrive through
 * onFeatureFlags (booleans, variants, payloads), identify reloads them with the person's
 * properties, and every event the SDK captured (also the one sent by sendBeacon as the page closes)
 * is stored.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, type Org } from '../helpers/world.js';
import { launch, screenshot, visit } from './browser.js';

const FILES: Record<string, [string, string]> = {
  '/': [join(REPO, 'test/fixtures/posthog-js-page/index.html'), 'text/html; charset=utf-8'],
  '/app.js': [join(REPO, 'test/fixtures/posthog-js-page/app.js'), 'text/javascript'],
  '/posthog-js/module.js': [join(REPO, 'node_modules/posthog-js/dist/module.js'), 'text/javascript'],
};

let warden: TestServer;
let app: Server;
let appUrl: string;
let browser: Browser;
let org: Org;
let token: string;

beforeAll(async () => {
  app = createServer((req, res) => {
    const file = FILES[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[1] }).end(readFileSync(file[0]));
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  appUrl = `http://127.0.0.1:${(app.address() as { port: number }).port}`;
  // One at a time: each is assigned as soon as it exists, so afterAll stops it whatever fails next.
  warden = await startServer();
  browser = await launch();
  org = await newOrganization(warden.url);
  token = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/`)).body.api_token;
  const flags = `/api/projects/${org.defaultProjectId}/feature_flags/`;
  const all = { properties: [], rollout_percentage: 100 };
  for (const body of [
    { key: 'on', filters: { groups: [all], payloads: { true: '{"banner":"hi"}' } } },
    { key: 'off', filters: { groups: [{ properties: [], rollout_percentage: 0 }] } },
    {
      key: 'targeted',
      filters: { groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@acme.example' }], rollout_percentage: 100 }] },
    },
    {
      key: 'multi',
      filters: {
        groups: [all],
        multivariate: {
          variants: [
            { key: 'control', rollout_percentage: 50 },
            { key: 'test', rollout_percentage: 50 },
          ],
        },
        payloads: { control: '"c"', test: '"t"' },
      },
    },
  ]) {
    expect((await org.owner.client.post(flags, body)).status).toBe(201);
  }
});
afterAll(async () => {
  await browser?.close();
  await warden?.close();
  app?.closeAllConnections();
  await new Promise((resolve) => app?.close(resolve));
});

const flagLoads = (page: Page) => page.evaluate(() => (window as any).seen.flagLoads as any[]);
const captured = (page: Page) => page.evaluate(() => (window as any).seen.captured as Array<{ uuid: string; event: string }>);

async function storedEvents(): Promise<Array<{ uuid: string; event: string; distinct_id: string }>> {
  return warden.db.query('SELECT uuid::text AS uuid, event, distinct_id FROM events WHERE team_id = $1', [org.defaultProjectId]);
}

/** Polls until `check` holds (bounded): the SDK sends in batches, on its own timers. */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('posthog-js against Warden, cross-origin', () => {
  it('loads flags, variants and payloads, reloads them after identify, and stores every captured event', async () => {
    const { page, context, problems } = await visit(browser, appUrl);
    const failed: string[] = [];
    const apiCalls: string[] = [];
    // posthog-js asks its api_host for lazily loaded extension scripts (/static/surveys.js, even with
    // surveys off): Warden serves no SDK assets and answers 404 (readable: CORS), and the SDK carries on.
    page.on('requestfailed', (r) => {
      if (!r.url().startsWith(`${warden.url}/static/`)) failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`);
    });
    page.on('requestfinished', (r) => {
      if (r.url().startsWith(warden.url)) apiCalls.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await page.goto(`/?token=${token}&api=${encodeURIComponent(warden.url)}`);

    const [first] = await eventually(
      () => flagLoads(page),
      (loads) => loads.length >= 1,
      'the first flags',
    );
    expect(first.errorsLoading).toBe(false);
    expect(first.flags.sort()).toEqual(['multi', 'on']);
    expect(first.on).toBe(true);
    expect(first.targeted).toBe(false);
    expect(['control', 'test']).toContain(first.variant);
    expect(first.variants).toMatchObject({ on: true, multi: first.variant });
    expect(first.onPayload).toEqual({ banner: 'hi' });
    expect(first.multiPayload).toBe(first.variant === 'control' ? 'c' : 't');
    // The remote config came first (the script, as the SDK loads it), then the flags.
    expect(apiCalls).toContain(`GET /array/${token}/config.js`);
    expect(apiCalls).toContain('POST /flags/');

    // identify: a new distinct id with person properties; the flags are asked again and the targeted one is on.
    await page.evaluate(() => {
      (window as any).posthog.capture('clicked_buy', { plan: 'pro' });
      (window as any).posthog.identify('ada-1', { email: 'ada@acme.example' });
    });
    const reloaded = await eventually(
      () => flagLoads(page),
      (loads) => loads.at(-1)?.targeted === true,
      'flags after identify',
    );
    expect(reloaded.at(-1)).toMatchObject({ on: true, errorsLoading: false });
    expect(reloaded.at(-1).flags.sort()).toEqual(['multi', 'on', 'targeted']);
    await page.evaluate(() => (window as any).posthog.capture('after_identify'));
    await screenshot(page, 'posthog-js-app');

    // Every event the SDK captured is stored, with its uuid.
    const sent = await captured(page);
    expect(sent.map((e) => e.event)).toEqual(expect.arrayContaining(['$pageview', 'clicked_buy', '$identify', 'after_identify']));
    const stored = await eventually(storedEvents, (rows) => sent.every((e) => rows.some((r) => r.uuid === e.uuid)), 'the captured events');
    expect(stored.find((r) => r.event === 'after_identify')?.distinct_id).toBe('ada-1');

    // An event captured as the page goes away leaves by sendBeacon (form-encoded base64) and is stored too.
    await page.evaluate(() => (window as any).posthog.capture('leaving'));
    const leaving = (await captured(page)).find((e) => e.event === 'leaving')!;
    await page.close({ runBeforeUnload: true });
    await eventually(storedEvents, (rows) => rows.some((r) => r.uuid === leaving.uuid), 'the event sent on unload');

    expect(failed).toEqual([]);
    expect(problems.filter((p) => !p.includes(`${warden.url}/static/`))).toEqual([]);
    await context.close();
  });
});
