import { describe, expect, it } from 'vitest';
import { resolveAccess, type AccessControlRow } from '../../src/access/access-control.js';

const base = {
  resource: 'feature_flag' as const,
  objectId: '7',
  isCreator: false,
  organizationLevel: 1,
  organizationMemberId: 'me',
  roleIds: ['eng'],
  rows: [] as AccessControlRow[],
};
const row = (accessLevel: AccessControlRow['accessLevel'], target: Partial<AccessControlRow> = {}): AccessControlRow => ({
  accessLevel,
  resourceId: null,
  organizationMemberId: null,
  roleId: null,
  ...target,
});

describe('resolveAccess (PostHog resolution order)', () => {
  it('creators and organization admins always have the highest level', () => {
    const rows = [row('none')];
    expect(resolveAccess({ ...base, isCreator: true, rows }).level).toBe('manager');
    expect(resolveAccess({ ...base, organizationLevel: 8, rows }).level).toBe('manager');
    expect(resolveAccess({ ...base, resource: 'activity_log', organizationLevel: 15 }).level).toBe('viewer');
  });

  it("object member/role rows beat project-wide rows, which beat the object's default", () => {
    const rows = [
      row('none'), // resource default
      row('viewer', { resourceId: '7' }), // object default
      row('editor', { roleId: 'eng' }), // resource role
      row('manager', { resourceId: '7', organizationMemberId: 'me' }), // object member
    ];
    expect(resolveAccess({ ...base, rows }).level).toBe('manager');
    expect(resolveAccess({ ...base, rows: rows.slice(0, 3) }).level).toBe('editor');
    // A project-wide rule (here the default `none`) comes before the object's own default.
    expect(resolveAccess({ ...base, rows: rows.slice(0, 2) }).level).toBe('none');
    expect(resolveAccess({ ...base, rows: rows.slice(1, 2) }).level).toBe('viewer');
    expect(resolveAccess({ ...base, rows: rows.slice(0, 1) }).level).toBe('none');
    expect(resolveAccess({ ...base, rows: [] })).toEqual({ level: 'editor', reason: 'built-in default', source: 'default' });
    // Where each level comes from, in PostHog's users_with_access words.
    expect(resolveAccess({ ...base, rows }).source).toBe('explicit_member');
    expect(resolveAccess({ ...base, rows: rows.slice(0, 3) }).source).toBe('explicit_role');
    expect(resolveAccess({ ...base, rows: rows.slice(0, 2) }).source).toBe('default');
    expect(resolveAccess({ ...base, rows: rows.slice(1, 2) }).source).toBe('default');
    expect(resolveAccess({ ...base, organizationLevel: 8, rows }).source).toBe('organization_admin');
    expect(resolveAccess({ ...base, isCreator: true, rows }).source).toBe('creator');
  });

  it('takes the highest of several matching rows at one step, and ignores other people and roles', () => {
    const rows = [row('viewer', { organizationMemberId: 'me' }), row('editor', { roleId: 'eng' }), row('manager', { roleId: 'ops' })];
    expect(resolveAccess({ ...base, rows }).level).toBe('editor');
    expect(resolveAccess({ ...base, rows: [row('manager', { organizationMemberId: 'you' }), row('none')] }).level).toBe('none');
  });

  it('answers resource-level questions without object rows', () => {
    const rows = [row('manager', { resourceId: '7', organizationMemberId: 'me' }), row('viewer')];
    expect(resolveAccess({ ...base, objectId: null, rows }).level).toBe('viewer');
  });
});

describe('level comparison', () => {
  it('never lets a viewer-capped resource write: its viewer is below editor', async () => {
    const { requiredLevel, satisfies } = await import('../../src/access/access-control.js');
    for (const resource of ['activity_log', 'toolbar'] as const) {
      expect(satisfies(resource, 'viewer', requiredLevel(resource, 'read'))).toBe(true);
      expect(satisfies(resource, 'viewer', requiredLevel(resource, 'write'))).toBe(false);
      expect(satisfies(resource, 'none', requiredLevel(resource, 'read'))).toBe(false);
    }
    expect(satisfies('feature_flag', 'viewer', 'editor')).toBe(false);
    expect(satisfies('feature_flag', 'manager', 'editor')).toBe(true);
    expect(satisfies('project', 'member', 'admin')).toBe(false);
    expect(satisfies('project', 'admin', 'member')).toBe(true);
    // A need off the scale is never met.
    expect(satisfies('project', 'admin', 'editor')).toBe(false);
  });
});
