/**
 * Issue 24: PostHog's advanced activity log for SIEMs, with OCSF events (schema=ocsf), an opaque
 * cursor bound to its organization, filters by time, class and actor, and the activity log's own
 * access rules. Every event returned is checked against the OCSF schema's required fields
 * (test/fixtures/ocsf/required-fields.json, which cites the schema version it was read from).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../helpers/client.js';
import { eventually } from '../helpers/https-receiver.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

interface Requirements {
  base_event: { required: string[] };
  classes: Record<string, { name: string; category_uid: number; required: string[]; at_least_one?: string[]; activity_ids: number[] }>;
  objects: Record<string, { required?: string[]; at_least_one?: string[] }>;
  severity_ids: number[];
  status_ids: number[];
}
const OCSF: Requirements = JSON.parse(readFileSync(new URL('../fixtures/ocsf/required-fields.json', import.meta.url), 'utf8'));

const present = (v: unknown) => v !== undefined && v !== null && v !== '';
function checkObject(name: string, value: any, where: string) {
  expect(value, `${where} must be an object`).toBeTypeOf('object');
  const spec = OCSF.objects[name]!;
  for (const field of spec.required ?? []) expect(present(value[field]), `${where}.${field} is required`).toBe(true);
  if (spec.at_least_one)
    expect(
      spec.at_least_one.some((f) => present(value[f])),
      `${where} needs one of ${spec.at_least_one}`,
    ).toBe(true);
}

/** Fails unless the event carries every field OCSF requires of its class, in the types OCSF gives them. */
function validateOcsf(event: any) {
  const where = `event ${event?.metadata?.uid}`;
  for (const field of OCSF.base_event.required) expect(present(event[field]), `${where}: ${field} is required`).toBe(true);
  const cls = OCSF.classes[String(event.class_uid)];
  expect(cls, `${where}: class ${event.class_uid}`).toBeDefined();
  expect(event.category_uid).toBe(cls!.category_uid);
  expect(cls!.activity_ids).toContain(event.activity_id);
  expect(event.type_uid).toBe(event.class_uid * 100 + event.activity_id);
  expect(OCSF.severity_ids).toContain(event.severity_id);
  if (event.status_id !== undefined) expect(OCSF.status_ids).toContain(event.status_id);
  expect(Number.isInteger(event.time) && event.time > 1_600_000_000_000, `${where}: time is epoch milliseconds`).toBe(true);
  for (const field of cls!.required) expect(present(event[field]), `${where}: ${cls!.name} requires ${field}`).toBe(true);
  if (cls!.at_least_one)
    expect(
      cls!.at_least_one.some((f) => present(event[f])),
      `${where}: one of ${cls!.at_least_one}`,
    ).toBe(true);
  checkObject('metadata', event.metadata, `${where}.metadata`);
  checkObject('product', event.metadata.product, `${where}.metadata.product`);
  expect(event.metadata.version).toMatch(/^1\.\d+\.\d+$/);
  if (event.actor) {
    checkObject('actor', event.actor, `${where}.actor`);
    if (event.actor.user) checkObject('user', event.actor.user, `${where}.actor.user`);
  }
  if (event.user) checkObject('user', event.user, `${where}.user`);
  if (event.api) checkObject('api', event.api, `${where}.api`);
  if (event.src_endpoint) checkObject('network_endpoint', event.src_endpoint, `${where}.src_endpoint`);
  if (event.service) checkObject('service', event.service, `${where}.service`);
}

let server: TestServer;
let org: Org;
let admin: Person;
let member: Person;
let flagId: number;
const base = () => `/api/organizations/${org.id}/advanced_activity_logs/`;

async function all(client: Client, path: string): Promise<any[]> {
  const events: any[] = [];
  let next: string | null = path;
  for (let pages = 0; next && pages < 50; pages++) {
    const res: { status: number; body: any } = await client.get(next.replace(/^https?:\/\/[^/]+/, ''));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    events.push(...res.body.results);
    next = res.body.next;
  }
  return events;
}

beforeAll(async () => {
  server = await startServer();
  org = await newOrganization(server.url);
  admin = await addMember(org, 8);
  member = await addMember(org, 1);
  const flag = await org.owner.client.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: 'siem-flag', name: 'SIEM flag' });
  expect(flag.status, JSON.stringify(flag.body)).toBe(201);
  flagId = flag.body.id;
  // A refused sign-in (Authentication) and a refused request (API Activity, failure).
  expect((await new Client(server.url).post('/api/login/', { email: member.user.email, password: 'wrong password!' })).status).toBe(400);
  expect((await member.client.get(`/api/organizations/${org.id}/activity_log/verify/`)).status).toBe(403);
  // A write, so the refusals above are chained too.
  expect((await org.owner.client.patch(`/api/projects/${org.defaultProjectId}/feature_flags/${flagId}/`, { name: 'SIEM flag 2' })).status).toBe(200);
});
afterAll(() => server?.close());

