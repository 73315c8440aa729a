/**
 * The pure rules behind issue 16, without HTTP: the grant ceiling and decide()'s key confinement
 * and organization key policy, including routes that name no organization or project.
 */
import { describe, expect, it } from 'vitest';
import {
  decide,
  ORGANIZATION_CONFINED_KEY,
  PROJECT_CONFINED_KEY,
  type DecisionInput,
  type OrganizationFacts,
  type Principal,
} from '../../src/access/decide.js';
import { levelChangeBreach, levelGrantBreach, levelUnderCeiling, targetBreach } from '../../src/access/grant-ceiling.js';
import { inviteReplacementDenial } from '../../src/access/membership-rules.js';
import { scoped } from '../../src/access/route-access.js';

const [MEMBER, ADMIN, OWNER] = [1, 8, 15];

describe('the grant ceiling', () => {
  it('gives a level only up to your own, and Owner only as an Owner', () => {
    expect(levelGrantBreach(OWNER, OWNER)).toBeNull();
    expect(levelGrantBreach(ADMIN, ADMIN)).toBeNull();
    expect(levelGrantBreach(ADMIN, OWNER)).toBe('owner_only');
    expect(levelGrantBreach(MEMBER, ADMIN)).toBe('above_own_level');
    expect(levelGrantBreach(MEMBER, MEMBER)).toBeNull();
  });

  it('touches nobody above you', () => {
    expect(targetBreach(ADMIN, OWNER)).toBe('target_above_own_level');
    expect(targetBreach(ADMIN, ADMIN)).toBeNull();
    expect(levelChangeBreach(ADMIN, OWNER, MEMBER)).toBe('target_above_own_level');
    expect(levelChangeBreach(ADMIN, MEMBER, OWNER)).toBe('owner_only');
  });

  it("holds a standing grant to its author's level: the member keeps their level when the grant may not change it", () => {
    expect(levelUnderCeiling(ADMIN, OWNER, MEMBER)).toBe(OWNER);
    expect(levelUnderCeiling(ADMIN, MEMBER, OWNER)).toBe(MEMBER);
    expect(levelUnderCeiling(ADMIN, MEMBER, ADMIN)).toBe(ADMIN);
    expect(levelUnderCeiling(OWNER, OWNER, MEMBER)).toBe(MEMBER);
  });

  it('lets a pending invite be replaced only by someone who could have made it', () => {
    expect(inviteReplacementDenial(MEMBER, ADMIN)).toMatch(/higher level than your own/);
    expect(inviteReplacementDenial(ADMIN, ADMIN)).toBeNull();
    expect(inviteReplacementDenial(MEMBER, MEMBER)).toBeNull();
  });
});

const org = (id: string, over: Partial<OrganizationFacts> = {}): OrganizationFacts => ({
  id,
  name: id,
  level: MEMBER,
  membersCanUsePersonalApiKeys: true,
  keyPolicy: { organizationName: id, allowedScopes: null, maxLifetimeDays: null },
  ...over,
});

const key = (over: Partial<Extract<Principal, { kind: 'personal_api_key' }>> = {}): Principal => ({
  kind: 'personal_api_key',
  userId: 7,
  keyId: 'k1',
  scopes: ['*'],
  scopedTeams: null,
  scopedOrganizations: null,
  createdAt: new Date('2026-01-01'),
  isServiceAccount: false,
  ...over,
});

const input = (over: Partial<DecisionInput>): DecisionInput => ({
  principal: key(),
  access: scoped('organization', 'read'),
  now: new Date('2026-06-01'),
  ...over,
});

describe('decide(): keys on every route', () => {
  it('refuses a project-confined key wherever no project is named', () => {
    const confined = key({ scopedTeams: [3] });
    for (const over of [{ organization: org('a') }, { accountOrganizations: [org('a')] }]) {
      const d = decide(input({ principal: confined, ...over }));
      expect(d).toMatchObject({ allow: false, status: 403, detail: PROJECT_CONFINED_KEY });
    }
    const project = { id: 3, organizationId: 'a', effectiveLevel: 1 };
    expect(decide(input({ principal: confined, access: scoped('project', 'read'), organization: org('a'), project })).allow).toBe(true);
  });

  it('on a route naming no organization, a read reaches the organizations whose policy accepts the key', () => {
    const forbids = org('f', { membersCanUsePersonalApiKeys: false });
    const d = decide(input({ accountOrganizations: [org('a'), forbids] }));
    expect(d).toMatchObject({ allow: true, keyOrganizations: ['a'] });
    const none = decide(input({ accountOrganizations: [forbids] }));
    expect(none).toMatchObject({ allow: false, status: 403, reason: 'organization forbids member keys' });
    // An admin there is not bound by it.
    expect(decide(input({ accountOrganizations: [org('f', { membersCanUsePersonalApiKeys: false, level: ADMIN })] })).allow).toBe(true);
  });

  it('an account-wide write needs every organization to accept the key, and no organization confinement', () => {
    const write = scoped('user', 'write');
    expect(decide(input({ access: write, accountOrganizations: [org('a'), org('f', { membersCanUsePersonalApiKeys: false })] })).allow).toBe(false);
    expect(decide(input({ access: write, accountOrganizations: [org('a'), org('b')] })).allow).toBe(true);
    const confined = decide(input({ access: write, principal: key({ scopedOrganizations: ['a'] }), accountOrganizations: [org('a')] }));
    expect(confined).toMatchObject({ allow: false, detail: ORGANIZATION_CONFINED_KEY });
  });

  it('narrows an organization-confined read to its organizations, and applies lifetime and scope boundaries there', () => {
    const d = decide(input({ principal: key({ scopedOrganizations: ['b'] }), accountOrganizations: [org('a'), org('b')] }));
    expect(d).toMatchObject({ allow: true, keyOrganizations: ['b'] });
    const old = org('a', { keyPolicy: { organizationName: 'a', allowedScopes: null, maxLifetimeDays: 30 } });
    expect(decide(input({ accountOrganizations: [old] }))).toMatchObject({ allow: false, status: 401 });
    const bounded = org('a', { keyPolicy: { organizationName: 'a', allowedScopes: ['insight:read'], maxLifetimeDays: null } });
    expect(decide(input({ accountOrganizations: [bounded] }))).toMatchObject({ allow: false, status: 403 });
  });

  it('takes key management only from a key every organization of its user accepts', () => {
    const manage = { kind: 'key_management', keys: 'all-scopes' } as const;
    expect(decide(input({ access: manage, accountOrganizations: [org('a')] })).allow).toBe(true);
    expect(decide(input({ access: manage, accountOrganizations: [org('a'), org('f', { membersCanUsePersonalApiKeys: false })] })).allow).toBe(false);
  });

  it('leaves sessions alone: they are bound by levels, not key policies', () => {
    expect(decide(input({ principal: { kind: 'user', userId: 7 }, access: scoped('user', 'write') })).allow).toBe(true);
  });
});
