import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Response as ApiResponse } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, keyClient, newOrganization, type Org, type Person } from '../helpers/world.js';

let server: TestServer;
let org: Org;
let member: Person;
let admin: Person;
let privateProjectId: number;
const flagIds: number[] = [];
let privateFlagId: number;
let memberFlagId: number;
const TRICKY = 'Say "hi", then\nwrap, "quote"';

const projectLog = (projectId: number, query = '') => `/api/projects/${projectId}/activity_log/${query}`;
const orgLog = (query = '') => `/api/organizations/${org.id}/activity_log/${query}`;
const exportUrl = (query = '') => `/api/organizations/${org.id}/activity_log/export/${query}`;
const ENTRY_KEYS = ['activity', 'created_at', 'detail', 'id', 'is_system', 'item_id', 'organization_id', 'scope', 'unread', 'user', 'was_impersonated'];

async function createFlag(who: Client, projectId: number, key: string, name = key): Promise<number> {
  const res = await who.post(`/api/projects/${projectId}/feature_flags/`, { key, name });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Follows `next` links from a first URL to the end; returns every result and the page count. */
async function followNext(who: Client, first: string) {
  const all: any[] = [];
  let url: string | null = first;
  let pages = 0;
  while (url) {
    const res: ApiResponse = await who.get(url);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['next', 'previous', 'results']);
    all.push(...res.body.results);
    url = res.body.next;
    pages++;
    expect(pages).toBeLessThan(50);
  }
  return { all, pages };
}

/** The client parses a one-line body as JSON; the export tests want the text. */
const asText = (body: unknown) => (typeof body === 'string' ? body : `${JSON.stringify(body)}\n`);

