/**
 * The activity log and approvals in the console: filters, before/after of a change, export and the
 * chain status; an approval policy, then a member's flag deletion approved and another rejected.
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
let flags: string;

beforeAll(async () => {
  [server, browser] = await Promise.all([startServer(), launch()]);
  org = await newOrganization(server.url, 'Acme');
  member = await addMember(org, 1);
  flags = `/api/projects/${org.defaultProjectId}/feature_flags/`;
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const newFlag = async (key: string) => {
  const res = await org.owner.client.post(flags, { key, name: `${key} flag` });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as number;
};

describe('activity log', () => {
  it('filters entries, shows a change before and after, exports and shows the chain intact', async () => {
    const id = await newFlag('checkout');
    expect((await org.owner.client.patch(`${flags}${id}/`, { name: 'New checkout' })).status).toBe(200);
    expect((await member.client.post(`/api/projects/${org.defaultProjectId}/dashboards/`, { name: 'Mine' })).status).toBe(201);
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Activity log');

    const chain = page.getByRole('region', { name: 'Tamper evidence' });
    await chain.getByText('Chain intact').waitFor();
    const verify = (await org.owner.client.get(`/api/organizations/${org.id}/activity_log/verify/`)).body;
    expect(verify.ok).toBe(true);

    const entries = page.locator('.activity-list > li');
    // The scope is chosen from the scopes Warden writes, by their names.
    await page.getByLabel('Scope').selectOption({ label: 'Feature flags' });
    const api = (await org.owner.client.get(`/api/organizations/${org.id}/activity_log/?scope=FeatureFlag`)).body.results as any[];
    await expect.poll(() => entries.count()).toBe(api.length);
    expect(api.length).toBe(2);
    // The update's before and after.
    const updated = entries.filter({ hasText: 'updated' });
    await updated.getByText(/^Changes/).click();
    expect(await updated.locator('del').first().textContent()).toBe('checkout flag');
    expect(await updated.locator('ins').first().textContent()).toBe('New checkout');
    await screenshot(page, 'activity-log');

    // Person and project filters, and a date range with nothing in it.
    await page.getByLabel('Scope').selectOption({ label: 'Any' });
    await page.getByLabel('Person').selectOption({ label: member.user.email });
    await entries.first().waitFor();
    await expect.poll(async () => (await entries.allTextContents()).every((t) => t.includes(member.user.email))).toBe(true);
    await page.getByLabel('Project').selectOption({ label: 'Default project' });
    await entries.filter({ hasText: 'Dashboard' }).first().waitFor();
    await page.getByLabel('Until').fill('2001-01-01');
    await page.getByText('No entries match.').waitFor();
    // A range that ends before it starts is an error at "Until" (as the API says too), and nothing is listed.
    await page.getByLabel('From').fill('2001-02-01');
    await page.locator('.field-error').filter({ hasText: '"Until" must be on or after "From".' }).waitFor();
    expect(await page.getByLabel('Until').getAttribute('aria-invalid')).toBe('true');
    expect(await entries.count()).toBe(0);
    expect(await page.getByRole('link', { name: 'CSV' }).count()).toBe(0);
    await screenshot(page, 'activity-log-range-error');
    const reversed = await org.owner.client.get(`/api/organizations/${org.id}/activity_log/?after=2001-02-01T00:00:00Z&before=2001-01-01T00:00:00Z`);
    expect(reversed.status).toBe(400);
    expect(reversed.body).toMatchObject({ code: 'invalid_range', attr: 'before' });
    await page.getByLabel('From').fill('');

    // Export with the same filters, as the link downloads it.
    await page.getByLabel('Until').fill('');
    await page.getByLabel('Person').selectOption({ label: 'Anyone' });
    await page.getByLabel('Scope').selectOption({ label: 'Feature flags' });
    const href = await page.getByRole('link', { name: 'CSV' }).getAttribute('href');
    expect(href).toContain('scope=FeatureFlag');
    await page.getByLabel('Project').selectOption({ label: 'Any' });
    const csv = await page.request.get(href!);
    expect(csv.status()).toBe(200);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines.length).toBe(1 + api.length);
    // The SIEM feed with the same filters: OCSF events of the same entries, oldest first.
    const feed = await page.getByRole('link', { name: 'OCSF' }).getAttribute('href');
    expect(feed).toContain('schema=ocsf');
    expect(feed).toContain('scopes=FeatureFlag');
    const ocsf = await page.request.get(feed!);
    expect(ocsf.status()).toBe(200);
    const events = (await ocsf.json()).results as { class_uid: number; metadata: { product: unknown }; time: number }[];
    expect(events.length).toBe(api.length);
    expect(events.every((e) => e.class_uid === 6003 && e.metadata.product !== undefined)).toBe(true);
    expect(events.map((e) => e.time)).toEqual([...events.map((e) => e.time)].sort((a, b) => a - b));
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a member their entries without chain status or export', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    await open(page, 'Activity log');
    await page.getByText('Chain verification and export are for admins.').waitFor();
    await page.locator('.activity-list > li').first().waitFor();
    expect(await page.getByRole('link', { name: 'CSV' }).count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Tamper evidence' }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('approvals', () => {
  it('adds a policy; a member’s flag deletion waits for approval; one is approved and one rejected', async () => {
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, org.owner.user.email);
    await open(page, 'Approvals');
    await page.getByRole('button', { name: 'Add policy' }).click();
    await saysDone(page, 'Policy added.');
    const policies = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/approval_policies/`)).body.results as any[];
    expect(policies.map((p) => [p.action, p.role])).toEqual([['delete_feature_flag', null]]);

    const approveMe = await newFlag('old-banner');
    const rejectMe = await newFlag('pricing');
    for (const id of [approveMe, rejectMe]) {
      const res = await member.client.request('DELETE', `${flags}${id}/`);
      expect(res.status, JSON.stringify(res.body)).toBe(409);
    }
    await page.getByLabel('State').selectOption('approved');
    await page.getByLabel('State').selectOption('pending');
    const request = (id: number) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: `delete feature flag feature_flag ${id}` }) });
    await request(approveMe).getByRole('button', { name: 'Approve' }).click();
    await saysDone(page, `Approved: delete feature flag feature_flag ${approveMe}.`);
    await expect.poll(() => request(approveMe).count()).toBe(0);
    expect((await org.owner.client.get(`${flags}${approveMe}/`)).status).toBe(404);

    await request(rejectMe)
      .getByLabel(/^Reason/)
      .fill('Still in use');
    await request(rejectMe).getByRole('button', { name: 'Reject' }).click();
    await saysDone(page, `Rejected: delete feature flag feature_flag ${rejectMe}.`);
    expect((await org.owner.client.get(`${flags}${rejectMe}/`)).status).toBe(200);
    const decided = (await org.owner.client.get(`/api/projects/${org.defaultProjectId}/change_requests/`)).body.results as any[];
    expect(decided.map((r) => [r.resource_id, r.state, r.reason]).sort()).toEqual(
      [
        [String(approveMe), 'applied', null],
        [String(rejectMe), 'rejected', 'Still in use'],
      ].sort(),
    );
    await page.getByLabel('State').selectOption('');
    await request(rejectMe).waitFor();
    await screenshot(page, 'approvals');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the requester their own request with approve and reject disabled', async () => {
    const id = await newFlag('mine');
    expect((await member.client.request('DELETE', `${flags}${id}/`)).status).toBe(409);
    const { page, context, problems } = await visit(browser, server.url);
    await logIn(page, member.user.email);
    await open(page, 'Approvals');
    const approve = page
      .getByRole('listitem')
      .filter({ hasText: `feature_flag ${id}` })
      .getByRole('button', { name: 'Approve' });
    expect(await approve.getAttribute('aria-disabled')).toBe('true');
    expect(await approve.getAttribute('title')).toBe('You cannot approve or reject your own change request.');
    expect(await page.getByRole('button', { name: 'Add policy' }).getAttribute('title')).toBe(
      'You need to be an organization admin to change approval policies.',
    );
    await screenshot(page, 'approvals-as-member');
    expect(problems).toEqual([]);
    await context.close();
  });
});
