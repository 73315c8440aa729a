/** The pure rules of access requests: who may decide (the grant ceiling) and how long an approval may grant. */
import { describe, expect, it } from 'vitest';
import { approvedExpiry, deciderDenial, type DeciderFacts } from '../../src/access/access-requests.js';
import { ACCESS_REQUEST_MESSAGES as M } from '../../src/access/messages.js';

const facts = (organizationLevel: number, projectLevel: number | null, extra: Partial<DeciderFacts> = {}): DeciderFacts => ({
  userId: 1,
  organizationLevel,
  projectLevel,
  ...extra,
});

describe('deciderDenial', () => {
  it('lets project admins decide project requests up to their level, and nobody below', () => {
    const project = (level: 'member' | 'admin') => ({ resource: 'project' as const, resourceId: null, level });
    expect(deciderDenial(project('admin'), facts(15, 15))).toBeNull();
    expect(deciderDenial(project('admin'), facts(8, 8))).toBeNull();
    // An explicit project admin who is an organization member.
    expect(deciderDenial(project('admin'), facts(1, 8))).toBeNull();
    expect(deciderDenial(project('member'), facts(1, 1))).toBe(M.needsProjectAdmin);
    expect(deciderDenial(project('member'), facts(1, null))).toBe(M.needsProjectAdmin);
  });

  it('keeps project-wide resource rules to organization admins', () => {
    const wide = { resource: 'feature_flag' as const, resourceId: null, level: 'manager' as const };
    expect(deciderDenial(wide, facts(8, 8))).toBeNull();
    expect(deciderDenial(wide, facts(1, 8))).toBe(M.needsOrganizationAdmin);
  });

  it('lets an object be granted by its creator and managers, never above their own level', () => {
    const object = (level: 'viewer' | 'editor' | 'manager') => ({ resource: 'feature_flag' as const, resourceId: '7', level });
    expect(deciderDenial(object('manager'), facts(1, 1, { isCreator: true }))).toBeNull();
    expect(deciderDenial(object('manager'), facts(1, 1, { objectLevel: 'manager' }))).toBeNull();
    expect(deciderDenial(object('viewer'), facts(1, 1, { objectLevel: 'editor' }))).toBe(M.needsObjectManager('feature_flag'));
    expect(deciderDenial(object('editor'), facts(1, 8))).toBeNull();
    expect(deciderDenial(object('editor'), facts(1, 1))).toBe(M.needsObjectManager('feature_flag'));
  });
});

describe('approvedExpiry', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

  it('grants what was asked by default, counted from approval', () => {
    expect(approvedExpiry({ durationHours: 8, expiresAt: null }, {}, now)).toEqual({ expiresAt: hours(8) });
    expect(approvedExpiry({ durationHours: null, expiresAt: hours(3) }, {}, now)).toEqual({ expiresAt: hours(3) });
  });

  it('takes a shorter time, and refuses a longer one or one in the past', () => {
    expect(approvedExpiry({ durationHours: 8, expiresAt: null }, { durationHours: 2 }, now)).toEqual({ expiresAt: hours(2) });
    expect(approvedExpiry({ durationHours: 8, expiresAt: null }, { expiresAt: hours(8) }, now)).toEqual({ expiresAt: hours(8) });
    expect(approvedExpiry({ durationHours: 8, expiresAt: null }, { durationHours: 9 }, now)).toEqual({ error: M.longerThanRequested, attr: 'duration_hours' });
    expect(approvedExpiry({ durationHours: 8, expiresAt: null }, { expiresAt: hours(-1) }, now)).toEqual({ error: M.expiryInPast, attr: 'expires_at' });
  });

  it('refuses to approve a request whose own end has passed', () => {
    expect(approvedExpiry({ durationHours: null, expiresAt: hours(-1) }, {}, now)).toEqual({ error: M.requestedExpiryPassed, attr: 'expires_at' });
  });
});
