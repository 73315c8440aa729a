import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/domain/errors.js';
import { parseFilters } from '../../src/domain/analytics/flag-filters.js';
import {
  evaluateFlag,
  MAX_REGEX_INPUT,
  flagHash,
  flagValue,
  matchesProperty,
  variantFor,
  type EvaluableFlag,
  type FlagFilters,
  type PropertyFilter,
} from '../../src/domain/analytics/flag-evaluation.js';

const flag = (key: string, filters: Partial<FlagFilters>, active = true): EvaluableFlag => ({
  key,
  active,
  filters: { groups: [], multivariate: null, payloads: {}, ...filters },
});

describe("PostHog's rollout hash", () => {
  // Vectors from PostHog's own test: PostHog/posthog, posthog/models/feature_flag/test/test_flag_matching.py
  // (TestFlagMatching.test_get_hash); posthog-js' utils tests assert the same numbers.
  it('matches the published hash values', () => {
    expect(flagHash('test-flag', 'distinct_id_1')).toBeCloseTo(0.35140843114131903, 15);
    expect(flagHash('test-flag', 'distinct_id_2')).toBeCloseTo(0.34900843133051557, 15);
    expect(flagHash('test-flag', 'distinct_id_1', 'salt')).toBeCloseTo(0.05659409091269017, 15);
    expect(flagHash('different-flag', 'distinct_id_1')).toBeCloseTo(0.5078604702829128, 15);
  });

  // The cross-library consistency vectors: PostHog/posthog-js-lite, posthog-node/test/feature-flags.spec.ts,
  // "consistency tests" (copied there from PostHog's posthog/test/test_feature_flag.py), first 60 and 50
  // of the 1000 distinct ids `distinct_id_<i>`. 1 = enabled; digits = the n-th variant; '.' = false.
  it('is consistent for a simple 45% flag', () => {
    const expected = '0110100101' + '0110100011' + '0100101100' + '0111100000' + '0110110001' + '1000010101';
    const simple = flag('simple-flag', { groups: [{ properties: [], rollout_percentage: 45, variant: null }] });
    const got = [...expected].map((_, i) => (evaluateFlag(simple, `distinct_id_${i}`).enabled ? '1' : '0')).join('');
    expect(got).toBe(expected);
  });

  it('is consistent for a multivariate flag', () => {
    const variants = [
      { key: 'first-variant', name: 'First Variant', rollout_percentage: 50 },
      { key: 'second-variant', name: 'Second Variant', rollout_percentage: 20 },
      { key: 'third-variant', name: 'Third Variant', rollout_percentage: 20 },
      { key: 'fourth-variant', name: 'Fourth Variant', rollout_percentage: 5 },
      { key: 'fifth-variant', name: 'Fifth Variant', rollout_percentage: 5 },
    ];
    const expected = '221..21...' + '13.121..41' + '.3...11111' + '13.321.3..' + '12.112.1..';
    const multivariate = flag('multivariate-flag', { groups: [{ properties: [], rollout_percentage: 55, variant: null }], multivariate: { variants } });
    const got = [...expected]
      .map((_, i) => {
        const value = flagValue(evaluateFlag(multivariate, `distinct_id_${i}`));
        return value === false ? '.' : String(variants.findIndex((v) => v.key === value) + 1);
      })
      .join('');
    expect(got).toBe(expected);
  });

  it('spreads users over variants by the variant hash (salt "variant")', () => {
    const variants = [
      { key: 'a', name: '', rollout_percentage: 50 },
      { key: 'b', name: '', rollout_percentage: 50 },
    ];
    const id = 'distinct_id_7';
    expect(variantFor('f', id, variants)).toBe(flagHash('f', id, 'variant') < 0.5 ? 'a' : 'b');
    const counts = { a: 0, b: 0 };
    for (let i = 0; i < 2000; i++) counts[variantFor('f', `u${i}`, variants) as 'a' | 'b']++;
    expect(counts.a).toBeGreaterThan(900);
    expect(counts.b).toBeGreaterThan(900);
  });
});

