/**
 * Keys bound to networks and rates in the console (docs/key-networks.md): a key made with allowed
 * ranges and a rate, shown in the key table and the inventory; a range that does not parse refused
 * with the API's message; ranges changed from the table; the organization's "require ranges" switch.
 * The test server does not trust a proxy: the browser's and the tests' requests come from 127.0.0.1.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { newOrganization, type Org } from '../helpers/world.js';
import { launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Netco');
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const keys = async () => (await org.owner.client.get('/api/personal_api_keys/')).body as any[];

describe('keys bound to networks', () => {
  it('creates a key with ranges and a rate, refuses a bad range, edits the ranges, and requires ranges by organization', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Personal API keys');
    const form = page.getByRole('form', { name: 'Create key' });

    // A range that does not parse: the API's message, nothing made.
    await form.getByLabel('Label').fill('Bad range');
    await form.getByRole('button', { name: 'BI read-only' }).click();
    await form.getByLabel('Allowed address ranges (optional)').fill('10.0.0.0/33');
    await form.getByRole('button', { name: 'Create key' }).click();
    await page.getByText("'10.0.0.0/33' is not an IP address or CIDR range").first().waitFor();
    expect(await keys()).toEqual([]);

    await form.getByLabel('Label').fill('Office');
    await form.getByLabel('Allowed address ranges (optional)').fill('203.0.113.9/24, 2001:db8::/32');
    await form.getByLabel('Rate limit (requests per minute, optional)').fill('60');
    await form.getByRole('button', { name: 'Create key' }).click();
    const value = await page.getByRole('region', { name: 'Key “Office”' }).getByRole('textbox').inputValue();
    const [key] = await keys();
    expect(key).toMatchObject({ label: 'Office', allowed_ips: ['203.0.113.0/24', '2001:db8::/32'], rate_limit_per_minute: 60 });
    await page.getByRole('cell', { name: /203\.0\.113\.0\/24, 2001:db8::\/32/ }).waitFor();
    await page.getByText('60/min').waitFor();
    // From 127.0.0.1 the key is outside its ranges.
    const office = org.owner.client.withKey(value);
    expect((await office.get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(403);
    await screenshot(page, 'key-networks');

    // The table's editor changes the ranges: loopback is now inside.
    await page.getByRole('button', { name: 'Networks of Office' }).click();
    const editor = page.getByRole('form', { name: 'Networks of Office' });
    expect(await editor.getByLabel('Allowed address ranges').inputValue()).toBe('203.0.113.0/24, 2001:db8::/32');
    await editor.getByLabel('Allowed address ranges').fill('127.0.0.0/8, ::1');
    await editor.getByRole('button', { name: 'Save networks' }).click();
    await saysDone(page, 'Networks of Office saved.');
    expect((await keys())[0].allowed_ips).toEqual(['127.0.0.0/8', '::1/128']);
    expect((await office.get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(200);

    // The organization requires ranges: the switch, then the key form says so and a key without them is refused.
    await open(page, 'Organization settings');
    await page.getByLabel('Require address ranges on every key').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await saysDone(page, 'Settings saved.');
    expect((await org.owner.client.get(`/api/organizations/${org.id}/`)).body.require_key_ip_ranges).toBe(true);
    await open(page, 'Personal API keys');
    expect(await form.getByLabel('Allowed address ranges (required here)').getAttribute('required')).not.toBeNull();

    // The inventory shows each key's networks.
    await open(page, 'Key inventory');
    await page.getByRole('cell', { name: /127\.0\.0\.0\/8, ::1\/128/ }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
