/**
 * Issue 24: the key inventory in the console. An admin sees every member's keys (owner, masked
 * value, confinement), revokes a member's key (which then stops working), and cannot touch the
 * owner's key (the button says why); a member is told the page is for admins.
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

describe('key inventory', () => {
  it("lists members' keys, revokes one, and cannot touch a key of someone above the admin", async () => {
    const memberKey = await keyClient(member, ['feature_flag:read'], { scoped_teams: [org.defaultProjectId] });
    const ownerKey = await keyClient(org.owner, ['*']);
    const flags = `/api/projects/${org.defaultProjectId}/feature_flags/`;
    expect((await memberKey.get(flags)).status).toBe(200);

    const { page, context, problems } = await visit(browser, server.url, LAPTOP);
    await logIn(page, admin.user.email);
    await open(page, 'Key inventory');
    const table = page.getByRole('table', { name: 'Personal API keys of the organization' });
    const rowOf = (email: string) => table.getByRole('row').filter({ hasText: email });
    await rowOf(member.user.email).waitFor();
    const cells = await rowOf(member.user.email).locator('td').allTextContents();
    expect(cells[1]).toBe('k-feature_flag:read');
    expect(cells[2]).toMatch(/^phx_\.\.\..{4}$/);
    expect(cells[3]).toBe('feature_flag:read');
    expect(cells[4]).toBe('Default project');
    await screenshot(page, 'key-inventory');

    // The owner's key: shown, its Revoke refused with the reason.
    const ownerRevoke = rowOf(org.owner.user.email).getByRole('button', { name: /^Revoke/ });
    expect(await ownerRevoke.getAttribute('aria-disabled')).toBe('true');
    expect(await ownerRevoke.getAttribute('title')).toBe('You can only edit others with level lower or equal to you.');
    await ownerRevoke.click({ force: true });
    expect((await ownerKey.get(flags)).status).toBe(200);

    await rowOf(member.user.email)
      .getByRole('button', { name: `Revoke k-feature_flag:read of ${member.user.email}` })
      .click();
    await saysDone(page, `Key k-feature_flag:read of ${member.user.email} revoked`);
    expect((await memberKey.get(flags)).status).toBe(401);
    await expect.poll(async () => rowOf(member.user.email).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('tells a member the inventory is for admins', async () => {
    const { page, context, problems } = await visit(browser, server.url, LAPTOP);
    await logIn(page, member.user.email);
    await open(page, 'Key inventory');
    await page.getByRole('alert').filter({ hasText: 'Your organization access level is insufficient.' }).waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});