describe('evaluating a flag', () => {
  it('treats a null rollout as everyone, and 0% as nobody', () => {
    const all = flag('all', { groups: [{ properties: [], rollout_percentage: null, variant: null }] });
    const none = flag('none', { groups: [{ properties: [], rollout_percentage: 0, variant: null }] });
    for (let i = 0; i < 200; i++) {
      expect(evaluateFlag(all, `u${i}`).enabled).toBe(true);
      expect(evaluateFlag(none, `u${i}`).enabled).toBe(false);
    }
    expect(evaluateFlag(all, 'u').reason).toEqual({ code: 'condition_match', condition_index: 0, description: 'Matched condition set 1' });
    expect(evaluateFlag(none, 'u').reason).toEqual({ code: 'out_of_rollout_bound', condition_index: 0, description: 'Out of rollout bound' });
  });

  it('reports disabled flags and flags without conditions', () => {
    expect(evaluateFlag(flag('off', { groups: [{ properties: [], rollout_percentage: 100, variant: null }] }, false), 'u')).toMatchObject({
      enabled: false,
      reason: { code: 'flag_disabled', condition_index: null },
    });
    expect(evaluateFlag(flag('empty', {}), 'u')).toMatchObject({ enabled: false, reason: { code: 'no_condition_match', condition_index: null } });
  });

  it('takes the first matching group, with its variant override and payload', () => {
    const f = flag('pricing', {
      groups: [
        { properties: [{ key: 'plan', type: 'person', operator: 'exact', value: ['enterprise'] }], rollout_percentage: 100, variant: 'b' },
        { properties: [], rollout_percentage: 100, variant: null },
      ],
      multivariate: {
        variants: [
          { key: 'a', name: '', rollout_percentage: 100 },
          { key: 'b', name: '', rollout_percentage: 0 },
        ],
      },
      payloads: { a: '{"price": 10}', b: '{"price": 99}' },
    });
    expect(evaluateFlag(f, 'u', { plan: 'Enterprise' })).toMatchObject({
      enabled: true,
      variant: 'b',
      payload: '{"price": 99}',
      reason: { condition_index: 0 },
    });
    expect(evaluateFlag(f, 'u', { plan: 'free' })).toMatchObject({ enabled: true, variant: 'a', payload: '{"price": 10}', reason: { condition_index: 1 } });
  });

  it('prefers "out of rollout" over "no match" as the reason, like PostHog', () => {
    const f = flag('r', {
      groups: [
        { properties: [{ key: 'x', type: 'person', operator: 'is_set', value: 'is_set' }], rollout_percentage: 100, variant: null },
        { properties: [], rollout_percentage: 0, variant: null },
      ],
    });
    expect(evaluateFlag(f, 'u').reason).toMatchObject({ code: 'out_of_rollout_bound', condition_index: 1 });
  });
});

describe('property operators', () => {
  const p = (operator: PropertyFilter['operator'], value: PropertyFilter['value'], key = 'v'): PropertyFilter => ({ key, type: 'person', operator, value });
  const cases: Array<[PropertyFilter, Record<string, unknown>, boolean]> = [
    [p('exact', 'Paris'), { v: 'paris' }, true],
    [p('exact', ['a', 'b']), { v: 'B' }, true],
    [p('exact', 'a'), { v: 'ab' }, false],
    [p('exact', true), { v: 'true' }, true],
    [p('exact', 5), { v: 5 }, true],
    [p('exact', 'a'), {}, false],
    [p('is_not', 'a'), { v: 'b' }, true],
    [p('is_not', ['a', 'b']), { v: 'a' }, false],
    [p('is_not', 'a'), {}, false],
    [p('icontains', 'OST'), { v: 'posthog' }, true],
    [p('icontains', 'x'), { v: 'posthog' }, false],
    [p('not_icontains', 'x'), { v: 'posthog' }, true],
    [p('regex', '^ab+c$'), { v: 'abbbc' }, true],
    [p('regex', '^ab+c$'), { v: 'ac' }, false],
    [p('regex', '(unclosed'), { v: 'x' }, false],
    [p('not_regex', '^a'), { v: 'ba' }, true],
    [p('not_regex', '(unclosed'), { v: 'x' }, false],
    [p('gt', '10'), { v: 11 }, true],
    [p('gt', 10), { v: '9' }, false],
    [p('gte', 10), { v: 10 }, true],
    [p('lt', '2'), { v: '10' }, false],
    [p('lt', 'b'), { v: 'a' }, true],
    [p('lte', 3), { v: 3 }, true],
    [p('gt', 1), { v: null }, false],
    [p('is_set', 'is_set'), { v: null }, true],
    [p('is_set', 'is_set'), {}, false],
    [p('is_not_set', 'is_not_set'), {}, true],
    [p('is_not_set', 'is_not_set'), { v: 1 }, false],
  ];
  it.each(cases)('%j on %j -> %s', (filter, properties, want) => {
    expect(matchesProperty(filter, properties)).toBe(want);
  });

  it('does not match a regex against an oversized input', () => {
    expect(matchesProperty(p('regex', 'a'), { v: 'a'.repeat(20_000) })).toBe(false);
  });
});