/** A small RFC 4180 reader: quoted fields with doubled quotes, commas and line breaks inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

beforeAll(async () => {
  server = await startServer();
  org = await newOrganization(server.url, 'Audit Org');
  member = await addMember(org, 1);
  admin = await addMember(org, 8);
  const created = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name: 'Secret', access_control: true });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  privateProjectId = created.body.id;
  for (let i = 0; i < 5; i++) flagIds.push(await createFlag(org.owner.client, org.defaultProjectId, `flag-${i}`));
  expect((await org.owner.client.patch(`/api/projects/${org.defaultProjectId}/feature_flags/${flagIds[0]}/`, { name: TRICKY })).status).toBe(200);
  memberFlagId = await createFlag(member.client, org.defaultProjectId, 'member-flag');
  privateFlagId = await createFlag(org.owner.client, privateProjectId, 'secret-flag');
});
afterAll(() => server?.close());

describe('GET /api/projects/:id/activity_log/', () => {
  it("answers PostHog's entry shape, newest first, with cursor pagination by default", async () => {
    const res = await org.owner.client.get(projectLog(org.defaultProjectId));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['next', 'previous', 'results']);
    expect(res.body.previous).toBeNull();
    const results = res.body.results as any[];
    expect(results.length).toBeGreaterThanOrEqual(8);
    for (const entry of results) expect(Object.keys(entry).sort()).toEqual(ENTRY_KEYS);
    const times = results.map((e) => Date.parse(e.created_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // The newest entry of this project is the member's flag (the private project's flag came later).
    expect(results[0]).toMatchObject({ scope: 'FeatureFlag', activity: 'created', item_id: String(memberFlagId), unread: false, organization_id: org.id });
    expect(results[0].user).toEqual({
      id: member.user.id,
      uuid: member.user.uuid,
      distinct_id: expect.any(String),
      first_name: 'Mel',
      last_name: '',
      email: member.user.email,
    });
    // Entries of other projects never appear, and organization-level ones only on request.
    expect(results.some((e) => e.item_id === String(privateFlagId))).toBe(false);
    expect(results.some((e) => e.scope === 'Organization')).toBe(false);
  });

  it('filters by scope, scopes, item_id, user (uuid or id) and date range; an unknown scope is just a filter', async () => {
    const owner = org.owner.client;
    const flags = (await owner.get(projectLog(org.defaultProjectId, '?scope=FeatureFlag'))).body.results as any[];
    expect(flags).toHaveLength(7);
    expect(flags.every((e) => e.scope === 'FeatureFlag')).toBe(true);

    const both = (await owner.get(projectLog(org.defaultProjectId, '?scopes=FeatureFlag,Project'))).body.results as any[];
    expect(new Set(both.map((e) => e.scope))).toEqual(new Set(['FeatureFlag', 'Project']));
    expect(both.length).toBeGreaterThan(flags.length);

    const item = (await owner.get(projectLog(org.defaultProjectId, `?scope=FeatureFlag&item_id=${flagIds[0]}`))).body.results as any[];
    expect(item.map((e) => e.activity)).toEqual(['updated', 'created']);
    expect(item[0].detail.changes[0]).toMatchObject({ field: 'name', after: TRICKY });

    const byUuid = (await owner.get(projectLog(org.defaultProjectId, `?user=${member.user.uuid}`))).body.results as any[];
    const byId = (await owner.get(projectLog(org.defaultProjectId, `?user=${member.user.id}`))).body.results as any[];
    expect(byUuid.map((e) => e.item_id)).toEqual([String(memberFlagId)]);
    expect(byId).toEqual(byUuid);

    expect((await owner.get(projectLog(org.defaultProjectId, '?scope=NoSuchScope'))).body.results).toEqual([]);

    const pivot = flags[3];
    const after = (await owner.get(projectLog(org.defaultProjectId, `?scope=FeatureFlag&after=${encodeURIComponent(pivot.created_at)}`))).body.results as any[];
    const before = (await owner.get(projectLog(org.defaultProjectId, `?scope=FeatureFlag&before=${encodeURIComponent(pivot.created_at)}`))).body
      .results as any[];
    expect(after.every((e) => Date.parse(e.created_at) >= Date.parse(pivot.created_at))).toBe(true);
    expect(before.every((e) => Date.parse(e.created_at) < Date.parse(pivot.created_at))).toBe(true);
    expect(after.map((e) => e.id)).toContain(pivot.id);
    expect(after.length + before.length).toBe(flags.length);
    expect((await owner.get(projectLog(org.defaultProjectId, '?after=2999-01-01'))).body.results).toEqual([]);
  });

  it("includes the organization's entries for scope=Organization or include_organization_scoped=1", async () => {
    const owner = org.owner.client;
    const orgScoped = (await owner.get(projectLog(org.defaultProjectId, '?scope=Organization'))).body.results as any[];
    expect(orgScoped.length).toBeGreaterThan(0);
    expect(orgScoped.every((e) => e.scope === 'Organization' && e.organization_id === org.id)).toBe(true);
    const joined = orgScoped.filter((e) => e.activity === 'member_joined');
    expect(joined.length).toBeGreaterThanOrEqual(2);

    const flagged = (await owner.get(projectLog(org.defaultProjectId, '?include_organization_scoped=1'))).body.results as any[];
    expect(flagged.some((e) => e.scope === 'Organization')).toBe(true);
    expect(flagged.some((e) => e.scope === 'FeatureFlag')).toBe(true);
    expect((await owner.get(projectLog(org.defaultProjectId, '?scope=Organization&include_organization_scoped=0'))).body.results).toEqual([]);
    // Through the private project the same organization-level entries are seen.
    const viaPrivate = (await owner.get(projectLog(privateProjectId, '?scope=Organization'))).body.results as any[];
    expect(viaPrivate.map((e) => e.id)).toEqual(orgScoped.map((e) => e.id));
  });

  it('cursor pages follow next to the end, and previous leads back', async () => {
    const owner = org.owner.client;
    const full = (await owner.get(projectLog(org.defaultProjectId, '?scope=FeatureFlag&limit=1000'))).body.results as any[];
    const { all, pages } = await followNext(owner, projectLog(org.defaultProjectId, '?scope=FeatureFlag&limit=2'));
    expect(pages).toBe(4);
    expect(all.map((e) => e.id)).toEqual(full.map((e) => e.id));

    const first = (await owner.get(projectLog(org.defaultProjectId, '?scope=FeatureFlag&limit=2'))).body;
    const second = (await owner.get(first.next)).body;
    expect(second.results.map((e: any) => e.id)).toEqual(full.slice(2, 4).map((e) => e.id));
    expect(second.previous).toEqual(expect.any(String));
    const back = (await owner.get(second.previous)).body;
    expect(back.results.map((e: any) => e.id)).toEqual(first.results.map((e: any) => e.id));
    expect(back.previous).toBeNull();
    expect(back.next).toEqual(expect.any(String));
  });

  it('?page=N answers {count,next,previous,results} with working links', async () => {
    const owner = org.owner.client;
    const full = (await owner.get(projectLog(org.defaultProjectId, '?scope=FeatureFlag&limit=1000'))).body.results as any[];
    const one = await owner.get(projectLog(org.defaultProjectId, '?scope=FeatureFlag&page=1&limit=3'));
    expect(Object.keys(one.body).sort()).toEqual(['count', 'next', 'previous', 'results']);
    expect(one.body).toMatchObject({ count: 7, previous: null });
    const two = (await owner.get(one.body.next)).body;
    const three = (await owner.get(two.next)).body;
    expect(three.next).toBeNull();
    expect([...one.body.results, ...two.results, ...three.results].map((e: any) => e.id)).toEqual(full.map((e) => e.id));
    expect((await owner.get(two.previous)).body.results).toEqual(one.body.results);
    expect((await owner.get(projectLog(org.defaultProjectId, '?scope=FeatureFlag&page=9&limit=3'))).body).toMatchObject({ count: 7, results: [] });
  });
});

describe('GET /api/organizations/:id/activity_log/', () => {
  it('admins see every project and organization-level entry; the project filter narrows', async () => {
    const all = (await admin.client.get(orgLog('?limit=1000'))).body.results as any[];
    expect(all.some((e) => e.item_id === String(privateFlagId))).toBe(true);
    expect(all.some((e) => e.scope === 'Organization')).toBe(true);
    const onlyPrivate = (await admin.client.get(orgLog(`?project=${privateProjectId}&scope=FeatureFlag`))).body.results as any[];
    expect(onlyPrivate.map((e) => e.item_id)).toEqual([String(privateFlagId)]);
  });

  it("a member does not see a private project's entries they cannot reach, on either route", async () => {
    const mine = (await member.client.get(orgLog('?limit=1000'))).body.results as any[];
    expect(mine.some((e) => e.item_id === String(privateFlagId))).toBe(false);
    expect(mine.some((e) => e.item_id === String(memberFlagId))).toBe(true);
    expect(mine.some((e) => e.scope === 'Organization')).toBe(true);
    expect((await member.client.get(orgLog(`?project=${privateProjectId}`))).body.results).toEqual([]);
    expect((await member.client.get(orgLog(`?page=1&project=${privateProjectId}`))).body.count).toBe(0);
    expect((await member.client.get(projectLog(privateProjectId))).status).toBe(403);
  });

  it('a personal API key needs activity_log:read', async () => {
    const without = await keyClient(org.owner, ['feature_flag:read']);
    expectError(await without.get(projectLog(org.defaultProjectId)), 403, "API key missing required scope 'activity_log:read'");
    expectError(await without.get(orgLog()), 403, "API key missing required scope 'activity_log:read'");
    expectError(await without.get(exportUrl()), 403, "API key missing required scope 'activity_log:read'");
    const withScope = await keyClient(org.owner, ['activity_log:read']);
    expect((await withScope.get(projectLog(org.defaultProjectId))).status).toBe(200);
    expect((await withScope.get(orgLog())).status).toBe(200);
    expect((await withScope.get(exportUrl())).status).toBe(200);
  });

  it('an outsider finds no organization', async () => {
    const other = await newOrganization(server.url, 'Other');
    expect((await other.owner.client.get(orgLog())).status).toBe(404);
    expect((await other.owner.client.get(exportUrl())).status).toBe(404);
  });
});

describe('GET /api/organizations/:id/activity_log/export/', () => {
  it('streams NDJSON oldest first, equal to the API entries', async () => {
    const res = await admin.client.request('GET', exportUrl('?format=ndjson'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="activity-log-[0-9a-f-]{36}-\d{4}-\d{2}-\d{2}\.ndjson"$/);
    const text = asText(res.body);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const api = (await admin.client.get(orgLog('?limit=1000'))).body.results as any[];
    expect(lines.map(({ team_id: _t, ...rest }) => rest)).toEqual([...api].reverse());
    expect(lines.find((l) => l.item_id === String(privateFlagId)).team_id).toBe(privateProjectId);
    expect(lines.find((l) => l.activity === 'member_joined').team_id).toBeNull();
    // Filters apply to the export too.
    const flagsOnly = asText((await admin.client.request('GET', exportUrl(`?scope=FeatureFlag&project=${privateProjectId}`))).body)
      .trimEnd()
      .split('\n');
    expect(flagsOnly.map((l) => JSON.parse(l).item_id)).toEqual([String(privateFlagId)]);
  });

  it('streams CSV with correct escaping, the detail as a JSON column', async () => {
    const res = await org.owner.client.request('GET', exportUrl('?format=csv&scope=FeatureFlag'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/filename="activity-log-.*\.csv"$/);
    const [header, ...rows] = parseCsv(res.body as string);
    expect(header).toEqual([
      'id',
      'created_at',
      'organization_id',
      'team_id',
      'user_id',
      'user_uuid',
      'user_email',
      'is_system',
      'was_impersonated',
      'scope',
      'activity',
      'item_id',
      'detail',
    ]);
    const api = [...((await org.owner.client.get(orgLog('?scope=FeatureFlag&limit=1000'))).body.results as any[])].reverse();
    expect(rows).toHaveLength(api.length);
    rows.forEach((row, i) => {
      const record = Object.fromEntries(header!.map((h, j) => [h, row[j]]));
      const entry = api[i];
      expect(record).toMatchObject({
        id: entry.id,
        created_at: entry.created_at,
        organization_id: entry.organization_id,
        user_email: entry.user?.email ?? '',
        user_uuid: entry.user?.uuid ?? '',
        scope: entry.scope,
        activity: entry.activity,
        item_id: entry.item_id ?? '',
        is_system: String(entry.is_system),
      });
      expect(JSON.parse(record.detail!)).toEqual(entry.detail);
    });
    // The rename's detail carries quotes, commas and a newline; the raw CSV doubles the quotes.
    const tricky = rows.map((r) => JSON.parse(r[12]!)).find((d) => d.changes?.[0]?.after === TRICKY);
    expect(tricky).toBeDefined();
    expect(res.body as string).toContain('""after"":""Say \\""hi\\"", then\\nwrap, \\""quote\\""""');
  });

  it('is for organization admins only', async () => {
    expectError(await member.client.get(exportUrl()), 403, 'Your organization access level is insufficient.');
  });
});

describe('bad input', () => {
  const cases: Array<[string, string]> = [
    ['?after=yesterday', 'after'],
    ['?before=2024-13-45', 'before'],
    ['?after=2024-01-01T99:00:00Z', 'after'],
    ['?page=0', 'page'],
    ['?page=abc', 'page'],
    ['?limit=ten', 'limit'],
    ['?limit=-5', 'limit'],
    ['?cursor=not-a-cursor', 'cursor'],
    [`?cursor=${Buffer.from('x:1').toString('base64url')}`, 'cursor'],
    ['?user=someone', 'user'],
    ['?include_organization_scoped=maybe', 'include_organization_scoped'],
    ['?scope=A&scope=B', 'scope'],
  ];
  it.each(cases)('%s on the project route -> 400 naming %s', async (query, attr) => {
    expectError(await org.owner.client.get(projectLog(org.defaultProjectId, query)), 400, undefined, attr);
  });
  it.each([...cases.filter(([, a]) => a !== 'include_organization_scoped'), ['?project=x', 'project']] as Array<[string, string]>)(
    '%s on the organization route -> 400 naming %s',
    async (query, attr) => {
      expectError(await org.owner.client.get(orgLog(query)), 400, undefined, attr);
    },
  );
  it('the export rejects an unknown format and bad filters', async () => {
    expectError(await org.owner.client.get(exportUrl('?format=xml')), 400, undefined, 'format');
    expectError(await org.owner.client.get(exportUrl('?after=nope')), 400, undefined, 'after');
  });
});
