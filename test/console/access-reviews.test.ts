/**
 * Issue 25, part 3: access reviews in the console. An admin starts a review of the organization,
 * sees the items with their flags, revokes a member's unused key and keeps another item, closes
 * the review (keeping what is undecided), and the key stops working; the evidence downloads. A
 * member cannot start one (the form says why).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';
import { LAPTOP, launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

let server: TestServer;
let browser: Browser;
let org: Org;
let admin: Person;
let member: Person;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  admin = await addMember(org, 8);
  member = await addMember(org, 1);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('access reviews', () => {
  it('starts a review, flags an unused key, revokes it, closes, and the key stops working', async () => {
    const key = await keyClient(member, ['feature_flag:read']);
    const flags = `/api/projects/${org.defaultProjectId}/feature_flags/`;
    expect((await key.get(flags)).status).toBe(200);
    await server.db.query("UPDATE personal_api_keys SET last_used_at = now() - interval '120 days' WHERE id = $1", [key.keyId]);

    const { page, context, problems } = await visit(browser, server.url, LAPTOP);
    await logIn(page, admin.user.email);
    await open(page, 'Access reviews');
    const form = page.getByRole('form', { name: 'New review' });
    await form.getByLabel('Name').fill('Q3 review');
    await form.getByRole('button', { name: 'Start review' }).click();
    await saysDone(page, 'Review Q3 review started.');

    const table = page.getByRole('table', { name: 'Items of the review Q3 review' });
    const keyRow = table.getByRole('row').filter({ hasText: 'API key' }).filter({ hasText: member.user.email });
    await keyRow.waitFor();
    expect(await keyRow.locator('.badge').allTextContents()).toEqual(['unused 90+ days']);
    await keyRow.getByRole('textbox').fill('not used since spring');
    await keyRow.getByRole('button', { name: /^Revoke API key/ }).click();
    await saysDone(page, /^Revoke: API key/);
    await expect.poll(async () => (await keyRow.locator('td').nth(4).textContent()) ?? '').toContain(`revoke (${admin.user.email})`);
    // The owner is above the admin: Revoke says why it is unavailable.
    const ownerRevoke = table
      .getByRole('row')
      .filter({ hasText: org.owner.user.email })
      .getByRole('button', { name: /^Revoke/ });
    expect(await ownerRevoke.getAttribute('aria-disabled')).toBe('true');
    expect(await ownerRevoke.getAttribute('title')).toBe('You can only edit others with level lower or equal to you.');
    const memberRow = table.getByRole('row').filter({ hasText: 'Organization access' }).filter({ hasText: member.user.email });
    await memberRow.getByRole('button', { name: /^Keep/ }).click();
    await saysDone(page, /^Keep: member/);
    await screenshot(page, 'access-reviews');

    // Closing with undecided items needs "Keep undecided items".
    await page.getByRole('button', { name: 'Close review' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /no decision/ })
      .first()
      .waitFor();
    expect((await key.get(flags)).status).toBe(200);
    await page.getByLabel('Keep undecided items').check();
    await page.getByRole('button', { name: 'Close review' }).click();
    await saysDone(page, 'Review Q3 review closed: its revocations are applied.');
    expect((await key.get(flags)).status).toBe(401);
    await expect.poll(async () => (await keyRow.locator('td').nth(4).textContent()) ?? '').toContain('revoked');
    await page.getByText(/activity chain at closing: #\d+ [0-9a-f]{64}/).waitFor();

    // The evidence link answers CSV with the note and the decision.
    const href = await page.getByRole('link', { name: 'Download evidence (CSV)' }).getAttribute('href');
    const csv = await page.request.get(href!);
    expect(csv.status()).toBe(200);
    const text = await csv.text();
    expect(text).toContain('not used since spring');
    expect(text).toContain(admin.user.email);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('tells a member that starting a review is for admins', async () => {
    const { page, context, problems } = await visit(browser, server.url, LAPTOP);
    await logIn(page, member.user.email);
    await open(page, 'Access reviews');
    const start = page.getByRole('button', { name: 'Start review' });
    expect(await start.getAttribute('aria-disabled')).toBe('true');
    expect(await start.getAttribute('title')).toBe('Your organization access level is insufficient.');
    await page.getByText('No reviews yet.').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});