describe('OCSF events', () => {
  it('maps every entry to a valid OCSF event of the right class', async () => {
    const events = await all(org.owner.client, `${base()}?schema=ocsf&page_size=1000`);
    expect(events.length).toBeGreaterThan(5);
    for (const event of events) validateOcsf(event);
    const classes = new Set(events.map((e) => e.class_uid));
    expect([...classes].sort()).toEqual([3001, 3002, 6003]);

    const login = events.find((e) => e.class_uid === 3002);
    expect(login).toMatchObject({ activity_id: 1, type_uid: 300201, status_id: 2, status: 'Failure', user: { email_addr: member.user.email } });
    const joined = events.find((e) => e.unmapped.activity === 'member_joined' && e.actor.user?.uid === member.user.uuid);
    expect(joined).toMatchObject({ class_uid: 3001, activity_id: 1, type_uid: 300101 });
    const created = events.find((e) => e.unmapped.scope === 'FeatureFlag' && e.unmapped.activity === 'created');
    expect(created).toMatchObject({
      class_uid: 6003,
      activity_id: 1,
      type_uid: 600301,
      status_id: 1,
      api: { operation: 'FeatureFlag.created' },
      actor: { user: { uid: org.owner.user.uuid, email_addr: org.owner.user.email } },
      resources: [{ uid: String(flagId), type: 'FeatureFlag', name: 'siem-flag' }],
      metadata: { version: '1.5.0', product: { name: 'Warden', vendor_name: 'Warden' }, tenant_uid: org.id },
    });
    const updated = events.find((e) => e.unmapped.scope === 'FeatureFlag' && e.unmapped.activity === 'updated');
    expect(updated).toMatchObject({ activity_id: 3, type_uid: 600303 });
    const denied = events.find((e) => e.unmapped.activity === 'access_denied');
    expect(denied).toMatchObject({ class_uid: 6003, status_id: 2, api: { operation: 'GET /api/organizations/:organization_id/activity_log/verify/' } });
    expect(denied.activity_id).toBe(2);
  });

  it('answers PostHog activity-log entries without schema=ocsf', async () => {
    const res = await org.owner.client.get(`${base()}?page_size=5`);
    expect(res.status).toBe(200);
    expect(res.body.results[0]).toHaveProperty('scope');
    expect(res.body.results[0]).toHaveProperty('activity');
    expect(res.body.results[0]).not.toHaveProperty('class_uid');
  });
});

describe('cursor pagination', () => {
  it('walks every entry once, newest first, through opaque cursors', async () => {
    const everything = (await org.owner.client.get(`${base()}?schema=ocsf&page_size=1000`)).body.results.map((e: any) => e.metadata.uid);
    const paged = (await all(org.owner.client, `${base()}?schema=ocsf&page_size=2`)).map((e) => e.metadata.uid);
    expect(paged).toEqual(everything);
    const first = await org.owner.client.get(`${base()}?schema=ocsf&page_size=2`);
    const cursor = new URL(first.body.next).searchParams.get('cursor')!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(first.body.previous).toBeNull();
  });

  it('follows: oldest first in commit order, a next link always, and only new entries after it', async () => {
    // Entries are served once the background chainer has placed them: wait for every entry so far.
    await eventually('every entry so far is chained', async () => {
      const [row] = await server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM activity_log WHERE organization_id = $1 AND chain_seq IS NULL', [
        org.id,
      ]);
      return row!.n === 0;
    });
    let next = `${base()}?schema=ocsf&ordering=created_at&follow=true&page_size=1000`;
    let res = await org.owner.client.get(next);
    const times: number[] = [];
    await eventually('the feed is drained', async () => {
      times.push(...res.body.results.map((e: any) => e.time));
      expect(res.body.next).toBeTruthy();
      if (res.body.results.length === 0) return true;
      next = res.body.next;
      res = await org.owner.client.get(next.replace(/^https?:\/\/[^/]+/, ''));
      return false;
    });
    expect(times.length).toBeGreaterThan(0);
    expect(times).toEqual([...times].sort((a: number, b: number) => a - b));
    expect(res.body.next).toBe(next);
    const flag = await org.owner.client.post(`/api/projects/${org.defaultProjectId}/feature_flags/`, { key: 'after-poll' });
    expect(flag.status).toBe(201);
    await eventually(
      'the new entry is chained and polled',
      async () => {
        res = await org.owner.client.get(next.replace(/^https?:\/\/[^/]+/, ''));
        return res.body.results.length > 0;
      },
      5_000,
    );
    expect(res.body.results.map((e: any) => e.unmapped.item_id)).toEqual([String(flag.body.id)]);
    for (const event of res.body.results) validateOcsf(event);
  });

  it('refuses a cursor from another organization, another project, another ordering or no cursor at all (400, nothing read)', async () => {
    const other = await newOrganization(server.url);
    const theirs = await other.owner.client.get(`/api/organizations/${other.id}/advanced_activity_logs/?page_size=1`);
    const foreign = new URL(theirs.body.next).searchParams.get('cursor')!;
    // The owner of both sees that the cursor's organization decides, not who holds it.
    expectError(await org.owner.client.get(`${base()}?cursor=${foreign}`), 400, 'This cursor belongs to another organization.', 'cursor');
    const project = await org.owner.client.get(`/api/projects/${org.defaultProjectId}/advanced_activity_logs/?page_size=1`);
    expect(project.status).toBe(200);
    const projectCursor = new URL(project.body.next).searchParams.get('cursor')!;
    expectError(await org.owner.client.get(`${base()}?cursor=${projectCursor}`), 400, 'This cursor belongs to another project.', 'cursor');
    const newest = new URL((await org.owner.client.get(`${base()}?page_size=1`)).body.next).searchParams.get('cursor')!;
    expectError(await org.owner.client.get(`${base()}?ordering=created_at&cursor=${newest}`), 400, 'This cursor belongs to another ordering.', 'cursor');
    expectError(await org.owner.client.get(`${base()}?cursor=not-a-cursor`), 400, 'Invalid cursor.', 'cursor');
    const forged = Buffer.from(JSON.stringify({ v: 1, o: 'x', p: null, k: 'newest', a: 1 })).toString('base64url');
    expectError(await org.owner.client.get(`${base()}?cursor=${forged}`), 400, 'Invalid cursor.', 'cursor');
  });
});

