/**
 * Time-bound grants in the console (docs/time-bound-access.md): an owner raises a member to Admin
 * until a moment, with a reason, and the member list shows the expiry, the reason and the level it
 * falls back to; a project's explicit member added with an expiry shows it too.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, newOrganization, type Org, type Person } from '../helpers/world.js';
import { launch, logIn, open, saysDone, screenshot, visit } from './browser.js';

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

/** A datetime-local value an hour or so ahead (the browser's local time). */
function localInAnHour(): string {
  const at = new Date(Date.now() + 3_600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
}

describe('time-bound grants', () => {
  it('raises a member until an expiry with a reason, and lists the expiry, the reason and the fall-back level', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    const form = page.getByRole('form', { name: 'Raise to Admin for a while' });
    await form.getByLabel('Member').selectOption({ label: member.user.email });
    await form.getByLabel('Expires').fill(localInAnHour());
    await form.getByLabel('Reason').fill('release night');
    await form.getByRole('button', { name: 'Raise' }).click();
    await saysDone(page, 'Raised to Admin until the expiry.');
    const listed = (await org.owner.client.get(`/api/organizations/${org.id}/members/`)).body.results.find(
      (m: { user: { uuid: string } }) => m.user.uuid === member.user.uuid,
    );
    expect(listed).toMatchObject({ level: 8, reason: 'release night', level_after_expiry: 1 });
    expect(new Date(listed.expires_at).getTime()).toBeGreaterThan(Date.now());
    const row = page.getByRole('row').filter({ hasText: member.user.email });
    await row.getByText(/^expires /).waitFor();
    await row.getByText('release night').waitFor();
    await row.getByText(/then Member/).waitFor();
    await screenshot(page, 'time-bound-members');
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows an explicit project member's expiry and offers an expiry when adding one", async () => {
    const project = (await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Vault', access_control: true })).body;
    const expiresAt = new Date(Date.now() + 7_200_000).toISOString();
    const added = await org.owner.client.post(`/api/projects/${project.id}/explicit_members/`, {
      user_uuid: member.user.uuid,
      expires_at: expiresAt,
      reason: 'audit',
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Projects');
    await page.getByRole('link', { name: 'Vault' }).first().click();
    await page.getByRole('heading', { level: 2, name: 'Vault' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: member.user.email });
    await row.getByText(/^expires /).waitFor();
    await row.getByText('audit').waitFor();
    await page.getByRole('form', { name: 'Add a project member' }).getByLabel('Expires (optional)').waitFor();
    await screenshot(page, 'time-bound-project');
    expect(problems).toEqual([]);
    await context.close();
  });
});
