/**
 * The access-matrix file without HTTP or a database: parseMatrix's reading of the YAML (values and
 * their line and column), its problems (all at once, `FILE:LINE:COLUMN: message (at path)`), the
 * hostile edges (duplicate keys, aliases that expand without bound, aliases with no anchor), and
 * the pure steps after it: resolveMatrix against a catalogue, planChanges between two states.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/matrix/catalog.js';
import { MatrixError, type MatrixProblem } from '../../src/matrix/errors.js';
import { emptyState, type MatrixState } from '../../src/matrix/model.js';
import { MAX_ALIAS_EXPANSION, parseMatrix } from '../../src/matrix/parse.js';
import { planChanges } from '../../src/matrix/plan.js';
import { resolveMatrix } from '../../src/matrix/resolve.js';

const SOURCE = readFileSync(new URL('../fixtures/access-matrix/source-document.yaml', import.meta.url), 'utf8');

/** The MatrixError `fn` throws. */
function matrixError(fn: () => unknown): MatrixError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MatrixError);
    return err as MatrixError;
  }
  throw new Error('expected a MatrixError');
}

const problemsOf = (input: unknown): MatrixProblem[] => [...matrixError(() => parseMatrix(input)).problems];
const lines = (input: unknown) => matrixError(() => parseMatrix(input)).message.split('\n');

