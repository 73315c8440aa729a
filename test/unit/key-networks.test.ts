/**
 * Keys bound to networks, without HTTP: parsing and canonical form of ranges (ipaddr.js), matching
 * IPv4, IPv6 and IPv4-mapped clients, the organization's requirement, and decide()'s order (the
 * address before the key's scopes). docs/key-networks.md.
 */
import { describe, expect, it } from 'vitest';
import { decide, OUTSIDE_RANGES_REASON, RANGES_REQUIRED_REASON, type DecisionInput, type Principal } from '../../src/access/decide.js';
import { addressAllowed, canonicalRange, compileRanges, keyAddressRefusal, normalizeRanges } from '../../src/access/key-networks.js';
import { rangesRefusal } from '../../src/access/key-policy.js';
import { OrganizationLevel } from '../../src/access/levels.js';
import { scoped } from '../../src/access/route-access.js';

const matcher = (...ranges: string[]) => {
  const normalized = normalizeRanges(ranges);
  if ('error' in normalized) throw new Error(normalized.error);
  return compileRanges(normalized.ranges)!;
};

describe('ranges', () => {
  it('are kept in canonical form', () => {
    expect(canonicalRange('203.0.113.9/24')).toBe('203.0.113.0/24');
    expect(canonicalRange('198.51.100.7')).toBe('198.51.100.7/32');
    expect(canonicalRange('2001:DB8:0:0::1/32')).toBe('2001:db8::/32');
    expect(canonicalRange('2001:db8::1')).toBe('2001:db8::1/128');
    expect(canonicalRange('::ffff:192.0.2.0/120')).toBe('192.0.2.0/24');
    expect(canonicalRange('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(canonicalRange('::/0')).toBe('::/0');
  });

  it('refuse what does not parse', () => {
    for (const bad of [
      '',
      ' ',
      '10.1',
      '010.0.0.1',
      '0x7f.0.0.1',
      '300.0.0.1',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/8/8',
      '10.0.0.0/ 8',
      '2001:db8::/129',
      'fe80::1%eth0',
      'example.com',
      '1.2.3.4/',
    ]) {
      expect(canonicalRange(bad), bad).toBeNull();
    }
    expect(normalizeRanges(['10.0.0.0/8', 'nope'])).toEqual({ error: expect.stringContaining("'nope' is not an IP address or CIDR range") });
    expect(normalizeRanges(Array.from({ length: 101 }, (_, i) => `10.0.0.${i % 250}`))).toEqual({ error: expect.stringContaining('at most 100') });
  });

  it('null or [] mean anywhere; duplicates are dropped', () => {
    expect(normalizeRanges(null)).toEqual({ ranges: null });
    expect(normalizeRanges([])).toEqual({ ranges: null });
    expect(normalizeRanges(['10.0.0.1/8', '10.0.0.0/8'])).toEqual({ ranges: ['10.0.0.0/8'] });
    expect(compileRanges(null)).toBeNull();
  });
});

describe('matching', () => {
  const m = matcher('203.0.113.0/24', '2001:db8::/32', '198.51.100.7', '0.0.0.0/32');
  it('IPv4, IPv6 and IPv4-mapped IPv6 clients', () => {
    for (const inside of [
      '203.0.113.0',
      '203.0.113.255',
      '::ffff:203.0.113.9',
      '2001:db8::',
      '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff',
      '198.51.100.7',
      '0.0.0.0',
    ]) {
      expect(addressAllowed(m, inside), inside).toBe(true);
    }
    for (const outside of [
      '203.0.112.255',
      '203.0.114.0',
      '::ffff:203.0.114.9',
      '2001:db9::',
      '2001:db7:ffff::',
      '198.51.100.8',
      '::1',
      '127.0.0.1',
      'garbage',
      '',
    ]) {
      expect(addressAllowed(m, outside), outside).toBe(false);
    }
  });

  it('prefix edges: /0 takes everything of its family, /1 half', () => {
    expect(addressAllowed(matcher('0.0.0.0/0'), '255.255.255.255')).toBe(true);
    expect(addressAllowed(matcher('0.0.0.0/0'), '2001:db8::1')).toBe(false);
    expect(addressAllowed(matcher('::/0'), '2001:db8::1')).toBe(true);
    expect(addressAllowed(matcher('128.0.0.0/1'), '200.1.1.1')).toBe(true);
    expect(addressAllowed(matcher('128.0.0.0/1'), '100.1.1.1')).toBe(false);
    expect(addressAllowed(matcher('2001:db8:8000::/33'), '2001:db8:8000::1')).toBe(true);
    expect(addressAllowed(matcher('2001:db8:8000::/33'), '2001:db8:7fff::1')).toBe(false);
  });

  it('the refusal names the address; no ranges refuse nothing', () => {
    expect(keyAddressRefusal(null, '10.0.0.1')).toBeNull();
    expect(keyAddressRefusal(m, '203.0.113.1')).toBeNull();
    expect(keyAddressRefusal(m, '10.0.0.1')).toBe('This personal API key may not be used from your address (10.0.0.1).');
    expect(keyAddressRefusal(m, undefined)).toMatch(/unknown/);
  });
});

describe('decide() with networks', () => {
  const key = (over: Partial<Extract<Principal, { kind: 'personal_api_key' }>> = {}): Principal => ({
    kind: 'personal_api_key',
    userId: 1,
    keyId: 'k1',
    scopes: ['feature_flag:read'],
    scopedTeams: null,
    scopedOrganizations: null,
    createdAt: new Date('2026-01-01'),
    isServiceAccount: false,
    ...over,
  });
  const input = (over: Partial<DecisionInput>, requireIpRanges = false): DecisionInput => ({
    principal: key(),
    access: scoped('feature_flag', 'read'),
    organization: {
      id: 'o1',
      name: 'Acme',
      level: OrganizationLevel.MEMBER,
      membersCanUsePersonalApiKeys: true,
      keyPolicy: { organizationName: 'Acme', allowedScopes: null, maxLifetimeDays: null, requireIpRanges },
    },
    project: { id: 3, organizationId: 'o1', effectiveLevel: OrganizationLevel.MEMBER },
    now: new Date('2026-06-01'),
    ...over,
  });
  const networks = matcher('10.0.0.0/8');

  it('refuses a key outside its ranges before looking at its scopes', () => {
    const d = decide(input({ principal: key({ networks, scopes: ['insight:read'] }), clientAddress: '192.0.2.1' }));
    expect(d).toMatchObject({ allow: false, status: 403, code: 'permission_denied', reason: OUTSIDE_RANGES_REASON });
    expect(decide(input({ principal: key({ networks }), clientAddress: '10.1.1.1' })).allow).toBe(true);
    expect(decide(input({ principal: key({ networks }), clientAddress: '::ffff:10.1.1.1' })).allow).toBe(true);
  });

  it("an organization's requirement refuses keys without ranges (403) and lets keys with ranges in", () => {
    const d = decide(input({ clientAddress: '10.1.1.1' }, true));
    expect(d).toMatchObject({ allow: false, status: 403, reason: RANGES_REQUIRED_REASON });
    expect(decide(input({ principal: key({ networks }), clientAddress: '10.1.1.1' }, true)).allow).toBe(true);
    // Sessions are not keys: the requirement is about keys only.
    expect(decide(input({ principal: { kind: 'user', userId: 1 } }, true)).allow).toBe(true);
    expect(rangesRefusal({ organizationName: 'Acme', requireIpRanges: true }, false)).toMatch(/requires personal API keys/);
    expect(rangesRefusal({ organizationName: 'Acme', requireIpRanges: false }, false)).toBeNull();
  });
});
