/**
 * decide() without HTTP: who may call a route, in the order the guard asks (credentials, the key's
 * scopes and confinement, the organization and project facts). The key-policy and confinement
 * cases on routes that name no organization are in grant-ceiling.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  decide,
  NO_KEY_ACCESS,
  SERVICE_ACCOUNT_KEY_MANAGEMENT,
  type DecisionInput,
  type OrganizationFacts,
  type Principal,
  type ProjectFacts,
} from '../../src/access/decide.js';
import { OrganizationLevel } from '../../src/access/levels.js';
import { projectToken, publicRoute, scoped, scimToken } from '../../src/access/route-access.js';

const { MEMBER, ADMIN } = OrganizationLevel;
const user: Principal = { kind: 'user', userId: 1 };
const key = (over: Partial<Extract<Principal, { kind: 'personal_api_key' }>> = {}): Principal => ({
  kind: 'personal_api_key',
  userId: 1,
  keyId: 'k1',
  scopes: ['*'],
  scopedTeams: null,
  scopedOrganizations: null,
  createdAt: new Date('2026-01-01'),
  isServiceAccount: false,
  ...over,
});
const org = (over: Partial<OrganizationFacts> = {}): OrganizationFacts => ({
  id: 'o1',
  name: 'Acme',
  level: MEMBER,
  membersCanUsePersonalApiKeys: true,
  keyPolicy: { organizationName: 'Acme', allowedScopes: null, maxLifetimeDays: null },
  ...over,
});
const project = (over: Partial<ProjectFacts> = {}): ProjectFacts => ({ id: 3, organizationId: 'o1', effectiveLevel: MEMBER, ...over });
const input = (over: Partial<DecisionInput>): DecisionInput => ({
  principal: user,
  access: scoped('feature_flag', 'read'),
  organization: org(),
  project: project(),
  now: new Date('2026-06-01'),
  ...over,
});

describe('decide()', () => {
  it('lets anyone through public and project-token routes (their own checks follow), and nobody without credentials elsewhere', () => {
    expect(decide(input({ principal: null, access: publicRoute })).allow).toBe(true);
    expect(decide(input({ principal: null, access: projectToken })).allow).toBe(true);
    expect(decide(input({ principal: null }))).toMatchObject({ allow: false, status: 401, code: 'not_authenticated' });
    // A SCIM-token route is not a user's: decide() has no principal kind that passes it without credentials.
    expect(decide(input({ principal: null, access: scimToken }))).toMatchObject({ allow: false, status: 401 });
  });

  it("checks a key's scopes (write implies read) with PostHog's message; a session needs none", () => {
    expect(decide(input({ principal: key({ scopes: ['feature_flag:read'] }) })).allow).toBe(true);
    expect(decide(input({ principal: key({ scopes: ['feature_flag:write'] }) })).allow).toBe(true);
    const missing = decide(input({ principal: key({ scopes: ['insight:read'] }), access: scoped('feature_flag', 'write') }));
    expect(missing).toMatchObject({ allow: false, status: 403, detail: "API key missing required scope 'feature_flag:write'" });
    expect(decide(input({ access: scoped('feature_flag', 'write') })).allow).toBe(true);
  });

  it('accepts the alternative scope a route names, and only that', () => {
    const access = scoped('query', 'read', 'insight');
    expect(decide(input({ principal: key({ scopes: ['insight:read'] }), access })).allow).toBe(true);
    expect(decide(input({ principal: key({ scopes: ['dashboard:read'] }), access })).allow).toBe(false);
  });

  it('answers 404 for an organization or project that is missing or not the caller’s, 403 for a private project without membership', () => {
    expect(decide(input({ organization: 'missing', project: undefined }))).toMatchObject({ status: 404, detail: 'Organization not found.' });
    expect(decide(input({ project: 'missing' }))).toMatchObject({ status: 404, detail: 'Project not found.' });
    expect(decide(input({ organization: org({ level: null }) }))).toMatchObject({ status: 404, detail: 'Project not found.' });
    expect(decide(input({ organization: org({ level: null }), project: undefined }))).toMatchObject({ status: 404, detail: 'Organization not found.' });
    expect(decide(input({ project: project({ effectiveLevel: null }) }))).toMatchObject({ status: 403, code: 'permission_denied' });
  });

  it('keeps a project-confined key to its projects', () => {
    const confined = key({ scopedTeams: [3] });
    expect(decide(input({ principal: confined })).allow).toBe(true);
    expect(decide(input({ principal: confined, project: project({ id: 4 }) }))).toMatchObject({
      status: 403,
      detail: 'API key does not have access to the requested project: ID 4.',
    });
  });

  it("applies the organization's key policy to members, not to admins", () => {
    const forbids = org({ membersCanUsePersonalApiKeys: false });
    expect(decide(input({ principal: key(), organization: forbids }))).toMatchObject({ allow: false, status: 403 });
    expect(decide(input({ principal: key(), organization: { ...forbids, level: ADMIN } })).allow).toBe(true);
    expect(decide(input({ principal: user, organization: forbids })).allow).toBe(true);
    const short = org({ keyPolicy: { organizationName: 'Acme', allowedScopes: null, maxLifetimeDays: 30 } });
    expect(decide(input({ principal: key(), organization: short }))).toMatchObject({ status: 401, code: 'authentication_failed' });
  });

  it('lets keys manage keys only where the route allows it, never a service account’s', () => {
    const self = { kind: 'key_management', keys: 'self' } as const;
    const all = { kind: 'key_management', keys: 'all-scopes' } as const;
    const base = { organization: undefined, project: undefined, accountOrganizations: [org()] };
    expect(decide(input({ ...base, principal: key(), access: self, targetKeyId: 'k1' })).allow).toBe(true);
    expect(decide(input({ ...base, principal: key({ scopes: ['insight:read'] }), access: self, targetKeyId: 'k2' }))).toMatchObject({
      detail: NO_KEY_ACCESS,
    });
    expect(decide(input({ ...base, principal: key({ scopedTeams: [3] }), access: all })).allow).toBe(false);
    expect(decide(input({ ...base, principal: key({ isServiceAccount: true }), access: self }))).toMatchObject({
      detail: SERVICE_ACCOUNT_KEY_MANAGEMENT,
    });
  });

  it('says why it allowed, for the logs', () => {
    const d = decide(input({ principal: key({ keyId: 'abc' }) }));
    expect(d).toMatchObject({ allow: true, reason: 'key abc may feature_flag:read in project 3 (level 1)' });
  });
});