describe('parseMatrix', () => {
  it("reads the source document's groups, grants and service accounts, with where each came from", () => {
    const file = parseMatrix(SOURCE);
    expect(file.projects.size).toBe(0);
    expect(file.ssoDomain).toBeNull();
    expect(file.groups.map((g) => g.name.value)).toEqual(['engineering', 'product']);

    const [engineering, product] = file.groups;
    expect(engineering!.name.origin).toEqual({ path: 'access_matrix.engineering', line: 3, column: 3 });
    expect(engineering!.members).toBeNull();
    expect(engineering!.idpGroups).toBeNull();
    const [staging, production] = engineering!.grants;
    expect(staging!.project).toEqual({ value: 'staging_project', origin: { path: 'access_matrix.engineering.staging_project', line: 4, column: 5 } });
    expect(staging!.role).toEqual({ value: 'admin', origin: { path: 'access_matrix.engineering.staging_project.role', line: 5, column: 13 } });
    expect([...staging!.flags].map(([flag, v]) => [flag, v.value])).toEqual([['can_create_flags', true]]);
    expect(staging!.deleteFlags?.value).toBe(true);
    expect(staging!.resources.size).toBe(0);
    expect(production!.role?.value).toBe('member');
    expect(production!.deleteFlags).toEqual({
      value: false,
      origin: { path: 'access_matrix.engineering.production_project.can_delete_flags', line: 11, column: 25 },
    });

    expect(product!.grants.map((g) => [g.project.value, g.role?.value, Object.fromEntries([...g.flags].map(([f, v]) => [f, v.value]))])).toEqual([
      ['staging_project', 'member', { can_view_recordings: true, can_create_insights: true }],
      ['production_project', 'member', { can_view_recordings: true, can_create_insights: true }],
    ]);

    expect(file.serviceAccounts.map((a) => [a.name.value, a.keys.map((k) => [k.project.value, k.scopes, k.origin.line])])).toEqual([
      ['bi_service_account', [['production_project', ['dashboard:read', 'insight:read', 'query:read'], 22]]],
      ['flag_service_account', [['production_project', ['feature_flag:read', 'feature_flag:write'], 26]]],
    ]);
  });

  it('reads projects:, sso_domain:, members, idp_groups and resources: levels, trimming and de-duplicating', () => {
    const file = parseMatrix(
      [
        'projects:',
        '  web: " Web App "',
        '  legacy: 42',
        'sso_domain: example.com',
        'access_matrix:',
        '  support:',
        '    members: [" ada@example.com", bob@example.com]',
        '    idp_groups: [Support, "Support Leads"]',
        '    web:',
        '      resources: {dashboard: manager, action: viewer, activity_log: default}',
        '  ops_service_account:',
        '    legacy:',
        '      api_key_scopes: [insight:read, "*", insight:read]',
      ].join('\n'),
    );
    expect([...file.projects].map(([k, v]) => [k, v.value, v.origin.line])).toEqual([
      ['web', 'Web App', 2],
      ['legacy', 42, 3],
    ]);
    expect(file.ssoDomain?.value).toBe('example.com');
    const [support] = file.groups;
    expect(support!.members?.map((m) => m.value)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(support!.idpGroups?.map((g) => g.value)).toEqual(['Support', 'Support Leads']);
    expect([...support!.grants[0]!.resources].map(([r, l]) => [r, l.value])).toEqual([
      ['dashboard', 'manager'],
      ['action', 'viewer'],
      ['activity_log', 'default'],
    ]);
    expect(file.serviceAccounts[0]!.keys[0]!.scopes).toEqual(['*', 'insight:read']);
  });

  it('reads an already parsed structure the same way, without positions', () => {
    const file = parseMatrix({ access_matrix: { eng: { staging_project: { role: 'member', can_create_flags: true } } } });
    expect(file.groups[0]!.grants[0]!.role).toEqual({ value: 'member', origin: { path: 'access_matrix.eng.staging_project.role' } });
    expect(lines({ access_matrix: { eng: { staging_project: { role: 'boss' } } } })).toEqual([
      'access-matrix.yaml: expected one of none, member, admin, found string "boss" (at access_matrix.eng.staging_project.role)',
    ]);
  });

  it('reports every problem at once, each with its file, line, column and path, as a 400 invalid_matrix on document', () => {
    const error = matrixError(() =>
      parseMatrix(
        [
          'acces_matrix: {}', // 1
          'sso_domain: ""', // 2
          'access_matrix:', // 3
          '  eng:', // 4
          '    members: nobody@example.com', // 5
          '    staging_project:', // 6
          '      role: owner', // 7
          '      can_create_flag: true', // 8
          '      can_view_recordings: yes please', // 9
          '      api_key_scopes: [insight:read]', // 10
          '      resources: {dashbord: viewer, action: none, activity_log: editor, insight: 3}', // 11
          '  ci_service_account:', // 12
          '    staging_project:', // 13
          '      api_key_scopes: [insight:raed, ""]', // 14
          '      role: member', // 15
          '    production_project: {}', // 16
          '    web_project:', // 17
          '      api_key_scopes: []', // 18
        ].join('\n'),
        'org/matrix.yaml',
      ),
    );
    expect(error).toMatchObject({ kind: 'validation', code: 'invalid_matrix', attr: 'document', fileName: 'org/matrix.yaml' });
    expect(error.message.split('\n')).toEqual([
      'org/matrix.yaml:1:1: unknown key "acces_matrix"; expected access_matrix, projects, sso_domain (at acces_matrix)',
      'org/matrix.yaml:2:13: expected a domain name, found string "" (at sso_domain)',
      'org/matrix.yaml:5:14: expected a list, found string "nobody@example.com" (at access_matrix.eng.members)',
      'org/matrix.yaml:7:13: expected one of none, member, admin, found string "owner" (at access_matrix.eng.staging_project.role)',
      'org/matrix.yaml:8:7: unknown key "can_create_flag"; expected role, resources, can_create_flags, can_view_recordings, can_create_insights, can_delete_flags (at access_matrix.eng.staging_project.can_create_flag)',
      'org/matrix.yaml:9:28: expected true or false, found string "yes please" (at access_matrix.eng.staging_project.can_view_recordings)',
      'org/matrix.yaml:10:7: "api_key_scopes" belongs to a service account (a name ending in _service_account) (at access_matrix.eng.staging_project.api_key_scopes)',
      expect.stringMatching(
        /^org\/matrix\.yaml:11:19: unknown resource "dashbord"; expected one of action, customer_analytics, .* \(at access_matrix\.eng\.staging_project\.resources\.dashbord\)$/,
      ),
      'org/matrix.yaml:11:45: expected one of viewer, editor, manager, default, found string "none" (at access_matrix.eng.staging_project.resources.action)',
      'org/matrix.yaml:11:65: expected one of none, viewer, default, found string "editor" (at access_matrix.eng.staging_project.resources.activity_log)',
      'org/matrix.yaml:11:82: expected one of none, viewer, editor, manager, default, found number 3 (at access_matrix.eng.staging_project.resources.insight)',
      'org/matrix.yaml:14:38: expected a word or quoted text, found string "" (at access_matrix.ci_service_account.staging_project.api_key_scopes[1])',
      'org/matrix.yaml:14:24: "insight:raed" is not a scope in the catalogue (object:read or object:write, or *) (at access_matrix.ci_service_account.staging_project.api_key_scopes[0])',
      'org/matrix.yaml:15:7: unknown key "role"; expected api_key_scopes (at access_matrix.ci_service_account.staging_project.role)',
      'org/matrix.yaml:16:5: a service account\'s project needs "api_key_scopes" (at access_matrix.ci_service_account.production_project)',
      'org/matrix.yaml:18:7: a key needs at least one scope (at access_matrix.ci_service_account.web_project.api_key_scopes)',
    ]);
  });

  it('refuses a resource given by both a capability flag and resources:, whichever comes first', () => {
    expect(problemsOf('access_matrix:\n  g:\n    p_project:\n      can_create_flags: true\n      resources: {feature_flag: viewer}\n')).toEqual([
      {
        path: 'access_matrix.g.p_project.resources.feature_flag',
        line: 5,
        column: 33,
        message: 'feature_flag is already given by can_create_flags (line 4); use one or the other',
      },
    ]);
    expect(problemsOf('access_matrix:\n  g:\n    p_project:\n      resources: {session_recording: viewer}\n      can_view_recordings: false\n')).toEqual([
      {
        path: 'access_matrix.g.p_project.can_view_recordings',
        line: 5,
        column: 28,
        message: 'can_view_recordings sets session_recording, which resources: sets too; use one or the other',
      },
    ]);
    expect(problemsOf({ access_matrix: { g: { p_project: { resources: { insight: 'manager' }, can_create_insights: true } } } })).toEqual([
      { path: 'access_matrix.g.p_project.can_create_insights', message: 'can_create_insights sets insight, which resources: sets too; use one or the other' },
    ]);
  });

  it('refuses duplicate keys, YAML syntax errors, and a file that is not a mapping or has no access_matrix', () => {
    expect(problemsOf('access_matrix:\n  a: {}\n  a: {}\n')).toEqual([{ path: '', line: 3, column: 3, message: 'Map keys must be unique' }]);
    expect(problemsOf('access_matrix:\n  a:\n    p_project:\n      role: member\n      role: admin\n')).toEqual([
      { path: '', line: 5, column: 7, message: 'Map keys must be unique' },
    ]);
    const unterminated = problemsOf('access_matrix:\n  a:\n    members: ["ada@example.com]\n');
    expect(unterminated.length).toBeGreaterThan(0);
    expect(unterminated[0]).toMatchObject({ path: '', line: expect.any(Number), column: expect.any(Number) });
    expect(unterminated.map((p) => p.message).join('\n')).toMatch(/quote|flow sequence/i);
    expect(problemsOf('- access_matrix\n')).toEqual([
      { path: '', line: 1, column: 1, message: 'expected a mapping of keys to values' },
      { path: '', line: 1, column: 1, message: 'the file has no "access_matrix:" section' },
    ]);
    expect(problemsOf('')).toEqual([{ path: '', line: 1, column: 1, message: 'the file has no "access_matrix:" section' }]);
    expect(problemsOf({ projects: {} })).toEqual([{ path: '', line: undefined, column: undefined, message: 'the file has no "access_matrix:" section' }]);
    expect(problemsOf('access_matrix:\n  [a, b]: {}\n  true: {}\n')).toEqual([
      { path: 'access_matrix', line: 2, column: 3, message: 'keys must be plain words' },
      { path: 'access_matrix', line: 3, column: 3, message: 'keys must be plain words' },
    ]);
    expect(problemsOf('access_matrix: [eng]\n')).toEqual([{ path: 'access_matrix', line: 1, column: 16, message: 'expected a mapping of keys to values' }]);
  });

  it('reads aliases the way YAML means them', () => {
    const file = parseMatrix(
      ['access_matrix:', '  a: {staging_project: &member {role: member, can_create_flags: true}}', '  b: {staging_project: *member}'].join('\n'),
    ).groups;
    expect(file.map((g) => [g.name.value, g.grants[0]!.role?.value, g.grants[0]!.flags.get('can_create_flags')?.value])).toEqual([
      ['a', 'member', true],
      ['b', 'member', true],
    ]);
  });

  it('refuses an alias with no anchor before it, instead of reading it as nothing', () => {
    expect(problemsOf('access_matrix:\n  g: *later\nx: &later {}\n')).toEqual(
      expect.arrayContaining([{ path: '', line: 2, column: 6, message: 'alias *later has no anchor &later before it' }]),
    );
  });

  it('stops reading once aliases repeat more than MAX_ALIAS_EXPANSION entries (a "billion laughs" file)', () => {
    // 30 groups x 30 projects x 30 resources: 27,000 entries read from a 1.5 kB file.
    const keys = (prefix: string) => Array.from({ length: 30 }, (_, i) => `${prefix}${i}`);
    const bomb = [
      `r: &r {${keys('x')
        .map((k) => `${k}: viewer`)
        .join(', ')}}`,
      `p: &p {${keys('x')
        .map((k) => `${k}_project: {resources: *r}`)
        .join(', ')}}`,
      'access_matrix:',
      ...keys('g').map((k) => `  ${k}: *p`),
    ].join('\n');
    expect(bomb.length).toBeLessThan(2000);
    const started = Date.now();
    const problems = problemsOf(bomb);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(problems.length).toBeLessThanOrEqual(MAX_ALIAS_EXPANSION + 200);
    expect(problems.at(-1)!.message).toBe(`aliases repeat more than ${MAX_ALIAS_EXPANSION} entries; write them out or use fewer aliases`);
  });

  it('reads many aliases in time linear in their number', () => {
    const text = ['who: &who ada@example.com', 'access_matrix:', ...Array.from({ length: 3000 }, (_, i) => `  g${i}: {members: [*who]}`)].join('\n');
    const started = Date.now();
    const problems = problemsOf(text);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(problems).toEqual([{ path: 'who', line: 1, column: 1, message: 'unknown key "who"; expected access_matrix, projects, sso_domain' }]);
  });

  it('ends a self-referring alias at the depth the file has', () => {
    expect(lines('access_matrix: &a {g: *a}\n')).toEqual([
      'access-matrix.yaml:1:20: unknown key "g"; expected role, resources, can_create_flags, can_view_recordings, can_create_insights, can_delete_flags (at access_matrix.g.g.g)',
    ]);
  });
});

const catalog = (over: Partial<Catalog> = {}): Catalog => ({
  organizationId: 'org-1',
  projects: [
    { id: 1, name: 'Staging' },
    { id: 2, name: 'Production' },
  ],
  members: new Map([['ada@example.com', { email: 'ada@example.com', uuid: 'u-ada', membershipId: 'm1' }]]),
  domains: [{ id: 'd1', domain: 'example.com', verified: true }],
  ...over,
});

const resolveErrors = (text: string, cat: Catalog = catalog()) =>
  matrixError(() => resolveMatrix(parseMatrix(text), cat, 'access-matrix.yaml')).message.split('\n');

describe('resolveMatrix', () => {
  it('gives the source document its meaning: projects by name, flags as levels, keys by project', () => {
    const { state, ssoDomain } = resolveMatrix(parseMatrix(SOURCE), catalog(), 'access-matrix.yaml');
    expect(ssoDomain).toBeNull();
    const eng = state.groups.get('engineering')!;
    expect(eng.members).toBeNull();
    expect([...eng.projects].map(([id, g]) => [id, g.projectAccess, Object.fromEntries(g.resources), g.flagDeletionNeedsApproval])).toEqual([
      [1, 'admin', { feature_flag: 'editor', session_recording: 'none', insight: 'viewer' }, false],
      [2, 'member', { feature_flag: 'editor', session_recording: 'none', insight: 'viewer' }, true],
    ]);
    expect(Object.fromEntries(state.groups.get('product')!.projects.get(1)!.resources)).toEqual({
      feature_flag: 'viewer',
      session_recording: 'viewer',
      insight: 'editor',
    });
    expect([...state.serviceAccounts].map(([name, a]) => [name, [...a.keys].map(([id, k]) => [id, k.scopes])])).toEqual([
      ['bi_service_account', [[2, ['dashboard:read', 'insight:read', 'query:read']]]],
      ['flag_service_account', [[2, ['feature_flag:read', 'feature_flag:write']]]],
    ]);
  });

  it('maps projects: by id or name, drops default levels, and picks the one verified domain for idp_groups', () => {
    const { state, ssoDomain } = resolveMatrix(
      parseMatrix(
        'projects:\n  web: 2\n  stage: staging\naccess_matrix:\n  Eng:\n    members: [ADA@example.com]\n    idp_groups: [b, a, b]\n    web: {resources: {dashboard: default}}\n    stage: {}\n',
      ),
      catalog({
        domains: [
          { id: 'd0', domain: 'old.example', verified: false },
          { id: 'd1', domain: 'example.com', verified: true },
        ],
      }),
      'access-matrix.yaml',
    );
    const eng = state.groups.get('eng')!;
    expect(eng).toMatchObject({ name: 'Eng', members: ['ada@example.com'], idpGroups: ['a', 'b'] });
    expect([...eng.projects.keys()]).toEqual([2, 1]);
    expect(eng.projects.get(2)!.resources.has('dashboard')).toBe(false);
    expect(ssoDomain).toEqual({ id: 'd1', domain: 'example.com', verified: true });
  });

  it('names the line and column of each key it cannot resolve', () => {
    expect(
      resolveErrors(
        [
          'projects:', // 1
          '  gone: 99', // 2
          'access_matrix:', // 3
          '  eng:', // 4
          '    members: [ada@example.com, eve@example.com]', // 5
          '    stagin_project: {}', // 6
          '    gone: {}', // 7
          '    production_project: {can_delete_flags: true}', // 8
          '    misc: {}', // 9
          '  ENG: {}', // 10
          '  ci_service_account:', // 11
          '    stagin_project: {api_key_scopes: [insight:read]}', // 12: the same unknown key, reported once
        ].join('\n'),
      ),
    ).toEqual([
      'access-matrix.yaml:6:5: project "stagin" does not exist in this organization (at access_matrix.eng.stagin_project)',
      'access-matrix.yaml:2:3: project 99 does not exist in this organization (at projects.gone)',
      'access-matrix.yaml:8:44: can_delete_flags: true needs editor access to feature flags (can_create_flags: true) (at access_matrix.eng.production_project.can_delete_flags)',
      'access-matrix.yaml:9:5: unknown key "misc"; expected members, idp_groups, or a project (a key ending in _project, or one of projects:) (at access_matrix.eng.misc)',
      'access-matrix.yaml:5:32: eve@example.com is not a member of this organization (at access_matrix.eng.members[1])',
      'access-matrix.yaml:10:3: group "ENG" appears twice (group names are case-insensitive) (at access_matrix.ENG)',
    ]);
  });

  it('refuses a project name two projects share, and idp_groups without a domain to map them on', () => {
    const twins = catalog({
      projects: [
        { id: 1, name: 'Staging' },
        { id: 3, name: 'staging' },
      ],
    });
    expect(resolveErrors('access_matrix:\n  g:\n    staging_project: {}\n', twins)).toEqual([
      'access-matrix.yaml:3:5: "staging" names 2 projects (ids 1, 3); map it to an id under projects: (at access_matrix.g.staging_project)',
    ]);
    expect(resolveErrors('access_matrix:\n  g:\n    idp_groups: [x]\n', catalog({ domains: [] }))).toEqual([
      'access-matrix.yaml:2:3: idp_groups needs an SSO domain: the organization has no verified domain (name one with sso_domain:) (at access_matrix.g)',
    ]);
    expect(resolveErrors('sso_domain: other.org\naccess_matrix:\n  g:\n    idp_groups: [x]\n')).toEqual([
      'access-matrix.yaml:1:13: domain "other.org" is not a domain of this organization (at sso_domain)',
    ]);
  });
});

describe('planChanges', () => {
  const cat = catalog();
  const desired = () => resolveMatrix(parseMatrix(SOURCE), cat, 'access-matrix.yaml').state;

  it('plans creations before grants before keys, each as a line a person reads', () => {
    const lines = planChanges(desired(), emptyState(), cat).map((c) => `${c.op} ${c.description}`);
    expect(lines.slice(0, 4)).toEqual([
      '+ role engineering',
      '+ role product',
      '+ service account bi_service_account',
      '+ service account flag_service_account',
    ]);
    expect(lines).toContain('+ engineering in Staging: project access admin');
    expect(lines).toContain('+ engineering in Production: flag deletion needs approval');
    expect(lines).not.toContain('+ engineering in Staging: flag deletion needs approval');
    expect(lines.slice(-2)).toEqual([
      '+ bi_service_account in Production: key with dashboard:read, insight:read, query:read',
      '+ flag_service_account in Production: key with feature_flag:read, feature_flag:write',
    ]);
    // 4 creations; per group and project its access and 3 resources (17 with engineering's approval in
    // Production); per service account its project access and its key.
    expect(lines).toHaveLength(4 + 17 + 2 + 2);
  });

  it('plans nothing when the live state already matches', () => {
    const live: MatrixState = desired();
    for (const account of live.serviceAccounts.values()) account.projectAccess = new Map([...account.keys.keys()].map((id) => [id, 'member' as const]));
    expect(planChanges(desired(), live, cat)).toEqual([]);
  });

  it('changes what differs and removes what the file no longer names, removals last', () => {
    const live = desired();
    live.groups.get('engineering')!.projects.get(1)!.projectAccess = 'member';
    live.groups.set('legacy', { name: 'legacy', members: ['ada@example.com'], idpGroups: null, projects: new Map() });
    live.serviceAccounts.get('bi_service_account')!.keys.set(2, { scopes: ['insight:read'] });
    for (const account of live.serviceAccounts.values()) account.projectAccess = new Map([[2, 'member']]);
    const lines = planChanges(desired(), live, cat).map((c) => `${c.op} ${c.description}`);
    expect(lines).toEqual([
      '~ engineering in Staging: project access member -> admin',
      '~ bi_service_account in Production: key scopes insight:read -> dashboard:read, insight:read, query:read',
      '- legacy: member ada@example.com',
      '- role legacy',
    ]);
  });
});
