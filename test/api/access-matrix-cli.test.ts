/**
 * `warden matrix plan|apply|check|export` as a person runs them: the real CLI against a
 * `warden serve` process, with the key from POSTHOG_PERSONAL_API_KEY and the host from POSTHOG_HOST.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshInstance, REPO, serve, warden, type RunningServer } from '../helpers/cli.js';
import { Client } from '../helpers/client.js';
import { PASSWORD } from '../helpers/world.js';

const SOURCE = readFileSync(join(REPO, 'test/fixtures/access-matrix/source-document.yaml'), 'utf8');

let instance: Awaited<ReturnType<typeof freshInstance>>;
let server: RunningServer;
let dir: string;
let env: NodeJS.ProcessEnv;
let owner: Client;
let organizationId: string;
let production: number;

beforeAll(async () => {
  instance = await freshInstance();
  const boot = await warden(
    ['bootstrap', '--email', 'owner@acme.test', '--password', PASSWORD, '--organization', 'Acme', '--json', ...instance.args],
    instance.env,
  );
  expect(boot.code, boot.stderr).toBe(0);
  const { personal_api_key, organization } = JSON.parse(boot.stdout);
  organizationId = organization.id;
  server = await serve(instance.args, instance.env);
  owner = new Client(server.url).withKey(personal_api_key);
  for (const [name, access_control] of [
    ['Production', true],
    ['Staging', false],
  ] as const) {
    const res = await owner.post(`/api/organizations/${organizationId}/projects/`, { name, access_control });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    if (name === 'Production') production = res.body.id;
  }
  dir = mkdtempSync(join(tmpdir(), 'warden-matrix-'));
  writeFileSync(join(dir, 'matrix.yaml'), SOURCE);
  env = { ...instance.env, POSTHOG_HOST: server.url, POSTHOG_PERSONAL_API_KEY: personal_api_key, WARDEN_URL: '', WARDEN_API_KEY: '' };
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await instance?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const matrix = (...args: string[]) => warden(['matrix', ...args], env);
const file = (name = 'matrix.yaml') => join(dir, name);

describe('warden matrix', () => {
  it('plans the source document with exit code 2 and a readable diff', async () => {
    const res = await matrix('plan', file());
    expect(res.code, res.stderr).toBe(2);
    expect(res.stdout).toContain('  + role engineering');
    expect(res.stdout).toContain('  + engineering in Production: flag deletion needs approval');
    expect(res.stdout).toMatch(/Plan: \d+ to add, 0 to change, 0 to remove\./);
    const json = await matrix('plan', file(), '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).changes.length).toBeGreaterThan(10);
  });

  it('applies it, writing the new keys to a 0600 file, after which plan shows no changes', async () => {
    const secrets = join(dir, 'secrets.json');
    const res = await matrix('apply', file(), '--secrets-out', secrets);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Applied: \d+ to add, 0 to change, 0 to remove \(batch [0-9a-f-]{36}\)\./);
    expect(res.stdout).not.toContain('phx_');
    expect(statSync(secrets).mode & 0o777).toBe(0o600);
    const { keys } = JSON.parse(readFileSync(secrets, 'utf8'));
    expect(keys.map((k: any) => k.service_account)).toEqual(['bi_service_account', 'flag_service_account']);
    const bi = new Client(server.url).withKey(keys[0].value);
    expect((await bi.get(`/api/projects/${production}/insights/`)).status).toBe(200);

    const again = await matrix('plan', file());
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('No changes');
    expect((await matrix('check', file())).code).toBe(0);
  });

  it('check names a change made by hand, and exits non-zero', async () => {
    const roles = (await owner.get(`/api/organizations/${organizationId}/roles/`)).body.results;
    const product = roles.find((r: any) => r.name === 'product').id;
    const put = await owner.put(`/api/projects/${production}/resource_access_controls/`, {
      resource: 'session_recording',
      access_level: 'editor',
      role: product,
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const res = await matrix('check', file());
    expect(res.code).toBe(2);
    expect(res.stdout).toContain('  ~ product in Production: session_recording editor -> viewer');
    const fixed = await matrix('apply', file());
    expect(fixed.code, fixed.stderr).toBe(0);
    expect((await matrix('check', file())).code).toBe(0);
  });

  it('a second apply with one line changed changes exactly that', async () => {
    writeFileSync(file('edited.yaml'), SOURCE.replace('can_delete_flags: false # Require admin approval', 'can_delete_flags: true # Require admin approval'));
    const res = await matrix('apply', file('edited.yaml'), '--json');
    expect(res.code, res.stderr).toBe(0);
    const answer = JSON.parse(res.stdout);
    expect(answer.changes.map((c: any) => `${c.op} ${c.description}`)).toEqual(['- engineering in Production: flag deletion needs approval']);
    const log = await owner.get(`/api/projects/${production}/activity_log/?scope=ApprovalPolicy`);
    expect(log.body.results[0]).toMatchObject({ activity: 'deleted' });
    expect(log.body.results[0].detail.context).toMatchObject({ batch_id: answer.batch_id, file_sha256: answer.file_sha256 });
    expect((await matrix('plan', file())).code).toBe(2);
    expect((await matrix('apply', file())).code).toBe(0);
  });

  it('exports the organization; applying the export changes nothing', async () => {
    const out = file('exported.yaml');
    const res = await matrix('export', '--out', out);
    expect(res.code, res.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('access_matrix:');
    expect(text).toContain('api_key_scopes: [dashboard:read, insight:read, query:read]');
    const plan = await matrix('plan', out);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect((await matrix('apply', out)).stdout).toContain('No changes');
  });

  it('reports problems with the file name, line and column, and exit code 1', async () => {
    writeFileSync(file('bad.yaml'), SOURCE.replace('api_key_scopes: [feature_flag:read', 'api_key_scopes: [feature_flag:raed'));
    const bad = await matrix('plan', file('bad.yaml'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file('bad.yaml')}:27:24: "feature_flag:raed" is not a scope in the catalogue`);
    writeFileSync(
      file('unknown.yaml'),
      SOURCE.replace('production_project:\n      role: member\n      can_view', 'prod_project:\n      role: member\n      can_view'),
    );
    const unknown = await matrix('apply', file('unknown.yaml'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`${file('unknown.yaml')}:17:5: project "prod" does not exist in this organization`);
    expect((await matrix('plan', file('missing.yaml'))).code).toBe(1);
    const noKey = await warden(['matrix', 'plan', file()], { ...env, POSTHOG_PERSONAL_API_KEY: '' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain('a personal API key is needed');
  });
});
