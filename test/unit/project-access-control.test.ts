import { describe, expect, it } from 'vitest';
import type { AccessControlRow } from '../../src/access/access-control.js';
import {
  effectiveProjectLevel,
  projectAccessLevelOf,
  projectLevelOf,
  resolveProjectLevel,
  type ProjectAccessControlFacts,
} from '../../src/access/project-access.js';

const PROJECT = 7;
const base: ProjectAccessControlFacts = {
  projectId: PROJECT,
  organizationLevel: 1,
  organizationMemberId: 'me',
  roleIds: ['eng'],
  accessControl: false,
  explicitLevel: null,
  rows: [],
};
const row = (accessLevel: AccessControlRow['accessLevel'], target: Partial<AccessControlRow> = {}): AccessControlRow => ({
  accessLevel,
  resourceId: String(PROJECT),
  organizationMemberId: null,
  roleId: null,
  ...target,
});
const level = (facts: Partial<ProjectAccessControlFacts>) => resolveProjectLevel({ ...base, ...facts }).level;

describe('resolveProjectLevel (PostHog §2b with the legacy rule behind it)', () => {
  it('keeps the legacy rule when no row concerns the member', () => {
    for (const accessControl of [false, true]) {
      for (const explicitLevel of [null, 1, 8]) {
        for (const organizationLevel of [null, 1, 8, 15]) {
          const facts = { organizationLevel, accessControl, explicitLevel, organizationMemberId: organizationLevel === null ? null : 'me' };
          // Another member's row and another role's row change nothing for this user.
          const rows = [row('admin', { organizationMemberId: 'other' }), row('none', { roleId: 'sales' })];
          expect(level({ ...facts, rows })).toBe(effectiveProjectLevel(facts));
        }
      }
    }
    expect(resolveProjectLevel({ ...base, accessControl: true }).source).toBe('legacy');
  });

  it('maps member/role rows: admin -> 8, member -> 1, none -> no access, overriding the legacy rule', () => {
    for (const target of [{ organizationMemberId: 'me' }, { roleId: 'eng' }]) {
      expect(level({ rows: [row('admin', target)] })).toBe(8);
      expect(level({ rows: [row('member', target)] })).toBe(1);
      expect(level({ rows: [row('none', target)] })).toBeNull();
      // A private project without explicit membership is opened by a row...
      expect(level({ accessControl: true, rows: [row('member', target)] })).toBe(1);
      // ...and an explicit admin membership is overridden by one.
      expect(level({ accessControl: true, explicitLevel: 8, rows: [row('member', target)] })).toBe(1);
      expect(level({ accessControl: true, explicitLevel: 8, rows: [row('none', target)] })).toBeNull();
    }
    expect(resolveProjectLevel({ ...base, rows: [row('admin', { roleId: 'eng' })] }).source).toBe('access control');
  });

  it('takes the highest of the member and role rows, and they beat the default row', () => {
    expect(level({ rows: [row('none', { organizationMemberId: 'me' }), row('admin', { roleId: 'eng' })] })).toBe(8);
    expect(level({ rows: [row('member', { organizationMemberId: 'me' }), row('none', { roleId: 'eng' })] })).toBe(1);
    expect(level({ rows: [row('admin'), row('none', { organizationMemberId: 'me' })] })).toBeNull();
    expect(level({ rows: [row('none'), row('member', { roleId: 'eng' })] })).toBe(1);
  });

  it('applies the default row when no member/role row does', () => {
    expect(level({ rows: [row('admin')] })).toBe(8);
    expect(level({ rows: [row('member')] })).toBe(1);
    expect(level({ rows: [row('none')] })).toBeNull();
    expect(level({ accessControl: true, rows: [row('member')] })).toBe(1);
    expect(level({ accessControl: true, explicitLevel: 8, rows: [row('none')] })).toBeNull();
  });

  it('ignores rows of other projects and project-wide rows', () => {
    expect(level({ rows: [row('none', { resourceId: '8' })] })).toBe(1);
    expect(level({ rows: [row('none', { resourceId: null, organizationMemberId: 'me' })] })).toBe(1);
    expect(level({ accessControl: true, rows: [row('admin', { resourceId: '70' })] })).toBeNull();
  });

  it('organization admins and owners keep their level whatever the rows say; outsiders never get in', () => {
    const rows = [row('none'), row('none', { organizationMemberId: 'me' }), row('none', { roleId: 'eng' })];
    expect(level({ organizationLevel: 8, rows })).toBe(8);
    expect(level({ organizationLevel: 15, accessControl: true, rows })).toBe(15);
    expect(level({ organizationLevel: null, organizationMemberId: null, rows: [row('admin')] })).toBeNull();
    expect(resolveProjectLevel({ ...base, organizationLevel: 8, rows }).source).toBe('organization admin');
  });

  it('maps between access levels and project levels', () => {
    expect([projectLevelOf('admin'), projectLevelOf('member'), projectLevelOf('none')]).toEqual([8, 1, null]);
    expect([projectAccessLevelOf(15), projectAccessLevelOf(8), projectAccessLevelOf(1), projectAccessLevelOf(null)]).toEqual([
      'admin',
      'admin',
      'member',
      'none',
    ]);
  });
});
