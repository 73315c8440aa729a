/**
 * The access matrix as code over the API: the source document's matrix applied verbatim, proven by
 * what each principal can then do; plans, a one-line change, export -> apply, parse errors with
 * positions, and an apply that fails midway changing nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli.js';
import type { Client } from '../helpers/client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { addMember, expectError, newOrganization, type Org, type Person } from '../helpers/world.js';

const SOURCE = readFileSync(join(REPO, 'test/fixtures/access-matrix/source-document.yaml'), 'utf8');

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

interface World {
  org: Org;
  production: number;
  staging: number;
  engineer: Person;
  productPerson: Person;
}

async function world(): Promise<World> {
  const org = await newOrganization(server.url, 'Acme');
  const project = async (name: string, access_control: boolean) => {
    const res = await org.owner.client.post(`/api/organizations/${org.id}/projects/`, { name, access_control });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as number;
  };
  return {
    org,
    production: await project('Production', true),
    staging: await project('Staging', false),
    engineer: await addMember(org, 1),
    productPerson: await addMember(org, 1),
  };
}

const matrix = (org: Org) => `/api/organizations/${org.id}/access_matrix/`;
const apply = (c: Client, org: Org, document: unknown, extra: Record<string, unknown> = {}) => c.post(matrix(org), { document, ...extra });
const plan = (c: Client, org: Org, document: unknown) => c.post(`${matrix(org)}plan/`, { document });

async function roleId(w: World, name: string): Promise<string> {
  const roles = await w.org.owner.client.get(`/api/organizations/${w.org.id}/roles/`);
  return roles.body.results.find((r: { name: string }) => r.name === name).id;
}

async function assign(w: World, role: string, person: Person) {
  const res = await w.org.owner.client.post(`/api/organizations/${w.org.id}/roles/${await roleId(w, role)}/role_memberships/`, { user_uuid: person.user.uuid });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function flag(w: World, projectId: number, by: Client = w.org.owner.client): Promise<number> {
  const res = await by.post(`/api/projects/${projectId}/feature_flags/`, { key: `f-${Math.random().toString(36).slice(2, 10)}`, name: 'F' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const insight = { name: 'Pageviews', query: { kind: 'InsightVizNode', source: { kind: 'TrendsQuery', series: [{ kind: 'EventsNode', event: '$pageview' }] } } };

async function recording(projectId: number): Promise<string> {
  const id = `rec-${Math.random().toString(36).slice(2, 10)}`;
  await server.db.query(`INSERT INTO session_recordings (id, team_id, distinct_id, start_time, end_time) VALUES ($1, $2, 'd', now(), now())`, [id, projectId]);
  return id;
}

const entries = (org: Org) =>
  server.db.query<{ activity: string; scope: string; detail: any }>(
    'SELECT activity, scope, detail FROM activity_log WHERE organization_id = $1 ORDER BY seq',
    [org.id],
  );

describe("the source document's matrix, applied verbatim", () => {
  let w: World;
  let applied: any;
  const key = (name: string) => w.org.owner.client.withKey(applied.new_keys.find((k: any) => k.service_account === name).value);

  beforeAll(async () => {
    w = await world();
    const dry = await apply(w.org.owner.client, w.org, SOURCE, { dry_run: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.dry_run).toBe(true);
    expect(dry.body.new_keys).toEqual([]);
    expect((await w.org.owner.client.get(`/api/organizations/${w.org.id}/roles/`)).body.results).toEqual([]);

    const res = await apply(w.org.owner.client, w.org, SOURCE, { file_name: 'source-document.yaml' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    applied = res.body;
    expect(applied.changes.map((c: any) => `${c.op} ${c.description}`)).toEqual(dry.body.changes.map((c: any) => `${c.op} ${c.description}`));
    await assign(w, 'engineering', w.engineer);
    await assign(w, 'product', w.productPerson);
  });

  it('plans the roles, rules, approval policy, service accounts and keys it means', () => {
    const lines = applied.changes.map((c: any) => `${c.op} ${c.description}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        '+ role engineering',
        '+ role product',
        '+ service account bi_service_account',
        '+ engineering in Production: project access member',
        '+ engineering in Staging: project access admin',
        '+ engineering in Production: feature_flag editor',
        '+ engineering in Production: flag deletion needs approval',
        '+ product in Production: session_recording viewer',
        '+ product in Staging: insight editor',
        '+ product in Staging: feature_flag viewer',
        '+ bi_service_account in Production: project access member',
        '+ bi_service_account in Production: key with dashboard:read, insight:read, query:read',
        '+ flag_service_account in Production: key with feature_flag:read, feature_flag:write',
      ]),
    );
    expect(lines).not.toContain('+ engineering in Staging: flag deletion needs approval');
    expect(applied.summary).toEqual({ add: applied.changes.length, change: 0, remove: 0 });
    expect(applied.new_keys.map((k: any) => [k.service_account, k.project_name, k.scopes])).toEqual([
      ['bi_service_account', 'Production', ['dashboard:read', 'insight:read', 'query:read']],
      ['flag_service_account', 'Production', ['feature_flag:read', 'feature_flag:write']],
    ]);
    for (const k of applied.new_keys) expect(k.value).toMatch(/^phx_/);
  });

  it('lets an engineer delete a flag in Staging, and only request it in Production', async () => {
    const staging = await flag(w, w.staging);
    expect((await w.engineer.client.delete(`/api/projects/${w.staging}/feature_flags/${staging}/`)).status).toBe(204);
    const production = await flag(w, w.production);
    const asked = await w.engineer.client.delete(`/api/projects/${w.production}/feature_flags/${production}/`);
    expect(asked.status, JSON.stringify(asked.body)).toBe(409);
    expect(asked.body).toMatchObject({
      code: 'approval_required',
      change_request: { action: 'delete_feature_flag', state: 'pending', resource_id: String(production) },
    });
    expect((await w.engineer.client.get(`/api/projects/${w.production}/feature_flags/${production}/`)).status).toBe(200);
    // Engineers create flags in both.
    await flag(w, w.production, w.engineer.client);
    await flag(w, w.staging, w.engineer.client);
  });

  it('lets a product member view recordings and create insights in both projects, but not create flags', async () => {
    for (const project of [w.staging, w.production]) {
      const rec = await recording(project);
      expect((await w.productPerson.client.get(`/api/projects/${project}/session_recordings/${rec}/`)).status).toBe(200);
      const created = await w.productPerson.client.post(`/api/projects/${project}/insights/`, insight);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expectError(
        await w.productPerson.client.post(`/api/projects/${project}/feature_flags/`, { key: 'nope' }),
        403,
        'You do not have editor access to this resource.',
      );
      // Engineers were given no recordings.
      expectError(await w.engineer.client.get(`/api/projects/${project}/session_recordings/${rec}/`), 403);
    }
  });

  it('lets the BI key read insights and dashboards, and refuses writes and flags', async () => {
    const bi = key('bi_service_account');
    const base = `/api/projects/${w.production}`;
    expect((await bi.get(`${base}/insights/`)).status).toBe(200);
    expect((await bi.get(`${base}/dashboards/`)).status).toBe(200);
    expectError(await bi.post(`${base}/insights/`, insight), 403);
    expectError(await bi.post(`${base}/dashboards/`, { name: 'D' }), 403);
    expectError(await bi.get(`${base}/feature_flags/`), 403);
    // Scoped to Production only.
    expectError(await bi.get(`/api/projects/${w.staging}/insights/`), 403);
  });

  it('lets the flag key read and write flags, and refuses events', async () => {
    const flags = key('flag_service_account');
    const base = `/api/projects/${w.production}`;
    expect((await flags.get(`${base}/feature_flags/`)).status).toBe(200);
    const created = await flags.post(`${base}/feature_flags/`, { key: 'from-the-flag-service' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expectError(await flags.get(`${base}/events/`), 403);
    expectError(await flags.get(`${base}/insights/`), 403);
  });

  it('records every change as one batch with the file hash', async () => {
    const batch = (await entries(w.org)).filter((e) => e.detail.context?.batch_id === applied.batch_id);
    expect(batch.length).toBeGreaterThanOrEqual(applied.changes.length);
    for (const e of batch) expect(e.detail.context).toMatchObject({ batch_source: 'access_matrix', file_sha256: applied.file_sha256 });
    expect(batch.map((e) => e.activity)).toEqual(
      expect.arrayContaining(['role_created', 'service_account_created', 'api_key_created', 'access_matrix_applied']),
    );
    expect(batch.filter((e) => e.scope === 'AccessControl').length).toBe(applied.changes.filter((c: any) => /access$/.test(c.kind)).length);
  });

  it('plans no changes after the apply, and applies none', async () => {
    const again = await plan(w.org.owner.client, w.org, SOURCE);
    expect(again.status).toBe(200);
    expect(again.body.changes).toEqual([]);
    const before = (await entries(w.org)).length;
    const reapplied = await apply(w.org.owner.client, w.org, SOURCE);
    expect(reapplied.body).toMatchObject({ changes: [], batch_id: null, new_keys: [] });
    expect((await entries(w.org)).length).toBe(before);
  });

  it('exports the organization so that applying the export changes nothing', async () => {
    const exported = await w.org.owner.client.get(matrix(w.org));
    expect(exported.status).toBe(200);
    expect(exported.body.document).toContain('access_matrix:');
    expect(exported.body.document).toContain(w.engineer.user.email);
    expect((await plan(w.org.owner.client, w.org, exported.body.document)).body.changes).toEqual([]);
    expect((await plan(w.org.owner.client, w.org, SOURCE)).body.changes).toEqual([]);
  });
});

describe('changing one line', () => {
  it('changes exactly that and records it', async () => {
    const w = await world();
    expect((await apply(w.org.owner.client, w.org, SOURCE)).status).toBe(200);
    const edited = SOURCE.replace('role: member # Read + create, no delete in prod', 'role: admin # Read + create, no delete in prod');
    expect(edited).not.toBe(SOURCE);
    const res = await apply(w.org.owner.client, w.org, edited);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.changes.map((c: any) => `${c.op} ${c.description}`)).toEqual(['~ engineering in Production: project access member -> admin']);
    expect(res.body.changes[0].origin).toMatchObject({ line: 8, column: 5 });
    const batch = (await entries(w.org)).filter((e) => e.detail.context?.batch_id === res.body.batch_id);
    expect(batch.map((e) => [e.scope, e.activity])).toEqual([
      ['AccessControl', 'updated'],
      ['Organization', 'access_matrix_applied'],
    ]);
    expect(batch[0]!.detail.changes[0]).toMatchObject({ before: 'member', after: 'admin' });
    expect((await plan(w.org.owner.client, w.org, edited)).body.changes).toEqual([]);
  });

  it('updates a service account key in place when its scopes change', async () => {
    const w = await world();
    const first = await apply(w.org.owner.client, w.org, SOURCE);
    const value = first.body.new_keys.find((k: any) => k.service_account === 'bi_service_account').value;
    const res = await apply(w.org.owner.client, w.org, SOURCE.replace('[insight:read, dashboard:read, query:read]', '[insight:read, dashboard:read]'));
    expect(res.body.changes.map((c: any) => `${c.op} ${c.description}`)).toEqual([
      '~ bi_service_account in Production: key scopes dashboard:read, insight:read, query:read -> dashboard:read, insight:read',
    ]);
    expect(res.body.new_keys).toEqual([]);
    const bi = w.org.owner.client.withKey(value);
    expect((await bi.get(`/api/projects/${w.production}/insights/`)).status).toBe(200);
    expectError(await bi.post(`/api/projects/${w.production}/query/`, { query: { kind: 'EventsQuery', select: ['event'] } }), 403);
  });
});

describe('the optional sections', () => {
  it('manages members by email, maps project keys, takes resources, and removes what the file drops', async () => {
    const w = await world();
    const file = `projects:
  prod: Production
access_matrix:
  engineering:
    members: [${w.engineer.user.email.toUpperCase()}]
    prod:
      role: member
      can_create_flags: true
      resources: { dashboard: viewer, session_recording: default }
`;
    const res = await apply(w.org.owner.client, w.org, file);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const lines = res.body.changes.map((c: any) => `${c.op} ${c.description}`);
    expect(lines).toContain(`+ engineering: member ${w.engineer.user.email.toLowerCase()}`);
    expect(lines).toContain('+ engineering in Production: dashboard viewer');
    expect(lines.some((l: string) => l.includes('session_recording'))).toBe(false);
    expectError(await w.engineer.client.post(`/api/projects/${w.production}/dashboards/`, { name: 'D' }), 403);

    // A hand-made role is drift; dropping the project removes its rules.
    await w.org.owner.client.post(`/api/organizations/${w.org.id}/roles/`, { name: 'hand-made' });
    const shrunk = await apply(w.org.owner.client, w.org, 'access_matrix:\n  engineering:\n    members: []\n');
    expect(shrunk.body.changes.map((c: any) => `${c.op} ${c.description}`)).toEqual([
      `- engineering: member ${w.engineer.user.email.toLowerCase()}`,
      '- engineering in Production: project access member',
      '- engineering in Production: dashboard viewer',
      '- engineering in Production: feature_flag editor',
      '- engineering in Production: insight viewer',
      '- role hand-made',
    ]);
  });
});

describe('problems with the file', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  const problem = async (document: unknown, pattern: RegExp) => {
    const res = await plan(w.org.owner.client, w.org, document);
    expectError(res, 400, pattern, 'document');
    expect(res.body.code).toBe('invalid_matrix');
    expect((await apply(w.org.owner.client, w.org, document)).status).toBe(400);
    expect((await w.org.owner.client.get(`/api/organizations/${w.org.id}/roles/`)).body.results).toEqual([]);
  };

  it('names the file, line and column of an unknown key, project, scope or value', async () => {
    await problem(
      SOURCE.replace('can_create_flags: true\n      can_delete_flags: true', 'can_create_flag: true\n      can_delete_flags: true'),
      /^access-matrix\.yaml:6:7: unknown key "can_create_flag"/,
    );
    await problem(
      SOURCE.replace('staging_project:\n    role: member', 'stagin_project:\n    role: member').replace(
        '  product:\n    staging_project:',
        '  product:\n    stagin_project:',
      ),
      /^access-matrix\.yaml:13:5: project "stagin" does not exist in this organization/,
    );
    await problem(SOURCE.replace('query:read]', 'query:raed]'), /^access-matrix\.yaml:23:54: "query:raed" is not a scope in the catalogue/);
    await problem(SOURCE.replace('role: admin #', 'role: owner #'), /^access-matrix\.yaml:5:13: expected one of none, member, admin, found string "owner"/);
    await problem(
      SOURCE.replace(
        'can_view_recordings: true\n      can_create_insights: true\n    production_project',
        'can_view_recordings: yes please\n      can_create_insights: true\n    production_project',
      ),
      /^access-matrix\.yaml:15:28: expected true or false/,
    );
    await problem(
      'access_matrix:\n  a:\n    members: [nobody@example.com]\n',
      /^access-matrix\.yaml:3:15: nobody@example.com is not a member of this organization/,
    );
    await problem('access_matrix:\n  a: [1\n', /^access-matrix\.yaml:\d+:\d+: /);
    await problem('access_matrix:\n  a: {}\n  a: {}\n', /^access-matrix\.yaml:3:3: Map keys must be unique/);
    await problem('acces_matrix: {}\n', /^access-matrix\.yaml:1:1: unknown key "acces_matrix"/);
    await problem(
      { access_matrix: { eng: { staging_project: { role: 'boss' } } } },
      /^access-matrix\.yaml: expected one of none, member, admin, found string "boss" \(at access_matrix\.eng\.staging_project\.role\)/,
    );
  });

  it('reports every problem at once', async () => {
    const res = await plan(w.org.owner.client, w.org, 'access_matrix:\n  g:\n    x_project: {}\n    y_project: {}\n');
    expect(res.body.detail.split('\n')).toEqual([
      'access-matrix.yaml:3:5: project "x" does not exist in this organization (at access_matrix.g.x_project)',
      'access-matrix.yaml:4:5: project "y" does not exist in this organization (at access_matrix.g.y_project)',
    ]);
  });

  it('checks file_hash against the document', async () => {
    expectError(
      await w.org.owner.client.post(`${matrix(w.org)}plan/`, { document: SOURCE, file_hash: 'abc' }),
      400,
      'file_hash is not the sha256 of the document sent.',
      'file_hash',
    );
  });

  it('is for admins: members are refused', async () => {
    expectError(await plan(w.engineer.client, w.org, SOURCE), 403);
    expectError(await w.engineer.client.get(matrix(w.org)), 403);
  });
});

describe('an apply that fails midway', () => {
  it('changes nothing when the domain refuses a change (a key scope outside the organization policy)', async () => {
    const w = await world();
    const patched = await w.org.owner.client.patch(`/api/organizations/${w.org.id}/`, {
      personal_api_keys_allowed_scopes: ['insight:read', 'dashboard:read', 'query:read', 'feature_flag:read'],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const before = await entries(w.org);
    const res = await apply(w.org.owner.client, w.org, SOURCE);
    expectError(
      res,
      400,
      /^access-matrix\.yaml:26:5: \+ flag_service_account in Production: key with feature_flag:read, feature_flag:write: Organization 'Acme' does not allow personal API keys the scope 'feature_flag:write'\./,
    );
    expect(await entries(w.org)).toEqual(before);
    expect((await w.org.owner.client.get(`/api/organizations/${w.org.id}/roles/`)).body.results).toEqual([]);
    expect((await w.org.owner.client.get(`/api/organizations/${w.org.id}/service_accounts/`)).body.results).toEqual([]);
    // The dry run makes the changes too, so it finds the same problem.
    expect((await apply(w.org.owner.client, w.org, SOURCE, { dry_run: true })).status).toBe(400);
  });

  it('changes nothing when the database fails on the last change', async () => {
    const w = await world();
    await server.db.exec(`CREATE OR REPLACE FUNCTION matrix_test_fail() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk on fire'; END $$ LANGUAGE plpgsql;
      CREATE TRIGGER matrix_test_fail BEFORE INSERT ON personal_api_keys FOR EACH ROW WHEN (NEW.label = 'access matrix: Production') EXECUTE FUNCTION matrix_test_fail();`);
    try {
      const before = await entries(w.org);
      const res = await apply(w.org.owner.client, w.org, SOURCE);
      expect(res.status).toBe(500);
      expect(await entries(w.org)).toEqual(before);
      expect((await w.org.owner.client.get(`/api/organizations/${w.org.id}/roles/`)).body.results).toEqual([]);
      expect(await server.db.query('SELECT 1 FROM access_controls WHERE team_id = $1', [w.production])).toEqual([]);
    } finally {
      await server.db.exec('DROP TRIGGER matrix_test_fail ON personal_api_keys; DROP FUNCTION matrix_test_fail();');
    }
    expect((await apply(w.org.owner.client, w.org, SOURCE)).status).toBe(200);
  });
});