describe('filters', () => {
  it('by class', async () => {
    for (const cls of [3001, 3002, 6003]) {
      const events = await all(org.owner.client, `${base()}?schema=ocsf&class_uid=${cls}&page_size=1000`);
      expect(events.length).toBeGreaterThan(0);
      expect(new Set(events.map((e) => e.class_uid))).toEqual(new Set([cls]));
    }
    const two = await all(org.owner.client, `${base()}?schema=ocsf&class_uid=3001,3002&page_size=1000`);
    expect(new Set(two.map((e) => e.class_uid))).toEqual(new Set([3001, 3002]));
    expectError(await org.owner.client.get(`${base()}?class_uid=4001`), 400, undefined, 'class_uid');
  });

  it('by actor and by time', async () => {
    const byAdmin = await all(org.owner.client, `${base()}?schema=ocsf&users=${admin.user.uuid}&page_size=1000`);
    expect(byAdmin.length).toBeGreaterThan(0);
    expect(byAdmin.every((e) => e.actor.user?.uid === admin.user.uuid)).toBe(true);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await org.owner.client.get(`${base()}?schema=ocsf&start_date=${future}`)).body.results).toEqual([]);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect((await org.owner.client.get(`${base()}?schema=ocsf&end_date=${past}`)).body.results).toEqual([]);
    expectError(await org.owner.client.get(`${base()}?start_date=yesterday`), 400, undefined, 'start_date');
    expectError(await org.owner.client.get(`${base()}?users=not-a-uuid`), 400, undefined, 'users');
    expectError(await org.owner.client.get(`${base()}?schema=cef`), 400, undefined, 'schema');
    expectError(await org.owner.client.get(`${base()}?follow=true`), 400, undefined, 'follow');
  });
});

describe('access: the activity log rules', () => {
  it('members see no security events and only redacted entries about objects they cannot view', async () => {
    const [row] = await server.db.query<{ id: string }>('SELECT id::text FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
      org.id,
      member.user.id,
    ]);
    const rule = await org.owner.client.put(`/api/projects/${org.defaultProjectId}/feature_flags/${flagId}/access_controls/`, {
      access_level: 'none',
      organization_member: row!.id,
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(200);
    const events = await all(member.client, `${base()}?schema=ocsf&page_size=1000`);
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) validateOcsf(event);
    expect(events.some((e) => e.unmapped.scope === 'Security')).toBe(false);
    const aboutFlag = events.filter((e) => e.unmapped.scope === 'FeatureFlag' && e.unmapped.item_id === String(flagId));
    expect(aboutFlag.length).toBeGreaterThan(0);
    for (const e of aboutFlag) {
      expect(e.unmapped.detail).toBeNull();
      expect(JSON.stringify(e)).not.toMatch(/siem-flag|SIEM flag/);
    }
    // The owner sees it all.
    const ownerView = await all(org.owner.client, `${base()}?schema=ocsf&page_size=1000`);
    expect(ownerView.some((e) => e.unmapped.scope === 'FeatureFlag' && JSON.stringify(e).includes('siem-flag'))).toBe(true);
  });

  it('keys need activity_log:read; outsiders find no organization', async () => {
    const without = await keyClient(org.owner, ['feature_flag:read']);
    expectError(await without.get(base()), 403, "API key missing required scope 'activity_log:read'");
    const withScope = await keyClient(org.owner, ['activity_log:read']);
    expect((await withScope.get(`${base()}?schema=ocsf`)).status).toBe(200);
    const outsider = await newOrganization(server.url);
    expectError(await outsider.owner.client.get(base()), 404);
  });

  it('the project route keeps to the project', async () => {
    const res = await org.owner.client.get(`/api/projects/${org.defaultProjectId}/advanced_activity_logs/?schema=ocsf&page_size=1000`);
    expect(res.status).toBe(200);
    for (const event of res.body.results) validateOcsf(event);
    expect(res.body.results.every((e: any) => e.unmapped.team_id === org.defaultProjectId)).toBe(true);
  });
});
