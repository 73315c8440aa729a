import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

const flagsUrl = (projectId: number | string) => `/api/projects/${projectId}/feature_flags/`;
const flagUrl = (projectId: number | string, id: number | string) => `${flagsUrl(projectId)}${id}/`;
let counter = 0;
const uniqueKey = (prefix = 'flag') => `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
const rollout = (percentage: number | null) => ({ groups: [{ properties: [], rollout_percentage: percentage }] });

async function createFlag(org: Org, body: Record<string, unknown> = {}, by: Person = org.owner) {
  const res = await by.client.post(flagsUrl(org.defaultProjectId), { key: uniqueKey(), filters: rollout(50), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; key: string; name: string; filters: any; active: boolean; deleted: boolean };
}

/** The project's flags and activity straight from the store: what requests really changed. */
async function snapshot(projectId: number) {
  const flags = await server.db.query(
    'SELECT id, key, name, filters, active, deleted, ensure_experience_continuity FROM feature_flags WHERE team_id = $1 ORDER BY id',
    [projectId],
  );
  const activity = await server.db.query("SELECT seq FROM activity_log WHERE team_id = $1 AND scope = 'FeatureFlag' ORDER BY seq", [projectId]);
  return { flags, activity: activity.length };
}

async function activityFor(flagId: number) {
  return server.db.query<{ activity: string; scope: string; item_id: string; team_id: number; organization_id: string; user_id: number; detail: any }>(
    "SELECT activity, scope, item_id, team_id, organization_id, user_id, detail FROM activity_log WHERE scope = 'FeatureFlag' AND item_id = $1 ORDER BY seq",
    [String(flagId)],
  );
}

async function membershipId(org: Org, person: Person): Promise<string> {
  const [row] = await server.db.query<{ id: string }>('SELECT id FROM organization_memberships WHERE organization_id = $1 AND user_id = $2', [
    org.id,
    person.user.id,
  ]);
  return row!.id;
}

describe('creating flags', () => {
  it('creates a flag in PostHog shape, with its creator and one activity entry', async () => {
    const org = await newOrganization(server.url);
    const filters = {
      groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@acme.com' }], rollout_percentage: 30 }],
      payloads: { true: '{"color": "red"}' },
    };
    const res = await org.owner.client.post(flagsUrl(org.defaultProjectId), { key: 'new-checkout', name: 'New checkout', filters });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      key: 'new-checkout',
      name: 'New checkout',
      active: true,
      deleted: false,
      ensure_experience_continuity: false,
      is_simple_flag: false,
      rollout_percentage: null,
      team_id: org.defaultProjectId,
      filters: {
        groups: [{ properties: [{ key: 'email', type: 'person', operator: 'icontains', value: '@acme.com' }], rollout_percentage: 30, variant: null }],
        multivariate: null,
        payloads: { true: '{"color": "red"}' },
      },
    });
    expect(typeof res.body.id).toBe('number');
    expect(res.body.created_by).toMatchObject({ uuid: org.owner.user.uuid, email: org.owner.user.email });
    expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false);

    const read = await org.owner.client.get(flagUrl(org.defaultProjectId, res.body.id));
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);

    const entries = await activityFor(res.body.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      activity: 'created',
      scope: 'FeatureFlag',
      item_id: String(res.body.id),
      team_id: org.defaultProjectId,
      organization_id: org.id,
      user_id: org.owner.user.id,
    });
    expect(entries[0]!.detail.name).toBe('new-checkout');
  });

  it("releases a blank flag to everyone, as PostHog does, and reports simple flags' rollout", async () => {
    const org = await newOrganization(server.url);
    const blank = await org.owner.client.post(flagsUrl(org.defaultProjectId), { key: 'blank' });
    expect(blank.status).toBe(201);
    expect(blank.body).toMatchObject({
      active: true,
      is_simple_flag: true,
      rollout_percentage: null,
      filters: { groups: [{ properties: [], rollout_percentage: null }] },
    });
    const simple = await createFlag(org, { filters: rollout(25), active: false, ensure_experience_continuity: true });
    expect(simple).toMatchObject({ active: false, ensure_experience_continuity: true, is_simple_flag: true, rollout_percentage: 25 });
  });

  it("refuses duplicate and malformed keys with PostHog's messages, creating nothing", async () => {
    const org = await newOrganization(server.url);
    const existing = await createFlag(org, { key: 'red_button' });
    const before = await snapshot(org.defaultProjectId);
    const post = (body: unknown) => org.owner.client.post(flagsUrl(org.defaultProjectId), body);

    const duplicate = await post({ name: 'Beta feature', key: 'red_button' });
    expectError(duplicate, 400, 'There is already a feature flag with this key.', 'key');
    expect(duplicate.body).toEqual({ type: 'validation_error', code: 'unique', detail: 'There is already a feature flag with this key.', attr: 'key' });
    for (const key of ['foo?bar=baz', 'foo/bar', 'foo\\bar', 'foo.bar', 'foo bar', ' red_button', 'émoji']) {
      const res = await post({ key });
      expectError(res, 400, 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.', 'key');
      expect(res.body.code).toBe('invalid_key');
    }
    expectError(await post({ name: 'no key' }), 400, 'This field is required.', 'key');
    expectError(await post({ key: '' }), 400, 'This field may not be blank.', 'key');
    expectError(await post({ key: 'a'.repeat(401) }), 400, 'Ensure this field has no more than 400 characters.', 'key');
    expectError(await post({ key: 42 }), 400, undefined, 'key');
    expectError(await post({ key: 'ok-key', active: 'yes' }), 400, undefined, 'active');
    expectError(await post({ key: 'ok-key', name: ['x'] }), 400, undefined, 'name');
    expectError(await post([{ key: 'array-body' }]), 400);
    expect(await snapshot(org.defaultProjectId)).toEqual(before);

    // The same key lives on in other projects, and again here once the flag is deleted.
    const other = await newOrganization(server.url);
    await createFlag(other, { key: 'red_button' });
    expect((await org.owner.client.delete(flagUrl(org.defaultProjectId, existing.id))).status).toBe(204);
    const reused = await post({ key: 'red_button' });
    expect(reused.status).toBe(201);
    expect(reused.body.id).not.toBe(existing.id);
  });

  it('refuses malformed filters naming `filters`, creating nothing', async () => {
    const org = await newOrganization(server.url);
    const before = await snapshot(org.defaultProjectId);
    const cases: Array<[unknown, RegExp | string]> = [
      ['everyone', /must be an object/],
      [null, /must be an object/],
      [[], /must be an object/],
      [{}, /"groups"/],
      [{ groups: {} }, /"groups"/],
      [{ groups: ['x'] }, /condition group 0/],
      [{ groups: [{ rollout_percentage: 150 }] }, /between 0 and 100/],
      [{ groups: [{ rollout_percentage: -1 }] }, /between 0 and 100/],
      [{ groups: [{ rollout_percentage: '50' }] }, /between 0 and 100/],
      [{ groups: [{ rollout_percentage: true }] }, /between 0 and 100/],
      [{ groups: [{ properties: 'email' }] }, /must be a list/],
      [{ groups: [{ properties: [{ key: 'a', type: 'cohort', value: 1 }] }] }, /can only use person properties/],
      [{ groups: [{ properties: [{ key: 'a', operator: 'contains_maybe', value: 'x' }] }] }, /unknown operator/],
      [{ groups: [{ properties: [{ key: 'a', operator: 'exact', value: { $gt: 1 } }] }] }, /must be a string, a number/],
      [{ groups: [{ properties: [{ key: 'a', operator: 'regex', value: '(a)\\1' }] }] }, /not a valid regular expression/],
      [{ groups: [{ properties: [{ key: 'a', operator: 'regex', value: '^(?!admin)' }] }] }, /not a valid regular expression/],
      [{ groups: [{ properties: [{ key: 'a', operator: 'regex', value: '(' }] }] }, /not a valid regular expression/],
      [{ groups: [{ properties: [{ key: 'a', value: Array.from({ length: 1001 }, (_, i) => i) }] }] }, /cannot contain more than 1000 values/],
      [
        {
          groups: [],
          multivariate: {
            variants: [
              { key: 'a', rollout_percentage: 50 },
              { key: 'b', rollout_percentage: 40 },
            ],
          },
        },
        'Invalid variant definitions: Variant rollout percentages must sum to 100.',
      ],
      [{ groups: [], multivariate: { variants: [{ key: 'a b', rollout_percentage: 100 }] } }, /variant 0 needs a "key"/],
      [
        { groups: [{ variant: 'missing' }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] } },
        'Filters are not valid (variant override does not exist)',
      ],
      [{ groups: [], payloads: ['x'] }, 'Payloads must be passed as a dictionary'],
      [{ groups: [], payloads: { true: '{not json' } }, /not valid JSON/],
      [{ groups: [], payloads: { control: '1' } }, "Payload keys must be 'true' for boolean flags"],
      [{ groups: [], aggregation_group_type_index: 1 }, /group-based flags are not supported/],
    ];
    for (const [filters, detail] of cases) {
      const res = await org.owner.client.post(flagsUrl(org.defaultProjectId), { key: uniqueKey(), filters });
      expectError(res, 400, detail, 'filters');
      expect(res.body.type).toBe('validation_error');
    }
    expect(await snapshot(org.defaultProjectId)).toEqual(before);
  });

  it("gives concurrent creates of one key one winner and PostHog's message for the others", async () => {
    const org = await newOrganization(server.url);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => org.owner.client.post(flagsUrl(org.defaultProjectId), { key: 'race', filters: rollout(10) })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 400, 400, 400]);
    for (const r of results.filter((x) => x.status === 400)) expectError(r, 400, 'There is already a feature flag with this key.', 'key');
    expect((await snapshot(org.defaultProjectId)).flags).toHaveLength(1);
  });
});

describe('listing flags', () => {
  it('paginates newest first, hides deleted flags, and filters by search and active', async () => {
    const org = await newOrganization(server.url);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await createFlag(org, { key: `list-${i}`, name: i === 2 ? 'Special Name' : '', active: i !== 4 }));
    expect((await org.owner.client.delete(flagUrl(org.defaultProjectId, made[1]!.id))).status).toBe(204);

    const all = await org.owner.client.get(flagsUrl(org.defaultProjectId));
    expect(all.status).toBe(200);
    expect(Object.keys(all.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(all.body.count).toBe(4);
    expect(all.body.results.map((f: any) => f.key)).toEqual(['list-4', 'list-3', 'list-2', 'list-0']);
    expect(all.body.results.every((f: any) => f.created_by?.uuid === org.owner.user.uuid)).toBe(true);

    const page1 = await org.owner.client.get(`${flagsUrl(org.defaultProjectId)}?limit=3`);
    expect(page1.body.results).toHaveLength(3);
    expect(page1.body.previous).toBeNull();
    const page2 = await org.owner.client.get(new URL(page1.body.next).pathname + new URL(page1.body.next).search);
    expect(page2.body.results.map((f: any) => f.key)).toEqual(['list-0']);
    expect(page2.body.next).toBeNull();
    expect(page2.body.previous).not.toBeNull();

    const search = await org.owner.client.get(`${flagsUrl(org.defaultProjectId)}?search=special`);
    expect(search.body.results.map((f: any) => f.key)).toEqual(['list-2']);
    const wild = await org.owner.client.get(`${flagsUrl(org.defaultProjectId)}?search=${encodeURIComponent('%')}`);
    expect(wild.body.count).toBe(0);
    const inactive = await org.owner.client.get(`${flagsUrl(org.defaultProjectId)}?active=false`);
    expect(inactive.body.results.map((f: any) => f.key)).toEqual(['list-4']);
    expectError(await org.owner.client.get(`${flagsUrl(org.defaultProjectId)}?active=maybe`), 400, 'Must be a valid boolean.', 'active');
    expectError(await org.owner.client.get(`${flagsUrl(org.defaultProjectId)}?limit=abc`), 400, undefined, 'limit');
  });

  it("never shows another project's flags", async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    await createFlag(other);
    const mine = await org.owner.client.get(flagsUrl(org.defaultProjectId));
    expect(mine.body.count).toBe(0);
    expectError(await org.owner.client.get(flagsUrl(other.defaultProjectId)), 404, 'Project not found.');
  });
});

describe('updating flags', () => {
  it('changes fields, logs exactly the changed ones, and writes nothing for a no-op', async () => {
    const org = await newOrganization(server.url);
    const flag = await createFlag(org, { key: 'to-update', name: 'Old', filters: rollout(10) });
    const url = flagUrl(org.defaultProjectId, flag.id);
    const res = await org.owner.client.patch(url, { name: 'New', filters: rollout(90), key: 'renamed', id: 999, created_by: null });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: flag.id, key: 'renamed', name: 'New', rollout_percentage: 90, active: true });

    const entries = await activityFor(flag.id);
    expect(entries.map((e) => e.activity)).toEqual(['created', 'updated']);
    const updated = entries[1]!;
    expect(updated.detail.name).toBe('renamed');
    expect(updated.detail.changes.map((c: any) => c.field).sort()).toEqual(['filters', 'key', 'name']);
    expect(updated.detail.changes.find((c: any) => c.field === 'key')).toMatchObject({
      type: 'FeatureFlag',
      action: 'changed',
      before: 'to-update',
      after: 'renamed',
    });
    expect(updated).toMatchObject({ team_id: org.defaultProjectId, organization_id: org.id, user_id: org.owner.user.id });

    const same = await org.owner.client.patch(url, { name: 'New', active: true });
    expect(same.status).toBe(200);
    expect((await activityFor(flag.id)).length).toBe(2);

    const put = await org.owner.client.put(url, { active: false });
    expect(put.status).toBe(200);
    expect(put.body.active).toBe(false);
    const last = (await activityFor(flag.id)).at(-1)!;
    expect(last.detail.changes).toEqual([{ type: 'FeatureFlag', action: 'changed', field: 'active', before: true, after: false }]);
  });

  it('keeps keys unique and rejects bad input without changing anything', async () => {
    const org = await newOrganization(server.url);
    const a = await createFlag(org, { key: 'taken' });
    const b = await createFlag(org, { key: 'free' });
    const before = await snapshot(org.defaultProjectId);
    const url = flagUrl(org.defaultProjectId, b.id);
    expectError(await org.owner.client.patch(url, { key: 'taken' }), 400, 'There is already a feature flag with this key.', 'key');
    expectError(await org.owner.client.patch(url, { key: 'bad key' }), 400, 'Only letters, numbers, hyphens (-) & underscores (_) are allowed.', 'key');
    expectError(
      await org.owner.client.patch(url, { name: 'changed too', filters: { groups: [{ rollout_percentage: 101 }] } }),
      400,
      /between 0 and 100/,
      'filters',
    );
    expectError(await org.owner.client.patch(url, { name: 'x', filters: 'all' }), 400, undefined, 'filters');
    expectError(await org.owner.client.patch(url, { deleted: 'yes' }), 400, undefined, 'deleted');
    expectError(await org.owner.client.patch(url, { active: null }), 400, undefined, 'active');
    expect(await snapshot(org.defaultProjectId)).toEqual(before);
    // Its own key is not a duplicate of itself.
    expect((await org.owner.client.patch(flagUrl(org.defaultProjectId, a.id), { key: 'taken', name: 'same key' })).status).toBe(200);
  });
});

describe('deleting flags', () => {
  it('soft-deletes with 204: the row stays with deleted=true, readers see nothing, one entry is logged', async () => {
    const org = await newOrganization(server.url);
    const flag = await createFlag(org, { key: 'doomed' });
    const url = flagUrl(org.defaultProjectId, flag.id);
    const res = await org.owner.client.delete(url);
    expect(res.status).toBe(204);
    const [row] = await server.db.query<{ deleted: boolean; key: string }>('SELECT deleted, key FROM feature_flags WHERE id = $1', [flag.id]);
    expect(row).toEqual({ deleted: true, key: 'doomed' });
    expectError(await org.owner.client.get(url), 404, 'Not found.');
    expectError(await org.owner.client.patch(url, { name: 'ghost' }), 404);
    expectError(await org.owner.client.delete(url), 404);
    const entries = await activityFor(flag.id);
    expect(entries.map((e) => e.activity)).toEqual(['created', 'deleted']);
    expect(entries[1]!.detail).toMatchObject({
      name: 'doomed',
      changes: [{ type: 'FeatureFlag', action: 'changed', field: 'deleted', before: false, after: true }],
    });
  });

  it('soft-deletes through PATCH {deleted: true}, as PostHog clients do', async () => {
    const org = await newOrganization(server.url);
    const flag = await createFlag(org, { key: 'patched-away' });
    const res = await org.owner.client.patch(flagUrl(org.defaultProjectId, flag.id), { deleted: true });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: flag.id, deleted: true });
    expect((await org.owner.client.get(flagUrl(org.defaultProjectId, flag.id))).status).toBe(404);
    expect((await activityFor(flag.id)).map((e) => e.activity)).toEqual(['created', 'deleted']);
    // deleted: false on a live flag changes nothing.
    const live = await createFlag(org);
    expect((await org.owner.client.patch(flagUrl(org.defaultProjectId, live.id), { deleted: false })).status).toBe(200);
    expect((await activityFor(live.id)).map((e) => e.activity)).toEqual(['created']);
  });
});

describe('hostile ids and other projects', () => {
  it('answers 404 for ids that name no flag, never 500', async () => {
    const org = await newOrganization(server.url);
    const other = await newOrganization(server.url);
    const foreign = await createFlag(other);
    const p = org.defaultProjectId;
    const ids = ['0', '-1', 'abc', '1.5', '99999999', '2147483648', '99999999999999999999', '1e3', '%20', String(foreign.id), 'null', '0x10'];
    for (const id of ids) {
      for (const method of ['GET', 'PATCH', 'PUT', 'DELETE'] as const) {
        const res = await org.owner.client.request(method, flagUrl(p, id), method === 'PATCH' || method === 'PUT' ? { name: 'x' } : undefined);
        expectError(res, 404);
      }
    }
    // The foreign flag is untouched, and its project is not found for outsiders.
    expect((await other.owner.client.get(flagUrl(other.defaultProjectId, foreign.id))).body.name).toBe(foreign.name);
    expectError(await org.owner.client.get(flagUrl(other.defaultProjectId, foreign.id)), 404, 'Project not found.');
    expectError(await org.owner.client.delete(flagUrl(other.defaultProjectId, foreign.id)), 404, 'Project not found.');
    expectError(await org.owner.client.get(flagUrl('99999999999', 1)), 404);
  });
});

describe('resource access', () => {
  it("turns members with `none` away with PostHog's message, while admins and creators keep access", async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const admin = await addMember(org, 8);
    const ownerFlag = await createFlag(org, { key: 'owners' });
    const memberFlag = await createFlag(org, { key: 'members' }, member);
    await server.db.query("INSERT INTO access_controls (team_id, access_level, resource) VALUES ($1, 'none', 'feature_flag')", [org.defaultProjectId]);
    const before = await snapshot(org.defaultProjectId);
    const p = org.defaultProjectId;

    // No access to flags and no grant on any: even the list is refused (PostHog's resource gate).
    expectError(await member.client.get(flagsUrl(p)), 403, 'You do not have viewer access to this resource.', null);
    expectError(await member.client.get(flagUrl(p, ownerFlag.id)), 403, 'You do not have viewer access to this resource.', null);
    expectError(await member.client.patch(flagUrl(p, ownerFlag.id), { name: 'x' }), 403, 'You do not have editor access to this resource.');
    expectError(await member.client.put(flagUrl(p, ownerFlag.id), { name: 'x' }), 403, 'You do not have editor access to this resource.');
    expectError(await member.client.delete(flagUrl(p, ownerFlag.id)), 403, 'You do not have editor access to this resource.');
    expectError(await member.client.patch(flagUrl(p, ownerFlag.id), { deleted: true }), 403, 'You do not have editor access to this resource.');
    expectError(await member.client.post(flagsUrl(p), { key: uniqueKey() }), 403, 'You do not have editor access to this resource.');
    expect(await snapshot(p)).toEqual(before);

    // The resource gate comes before the creator's right to their object, as in PostHog; with access
    // to flags again, a creator keeps the highest level on what they created. Admins keep everything.
    expectError(await member.client.patch(flagUrl(p, memberFlag.id), { name: 'mine' }), 403, 'You do not have editor access to this resource.');
    await server.db.query("UPDATE access_controls SET access_level = 'editor' WHERE team_id = $1 AND resource = 'feature_flag'", [p]);
    await server.db.query(
      "INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id) VALUES ($1, 'none', 'feature_flag', $2, $3)",
      [p, String(memberFlag.id), await membershipId(org, member)],
    );
    expect((await member.client.patch(flagUrl(p, memberFlag.id), { name: 'mine' })).status).toBe(200);
    expect((await admin.client.get(flagsUrl(p))).body.count).toBe(2);
    expect((await admin.client.patch(flagUrl(p, ownerFlag.id), { name: 'admin edit' })).status).toBe(200);
  });

  it('applies object rules: a hidden flag leaves the list, a viewer may read but not write', async () => {
    const org = await newOrganization(server.url);
    const member = await addMember(org, 1);
    const hidden = await createFlag(org, { key: 'hidden' });
    const readOnly = await createFlag(org, { key: 'read-only' });
    const open = await createFlag(org, { key: 'open' });
    const p = org.defaultProjectId;
    await server.db.query("INSERT INTO access_controls (team_id, access_level, resource, resource_id) VALUES ($1, 'none', 'feature_flag', $2)", [
      p,
      String(hidden.id),
    ]);
    await server.db.query(
      "INSERT INTO access_controls (team_id, access_level, resource, resource_id, organization_member_id) VALUES ($1, 'viewer', 'feature_flag', $2, $3)",
      [p, String(readOnly.id), await membershipId(org, member)],
    );
    expect((await member.client.get(flagsUrl(p))).body.results.map((f: any) => f.key)).toEqual(['open', 'read-only']);
    expectError(await member.client.get(flagUrl(p, hidden.id)), 403, 'You do not have viewer access to this resource.');
    expect((await member.client.get(flagUrl(p, readOnly.id))).status).toBe(200);
    expectError(await member.client.patch(flagUrl(p, readOnly.id), { active: false }), 403, 'You do not have editor access to this resource.');
    expect((await member.client.patch(flagUrl(p, open.id), { active: false })).status).toBe(200);
    expect((await org.owner.client.get(flagUrl(p, hidden.id))).status).toBe(200);
  });

  it('holds keys to their scopes and logs the key that made a change', async () => {
    const org = await newOrganization(server.url);
    const reader = await keyClient(org.owner, ['feature_flag:read']);
    const writer = await keyClient(org.owner, ['feature_flag:write']);
    const unrelated = await keyClient(org.owner, ['insight:read']);
    const p = org.defaultProjectId;
    expect((await reader.get(flagsUrl(p))).status).toBe(200);
    expectError(await reader.post(flagsUrl(p), { key: uniqueKey() }), 403, "API key missing required scope 'feature_flag:write'");
    expectError(await unrelated.get(flagsUrl(p)), 403, "API key missing required scope 'feature_flag:read'");
    const created = await writer.post(flagsUrl(p), { key: uniqueKey(), filters: rollout(5) });
    expect(created.status).toBe(201);
    expect((await reader.get(flagUrl(p, created.body.id))).status).toBe(200);
    expectError(await reader.delete(flagUrl(p, created.body.id)), 403, "API key missing required scope 'feature_flag:write'");
    const [entry] = await activityFor(created.body.id);
    expect(entry!.detail.context.via_api_key_id).toBe(writer.keyId);
    expectError(await org.owner.client.anonymous().get(flagsUrl(p)), 401);
  });
});
