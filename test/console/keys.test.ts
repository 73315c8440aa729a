/**
 * Personal API keys and service accounts in the console: a key made from a preset, its value shown
 * once and copied, then rolled and deleted — each checked against what the key can then do.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, type Org, type Person } from '../helpers/world.js';
import { LAPTOP, launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;
let member: Person;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  member = await addMember(org, 1);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const keysOf = async (person: Person) => (await person.client.get('/api/personal_api_keys/')).body as any[];

describe('personal API keys', () => {
  it('creates a BI read-only key from its preset, shows and copies it once, rolls and deletes it', async () => {
    const { page, context, problems } = await visit(browser, server.url, LAPTOP, ['clipboard-read', 'clipboard-write']);
    await logIn(page, org.owner.user.email);
    await open(page, 'Personal API keys');
    const form = page.getByRole('form', { name: 'Create key' });
    await form.getByLabel('Label').fill('BI dashboard');
    await form.getByRole('button', { name: 'BI read-only' }).click();
    expect(await form.getByLabel('insight: read').isChecked()).toBe(true);
    expect(await form.getByLabel('query: read').isChecked()).toBe(true);
    await form.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByRole('region', { name: 'Key “BI dashboard”' });
    const value = await secret.getByRole('textbox').inputValue();
    expect(value).toMatch(/^phx_/);
    // The value comes into view (the form is at the bottom of the page), focused, ready to copy.
    const box = await secret.getByRole('textbox').evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, height: window.innerHeight, focused: document.activeElement === el };
    });
    expect(box.top).toBeGreaterThanOrEqual(0);
    expect(box.bottom).toBeLessThanOrEqual(box.height);
    expect(box.focused).toBe(true);
    await secret.getByRole('button', { name: 'Copy' }).click();
    await secret.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
    await screenshot(page, 'personal-api-keys');

    const [key] = (await keysOf(org.owner)).filter((k) => k.label === 'BI dashboard');
    expect([...key.scopes].sort()).toEqual(['dashboard:read', 'insight:read', 'query:read']);
    expect(key.value).toBeNull();
    const bi = org.owner.client.withKey(value);
    expect((await bi.get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(200);
    expect((await bi.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: 'x' })).status).toBe(403);

    // Done hides the value for good; the table shows only its mask.
    await secret.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByText(value).count()).toBe(0);
    await page.getByRole('cell', { name: key.mask_value }).waitFor();

    await page.getByRole('button', { name: 'Roll BI dashboard' }).click();
    const rolled = await page.getByRole('region', { name: 'New value of “BI dashboard”' }).getByRole('textbox').inputValue();
    expect(rolled).not.toBe(value);
    expect((await bi.get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(401);
    expect((await org.owner.client.withKey(rolled).get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(200);

    await page.getByRole('button', { name: 'Delete BI dashboard' }).click();
    await saysDone(page, 'Key BI dashboard deleted.');
    expect((await keysOf(org.owner)).some((k) => k.label === 'BI dashboard')).toBe(false);
    expect((await org.owner.client.withKey(rolled).get(`/api/projects/${org.defaultProjectId}/insights/`)).status).toBe(401);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('creates a flag-service key limited to a project, with an expiry, and shows when it was last used', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Personal API keys');
    const form = page.getByRole('form', { name: 'Create key' });
    await form.getByLabel('Label').fill('Flag service');
    await form.getByRole('button', { name: 'Flag service' }).click();
    await form.getByLabel('Default project').check();
    const expiry = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await form.getByLabel('Expires on (optional)').fill(expiry);
    await form.getByRole('button', { name: 'Create key' }).click();
    const value = await page.getByRole('region', { name: 'Key “Flag service”' }).getByRole('textbox').inputValue();
    const [key] = (await keysOf(org.owner)).filter((k) => k.label === 'Flag service');
    expect([...key.scopes].sort()).toEqual(['feature_flag:read', 'feature_flag:write']);
    expect(key.scoped_teams).toEqual([org.defaultProjectId]);
    expect(key.expires_at.slice(0, 10) >= expiry.slice(0, 10) || key.expires_at.slice(0, 10) === expiry).toBe(true);
    expect((await org.owner.client.withKey(value).post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: 'from-console' })).status).toBe(201);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.reload();
    const row = page.getByRole('row').filter({ hasText: 'Flag service' });
    await row.waitFor();
    expect(await row.locator('td').nth(3).textContent()).not.toBe('never');
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('service accounts', () => {
  it('creates a service account and an event-export key for it', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Service accounts');
    const create = page.getByRole('form', { name: 'New service account' });
    await create.getByLabel('Name').fill('ETL bot');
    await create.getByRole('button', { name: 'Create service account' }).click();
    await saysDone(page, 'Service account ETL bot created.');
    const accounts = (await org.owner.client.get(`/api/organizations/${org.id}/service_accounts/`)).body.results as any[];
    const account = accounts.find((a) => a.name === 'ETL bot');
    expect(account).toMatchObject({ level: 1, is_service_account: true });

    const form = page.getByRole('form', { name: 'Create key for ETL bot' });
    await form.getByLabel('Label').fill('export');
    await form.getByRole('button', { name: 'Event export' }).click();
    await form.getByRole('button', { name: 'Create key for ETL bot' }).click();
    const value = await page.getByRole('region', { name: 'Key “export” of ETL bot' }).getByRole('textbox').inputValue();
    const keys = (await org.owner.client.get(`/api/organizations/${org.id}/service_accounts/${account.id}/keys/`)).body as any[];
    expect(keys.map((k) => [...k.scopes].sort())).toEqual([['event:read', 'query:read']]);
    expect((await org.owner.client.withKey(value).get(`/api/projects/${org.defaultProjectId}/events/`)).status).toBe(200);
    await screenshot(page, 'service-accounts');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a member key creation disabled when the organization forbids their keys, and service accounts read-only', async () => {
    expect((await org.owner.client.patch(`/api/organizations/${org.id}/`, { members_can_use_personal_api_keys: false })).status).toBe(200);
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    await open(page, 'Personal API keys');
    const create = page.getByRole('button', { name: 'Create key' });
    expect(await create.getAttribute('aria-disabled')).toBe('true');
    expect(await create.getAttribute('title')).toBe(
      "Organization 'Acme' does not allow using personal API keys. Contact an admin to enable personal API keys for this organization.",
    );
    expect(await page.getByLabel('Label').isDisabled()).toBe(true);
    await screenshot(page, 'personal-api-keys-as-member');
    await open(page, 'Service accounts');
    await page.getByRole('heading', { level: 2, name: /ETL bot/ }).waitFor();
    const newAccount = page.getByRole('button', { name: 'Create service account' });
    expect(await newAccount.getAttribute('title')).toBe('Your organization access level is insufficient.');
    expect(await page.getByRole('button', { name: 'Delete service account ETL bot' }).getAttribute('aria-disabled')).toBe('true');
    expect(problems).toEqual([]);
    await context.close();
  });
});