describe('validating filters', () => {
  const bad = (filters: unknown) => {
    try {
      parseFilters(filters);
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect(e).toMatchObject({ kind: 'validation', attr: 'filters' });
      return (e as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(filters)}`);
  };

  it('normalizes a valid definition', () => {
    expect(
      parseFilters({
        groups: [{ properties: [{ key: 'email', value: 'x@y.z' }], rollout_percentage: 50 }, {}],
        payloads: { true: { a: 1 } },
        unknown_key: 1,
      }),
    ).toEqual({
      groups: [
        { properties: [{ key: 'email', type: 'person', operator: 'exact', value: 'x@y.z' }], rollout_percentage: 50, variant: null },
        { properties: [], rollout_percentage: null, variant: null },
      ],
      multivariate: null,
      payloads: { true: '{"a":1}' },
    });
  });

  it('explains what is wrong', () => {
    expect(bad('x')).toMatch(/must be an object/);
    expect(bad({})).toMatch(/"groups"/);
    expect(bad({ groups: 'all' })).toMatch(/"groups"/);
    expect(bad({ groups: [5] })).toMatch(/condition group 0/);
    expect(bad({ groups: [{ rollout_percentage: 101 }] })).toMatch(/between 0 and 100/);
    expect(bad({ groups: [{ rollout_percentage: '50' }] })).toMatch(/between 0 and 100/);
    expect(bad({ groups: [{ properties: {} }] })).toMatch(/must be a list/);
    expect(bad({ groups: [{ properties: [{ key: 'a', type: 'cohort', value: 3 }] }] })).toMatch(/can only use person properties/);
    expect(bad({ groups: [{ properties: [{ key: 'a', operator: 'near', value: 3 }] }] })).toMatch(/unknown operator/);
    expect(bad({ groups: [{ properties: [{ value: 3 }] }] })).toMatch(/needs a "key"/);
    expect(bad({ groups: [{ properties: [{ key: 'a', value: { nested: 1 } }] }] })).toMatch(/must be a string, a number/);
    expect(bad({ groups: [{ properties: [{ key: 'a', operator: 'regex', value: 5 }] }] })).toMatch(/Invalid value for operator regex/);
    // RE2 cannot run backreferences or lookaround in linear time: refused when saved.
    expect(bad({ groups: [{ properties: [{ key: 'a', operator: 'regex', value: '(a)\\1' }] }] })).toMatch(/not a valid regular expression/);
    expect(bad({ groups: [{ properties: [{ key: 'a', operator: 'regex', value: 'x(?=y)' }] }] })).toMatch(/not a valid regular expression/);
    expect(bad({ groups: [{ properties: [{ key: 'a', operator: 'regex', value: '[' }] }] })).toMatch(/not a valid regular expression/);
    expect(bad({ groups: [], multivariate: { variants: [{ key: 'a', rollout_percentage: 60 }] } })).toBe(
      'Invalid variant definitions: Variant rollout percentages must sum to 100.',
    );
    expect(bad({ groups: [{ variant: 'z' }], multivariate: { variants: [{ key: 'a', rollout_percentage: 100 }] } })).toBe(
      'Filters are not valid (variant override does not exist)',
    );
    expect(bad({ groups: [], payloads: { false: '1' } })).toBe("Payload keys must be 'true' for boolean flags");
    expect(bad({ groups: [], payloads: { true: '{nope' } })).toMatch(/not valid JSON/);
    expect(bad({ groups: [], aggregation_group_type_index: 0 })).toMatch(/group-based flags/);
  });

  it('evaluates nested repetition in time linear in the input (RE2), answering as a backtracking engine would', () => {
    const flag = (value: string): EvaluableFlag => ({
      key: 'f',
      active: true,
      filters: parseFilters({ groups: [{ properties: [{ key: 'p', operator: 'regex', value }], rollout_percentage: 100 }] }) as FlagFilters,
    });
    for (const pattern of ['(a+)+$', '(a|aa)*b', '.*.*.*.*.*.*.*.*x', '(x+x+)+y']) {
      const started = performance.now();
      const hostile = 'a'.repeat(MAX_REGEX_INPUT - 1) + '!';
      expect(evaluateFlag(flag(pattern), 'd', { p: hostile }).enabled, pattern).toBe(false);
      expect(performance.now() - started, pattern).toBeLessThan(2000);
    }
    expect(evaluateFlag(flag('^(www\\.)?(acme|example)\\.com$'), 'd', { p: 'www.acme.com' }).enabled).toBe(true);
    expect(evaluateFlag(flag('(a+)+$'), 'd', { p: 'aaaa' }).enabled).toBe(true);
  });
});
