import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { expiryUnderPolicy, scopesOutsidePolicy } from '../../src/access/key-policy.js';
import { explicitMemberDenial, membershipUpdateDenial } from '../../src/access/membership-rules.js';
import { effectiveProjectLevel } from '../../src/access/project-access.js';
import { isValidScope, SCOPE_OBJECTS, scopesGrant } from '../../src/access/scopes.js';
import { requireAccessDeclarations } from '../../src/http/guard.js';

describe('effectiveProjectLevel (PostHog legacy rule)', () => {
  it.each([
    // org level, private, explicit -> effective
    [null, false, null, null],
    [null, true, 8, null],
    [1, false, null, 1],
    [8, false, null, 8],
    [1, true, null, null],
    [8, true, null, 8],
    [15, true, null, 15],
    [1, true, 1, 1],
    [1, true, 8, 8],
    [8, true, 1, 8],
  ] as const)('org %s, private %s, explicit %s -> %s', (organizationLevel, accessControl, explicitLevel, want) => {
    expect(effectiveProjectLevel({ organizationLevel, accessControl, explicitLevel })).toBe(want);
  });
});

describe('membershipUpdateDenial (validate_update)', () => {
  const m = (userId: number, level: number, organizationId = 'o') => ({ userId, level, organizationId });
  it('denies exactly what PostHog denies', () => {
    expect(membershipUpdateDenial(m(1, 15), m(1, 15), 8)).toBe("You can't change your own access level.");
    expect(membershipUpdateDenial(m(1, 8), m(2, 1), 15)).toBe("You can only make another member owner if you're this organization's owner.");
    expect(membershipUpdateDenial(m(1, 1), m(2, 1), 8)).toBe('You can only change access level of others to lower or equal to your current one.');
    expect(membershipUpdateDenial(m(1, 8), m(2, 1, 'other'))).toBe('You both need to belong to the same organization.');
    expect(membershipUpdateDenial(m(1, 1), m(2, 1))).toBe('You can only edit others if you are an admin.');
    expect(membershipUpdateDenial(m(1, 8), m(2, 15))).toBe('You can only edit others with level lower or equal to you.');
    expect(membershipUpdateDenial(m(1, 8), m(2, 8), 1)).toBeNull();
    expect(membershipUpdateDenial(m(1, 15), m(2, 1), 15)).toBeNull();
    expect(membershipUpdateDenial(m(1, 1), m(1, 1))).toBeNull(); // leaving
  });

  it('explicit project members follow ee/api/explicit_team_member.py', () => {
    const base = { requesterUserId: 1, requesterProjectLevel: 8, targetUserId: 2 };
    expect(explicitMemberDenial({ ...base, requesterProjectLevel: 1, newLevel: 1 })).toBe("You don't have sufficient permissions in the project.");
    expect(explicitMemberDenial({ ...base, targetUserId: 1, newLevel: 1 })).toBe("You can't explicitly add yourself to projects.");
    expect(explicitMemberDenial({ ...base, targetUserId: 1, targetExplicitLevel: 8, newLevel: 1 })).toBe("You can't set your own access level.");
    expect(explicitMemberDenial({ ...base, newLevel: 8 })).toBeNull();
  });
});

describe('scopes', () => {
  it('accepts `*` and object:read|write from the catalogue only', () => {
    expect(isValidScope('*')).toBe(true);
    expect(isValidScope('event:read')).toBe(true);
    expect(isValidScope('feature_flag:write')).toBe(true);
    for (const bad of ['event', 'event:delete', 'nope:read', 'event:read:x', '', null, 3, '*:read']) expect(isValidScope(bad)).toBe(false);
    expect(new Set(SCOPE_OBJECTS).size).toBe(SCOPE_OBJECTS.length);
  });

  it('write implies read; `*` grants all', () => {
    expect(scopesGrant(['insight:write'], 'insight', 'read')).toBe(true);
    expect(scopesGrant(['insight:read'], 'insight', 'write')).toBe(false);
    expect(scopesGrant(['*'], 'organization_member', 'write')).toBe(true);
    expect(scopesGrant(['dashboard:read'], 'insight', 'read')).toBe(false);
  });

  it('keeps keys inside an organization boundary', () => {
    expect(scopesOutsidePolicy(['insight:read', 'insight:write', '*'], ['insight:read'])).toEqual(['insight:write', '*']);
    expect(scopesOutsidePolicy(['insight:read'], ['insight:write'])).toEqual([]);
    expect(scopesOutsidePolicy(['*'], null)).toEqual([]);
    const policy = { organizationName: 'A', allowedScopes: null, maxLifetimeDays: 30 };
    const now = new Date('2026-01-01T00:00:00Z');
    expect(expiryUnderPolicy(policy, now, null)).toEqual({ expiresAt: new Date('2026-01-31T00:00:00Z') });
    expect(expiryUnderPolicy(policy, now, new Date('2026-03-01T00:00:00Z'))).toHaveProperty('error');
  });
});

describe('route declarations', () => {
  it('refuses to register a route that declares no access', async () => {
    const app = Fastify();
    requireAccessDeclarations(app);
    expect(() => app.get('/undeclared', async () => 'open')).toThrow(/declares no access/);
    expect(() => app.get('/declared', { config: { access: { kind: 'public' } } }, async () => 'ok')).not.toThrow();
    await app.close();
  });
});

describe('resource access levels', async () => {
  const { accessLevelsFor, defaultAccessLevel, highestAccessLevel, compareAccessLevels } = await import('../../src/access/resources.js');
  it("follow PostHog's levels and defaults", () => {
    expect(accessLevelsFor('project')).toEqual(['none', 'member', 'admin']);
    expect(accessLevelsFor('feature_flag')).toEqual(['none', 'viewer', 'editor', 'manager']);
    expect(highestAccessLevel('activity_log')).toBe('viewer');
    expect(defaultAccessLevel('project')).toBe('admin');
    expect(defaultAccessLevel('organization')).toBe('member');
    expect(defaultAccessLevel('toolbar')).toBe('viewer');
    expect(defaultAccessLevel('insight')).toBe('editor');
    expect(compareAccessLevels('insight', 'viewer', 'editor')).toBeLessThan(0);
  });
});
