/**
 * Access requests in the console: a member refused a private project asks for access from the 403
 * screen; an admin sees the count in the navigation, approves one for less time and denies another.
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
let admin: Person;
let privateId: number;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  member = await addMember(org, 1);
  admin = await addMember(org, 8);
  const project = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Production', access_control: true });
  privateId = project.body.id;
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const requests = () => `/api/projects/${privateId}/access_requests/`;

describe('access requests', () => {
  it('lets a refused member ask for access from the 403 screen', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    await page.goto(`/projects/${privateId}`);
    const screen = page.getByRole('region', { name: "You don't have access…" });
    await screen.getByText("You don't have access to the project.").waitFor();
    await screen.getByLabel('Level').selectOption('admin');
    await screen.getByLabel('For').selectOption({ label: '1 day' });
    await screen.getByLabel('Reason').fill('Release week');
    await screen.getByRole('button', { name: 'Request access' }).click();
    await saysDone(page, 'Your request was sent to the people who can grant it.');
    const mine = (await member.client.get(requests())).body.results as any[];
    expect(mine.map((r) => [r.resource, r.access_level, r.duration_hours, r.reason, r.state])).toEqual([['project', 'admin', 24, 'Release week', 'pending']]);
    await screenshot(page, 'request-access');
    // A member has no requests to decide: no count in the navigation.
    await expect(
      page
        .getByRole('navigation', { name: 'Console' })
        .getByText(/pending access request/)
        .count(),
    ).resolves.toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the pending count to deciders, who approve for less and deny with a reason', async () => {
    const other = await addMember(org, 1);
    const denied = await other.client.post(requests(), { resource: 'project', access_level: 'member', duration_hours: 8, reason: 'Curious' });
    expect(denied.status, JSON.stringify(denied.body)).toBe(201);

    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, admin.user.email);
    const nav = page.getByRole('navigation', { name: 'Console' });
    await nav.getByText('2 pending access requests', { exact: true }).waitFor();
    await open(page, 'Access requests');
    const item = (email: string) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: new RegExp(`^${email}`) }) });
    await item(member.user.email)
      .getByRole('heading', { name: `${member.user.email} asks for admin access to project Production` })
      .waitFor();
    await screenshot(page, 'access-requests');

    await item(member.user.email).getByLabel(`Level for ${member.user.email}`).selectOption('member');
    await item(member.user.email).getByLabel(`Duration for ${member.user.email}`).selectOption({ label: '8 hours' });
    await item(member.user.email).getByRole('button', { name: 'Approve' }).click();
    await saysDone(page, `Approved: ${member.user.email} has member access to project Production.`);
    await nav.getByText('1 pending access request', { exact: true }).waitFor();
    const project = await member.client.get(`/api/projects/${privateId}/`);
    expect(project.status).toBe(200);

    await item(other.user.email).getByLabel(`Reason for ${other.user.email}`).fill('Not needed');
    await item(other.user.email).getByRole('button', { name: 'Deny' }).click();
    await saysDone(page, `Denied: ${other.user.email}'s request for project Production.`);
    await page.getByText('No pending access requests.').waitFor();
    await expect(nav.getByText(/pending access request/).count()).resolves.toBe(0);

    const all = (await admin.client.get(requests())).body.results as any[];
    const byRequester = Object.fromEntries(all.map((r) => [r.requester.email, [r.state, r.granted_access_level, r.decision_reason]]));
    expect(byRequester).toEqual({ [member.user.email]: ['approved', 'member', null], [other.user.email]: ['denied', null, 'Not needed'] });
    expect(problems).toEqual([]);
    await context.close();
  });
});
