/**
 * SCIM filters and attribute paths (RFC 7644 §3.4.2.2, §3.5.2) without HTTP: the parser's trees,
 * its refusals (400 invalidFilter / invalidPath) on hostile input, the evaluator PATCH value
 * filters use, and the translation list queries run as parameterised SQL.
 */
import { describe, expect, it } from 'vitest';
import { ScimError, type ScimType } from '../../src/scim/errors.js';
import { filterToSql, type ColumnMap } from '../../src/scim/filter-sql.js';
import { getAttribute, matches, parseFilter, parsePath } from '../../src/scim/filter.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** Runs `fn`, expecting SCIM's 400 with `scimType` and a detail matching `detail`. */
function refused(fn: () => unknown, scimType: ScimType, detail: RegExp | string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ScimError);
  const error = caught as ScimError;
  expect({ status: error.status, scimType: error.scimType }).toEqual({ status: 400, scimType });
  if (typeof detail === 'string') expect(error.message).toBe(detail);
  else expect(error.message).toMatch(detail);
}

describe('parseFilter', () => {
  it('reads the comparisons of RFC 7644 §3.4.2.2 with their values', () => {
    expect(parseFilter('userName eq "bjensen"')).toEqual({ op: 'eq', attr: { name: 'userName' }, value: 'bjensen' });
    expect(parseFilter(`name.familyName co "O'Malley"`)).toEqual({ op: 'co', attr: { name: 'name', sub: 'familyName' }, value: "O'Malley" });
    expect(parseFilter('title pr')).toEqual({ op: 'pr', attr: { name: 'title' } });
    expect(parseFilter('meta.lastModified gt "2011-05-13T04:42:34Z"')).toEqual({
      op: 'gt',
      attr: { name: 'meta', sub: 'lastModified' },
      value: '2011-05-13T04:42:34Z',
    });
    expect(parseFilter('active eq true')).toEqual({ op: 'eq', attr: { name: 'active' }, value: true });
    expect(parseFilter('active ne FALSE')).toEqual({ op: 'ne', attr: { name: 'active' }, value: false });
    expect(parseFilter('manager eq null')).toEqual({ op: 'eq', attr: { name: 'manager' }, value: null });
    expect(parseFilter('age ge -1.5e2')).toEqual({ op: 'ge', attr: { name: 'age' }, value: -150 });
    for (const op of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const) {
      expect(parseFilter(`x ${op} "v"`)).toEqual({ op, attr: { name: 'x' }, value: 'v' });
    }
  });

  it('decodes JSON escapes in strings', () => {
    expect(parseFilter('displayName eq "say \\"hi\\" \\u00e9\\\\"')).toEqual({ op: 'eq', attr: { name: 'displayName' }, value: 'say "hi" é\\' });
  });

  it('takes operators and logical words in any case (§3.4.2.2: they are case-insensitive)', () => {
    expect(parseFilter('userName EQ "a" AnD title Pr')).toEqual({
      op: 'and',
      left: { op: 'eq', attr: { name: 'userName' }, value: 'a' },
      right: { op: 'pr', attr: { name: 'title' } },
    });
    expect(parseFilter('NOT (title pr)')).toEqual({ op: 'not', filter: { op: 'pr', attr: { name: 'title' } } });
  });

  it('binds and tighter than or, groups with parentheses, and chains to the left', () => {
    const a = { op: 'pr', attr: { name: 'a' } } as const;
    const b = { op: 'pr', attr: { name: 'b' } } as const;
    const c = { op: 'pr', attr: { name: 'c' } } as const;
    expect(parseFilter('a pr or b pr and c pr')).toEqual({ op: 'or', left: a, right: { op: 'and', left: b, right: c } });
    expect(parseFilter('(a pr or b pr) and c pr')).toEqual({ op: 'and', left: { op: 'or', left: a, right: b }, right: c });
    expect(parseFilter('a pr and b pr and c pr')).toEqual({ op: 'and', left: { op: 'and', left: a, right: b }, right: c });
    expect(parseFilter('a pr and not (b pr or c pr)')).toEqual({ op: 'and', left: a, right: { op: 'not', filter: { op: 'or', left: b, right: c } } });
  });

  it('reads value paths (emails[type eq "work" and value co "@example.com"])', () => {
    expect(parseFilter('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp"]')).toEqual({
      op: 'or',
      left: {
        op: 'valuePath',
        attr: { name: 'emails' },
        filter: {
          op: 'and',
          left: { op: 'eq', attr: { name: 'type' }, value: 'work' },
          right: { op: 'co', attr: { name: 'value' }, value: '@example.com' },
        },
      },
      right: { op: 'valuePath', attr: { name: 'ims' }, filter: { op: 'eq', attr: { name: 'type' }, value: 'xmpp' } },
    });
  });

  it('strips the core schemas from URN-qualified names and keeps extension schemas whole', () => {
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"')).toEqual({ op: 'sw', attr: { name: 'userName' }, value: 'J' });
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x"')).toEqual({
      op: 'eq',
      attr: { name: 'name', sub: 'familyName' },
      value: 'x',
    });
    expect(parseFilter('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP:displayName eq "x"')).toEqual({ op: 'eq', attr: { name: 'displayName' }, value: 'x' });
    expect(parseFilter(`${ENTERPRISE}:employeeNumber eq "701984"`)).toEqual({ op: 'eq', attr: { name: ENTERPRISE, sub: 'employeeNumber' }, value: '701984' });
  });

  it('refuses what is not a filter with 400 invalidFilter and says why', () => {
    refused(() => parseFilter(''), 'invalidFilter', 'The filter is empty.');
    refused(() => parseFilter('  \t\n'), 'invalidFilter', 'The filter is empty.');
    refused(() => parseFilter('userName eq "abc'), 'invalidFilter', 'Unterminated string in the filter.');
    refused(() => parseFilter('userName eq "abc\\"'), 'invalidFilter', 'Unterminated string in the filter.');
    refused(() => parseFilter('userName eq "\\x41"'), 'invalidFilter', 'Invalid string in the filter.');
    refused(() => parseFilter('userName eq "a\nb"'), 'invalidFilter', 'Invalid string in the filter.');
    refused(() => parseFilter("userName eq 'a'"), 'invalidFilter', 'Unexpected character "\'" in the filter.');
    refused(() => parseFilter('userName == "a"'), 'invalidFilter', 'Unexpected character "=" in the filter.');
    refused(() => parseFilter('userName regex "a"'), 'invalidFilter', 'Unknown operator "regex".');
    refused(() => parseFilter('userName "a"'), 'invalidFilter', 'Unknown operator "string".');
    refused(() => parseFilter('userName'), 'invalidFilter', 'The expression ends too early.');
    refused(() => parseFilter('userName eq'), 'invalidFilter', 'The expression ends too early.');
    refused(() => parseFilter('userName eq bjensen'), 'invalidFilter', /^Expected a value: a string in double quotes/);
    refused(() => parseFilter('userName pr and'), 'invalidFilter', 'The expression ends too early.');
    refused(() => parseFilter('(userName pr'), 'invalidFilter', 'The expression ends too early.');
    refused(() => parseFilter('(userName pr]'), 'invalidFilter', 'Expected ")".');
    refused(() => parseFilter('userName pr)'), 'invalidFilter', 'Unexpected text after the filter.');
    refused(() => parseFilter('userName pr title pr'), 'invalidFilter', 'Unexpected text after the filter.');
    refused(() => parseFilter('emails[type eq "work"].value eq "x"'), 'invalidFilter', 'Unexpected text after the filter.');
    refused(() => parseFilter('not title pr'), 'invalidFilter', 'Expected "(".');
    refused(() => parseFilter('"a" eq "a"'), 'invalidFilter', 'Expected an attribute name.');
    refused(() => parseFilter('a.b.c pr'), 'invalidFilter', '"a.b.c" is not an attribute path.');
    refused(() => parseFilter(`${ENTERPRISE}: pr`), 'invalidFilter', `"${ENTERPRISE}:" names no attribute.`);
  });

  it('refuses a filter over 2000 characters, and one nested deeper than 16 levels', () => {
    const long = `userName eq "${'a'.repeat(2000 - 'userName eq ""'.length)}"`;
    expect(long).toHaveLength(2000);
    expect(parseFilter(long)).toMatchObject({ op: 'eq' });
    refused(() => parseFilter(`${long} `), 'invalidFilter', 'The filter is too long.');

    const nested = (n: number) => `${'('.repeat(n)}a pr${')'.repeat(n)}`;
    expect(parseFilter(nested(15))).toEqual({ op: 'pr', attr: { name: 'a' } });
    refused(() => parseFilter(nested(16)), 'invalidFilter', 'The filter is nested too deeply.');
    refused(() => parseFilter(`${'not ('.repeat(16)}a pr${')'.repeat(16)}`), 'invalidFilter', 'The filter is nested too deeply.');
    refused(() => parseFilter(`${'x['.repeat(16)}a pr${']'.repeat(16)}`), 'invalidFilter', 'The filter is nested too deeply.');
    // A paren bomb is refused by length before it is parsed.
    refused(() => parseFilter('('.repeat(100_000)), 'invalidFilter', 'The filter is too long.');
  });

  it('evaluates a long flat chain without nesting limits (it is not nested)', () => {
    const chain = Array.from({ length: 180 }, (_, i) => `a${i} pr`).join(' or ');
    expect(chain.length).toBeLessThanOrEqual(2000);
    const filter = parseFilter(chain);
    expect(matches(filter, { A179: 'x' })).toBe(true);
    expect(matches(filter, { b: 'x' })).toBe(false);
  });
});

describe('parsePath', () => {
  it('reads attribute, sub-attribute, value-filter and filter-then-sub paths (§3.5.2)', () => {
    expect(parsePath('members')).toEqual({ attr: { name: 'members' } });
    expect(parsePath('name.givenName')).toEqual({ attr: { name: 'name', sub: 'givenName' } });
    expect(parsePath('members[value eq "2819c223-7f76-453a-919d-413861904646"]')).toEqual({
      attr: { name: 'members' },
      filter: { op: 'eq', attr: { name: 'value' }, value: '2819c223-7f76-453a-919d-413861904646' },
    });
    expect(parsePath('emails[type eq "work"].value')).toEqual({
      attr: { name: 'emails' },
      filter: { op: 'eq', attr: { name: 'type' }, value: 'work' },
      sub: 'value',
    });
    expect(parsePath(`${ENTERPRISE}:department`)).toEqual({ attr: { name: ENTERPRISE, sub: 'department' } });
    expect(parsePath('urn:ietf:params:scim:schemas:core:2.0:User:name.givenName')).toEqual({ attr: { name: 'name', sub: 'givenName' } });
  });

  it('refuses what is not a path with 400 invalidPath', () => {
    refused(() => parsePath(''), 'invalidPath', 'The path is empty.');
    refused(() => parsePath('x'.repeat(2001)), 'invalidPath', 'The path is too long.');
    refused(() => parsePath('members[value eq "abc'), 'invalidPath', 'Unterminated string in the path.');
    refused(() => parsePath('members[value eq "a"'), 'invalidPath', 'The expression ends too early.');
    refused(() => parsePath('members[value xx "a"]'), 'invalidPath', 'Unknown operator "xx".');
    refused(() => parsePath('name.givenName[value eq "a"]'), 'invalidPath', 'A value filter follows an attribute, not a sub-attribute.');
    refused(() => parsePath('emails[type eq "work"]value'), 'invalidPath', 'Expected ".".');
    refused(() => parsePath('emails[type eq "work"].'), 'invalidPath', 'The expression ends too early.');
    refused(() => parsePath('emails[type eq "work"].1'), 'invalidPath', 'Expected a sub-attribute after the filter.');
    refused(() => parsePath('emails[type eq "work"].value.x'), 'invalidPath', 'Unexpected text after the path.');
    refused(() => parsePath('userName eq "a"'), 'invalidPath', 'Unexpected text after the path.');
    refused(() => parsePath('a.b.c'), 'invalidPath', '"a.b.c" is not an attribute path.');
    refused(() => parsePath('members[value eq "a"]]'), 'invalidPath', 'Expected ".".');
    refused(() => parsePath(`members[${'('.repeat(16)}value pr${')'.repeat(16)}]`), 'invalidPath', 'The filter is nested too deeply.');
  });
});

describe('getAttribute', () => {
  it('finds a key in any case, and nothing in what is not an object', () => {
    expect(getAttribute({ userName: 'a' }, 'USERNAME')).toBe('a');
    expect(getAttribute({ Operations: [1] }, 'operations')).toEqual([1]);
    expect(getAttribute({ a: 1 }, 'b')).toBeUndefined();
    expect(getAttribute([{ a: 1 }], 'a')).toBeUndefined();
    expect(getAttribute(null, 'a')).toBeUndefined();
    expect(getAttribute('a', 'length')).toBeUndefined();
  });
});

describe('matches', () => {
  const user = {
    userName: 'BJensen@Example.com',
    externalId: 'AbC-1',
    name: { givenName: 'Barbara', familyName: 'Jensen' },
    emails: [
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ],
    active: true,
    title: '',
    loginCount: 7,
  };
  const test = (filter: string) => matches(parseFilter(filter), user);

  it('compares strings case-insensitively, except caseExact externalId (RFC 7643)', () => {
    expect(test('userName eq "bjensen@example.com"')).toBe(true);
    expect(test('USERNAME sw "bjensen@"')).toBe(true);
    expect(test('userName ew "EXAMPLE.COM"')).toBe(true);
    expect(test('userName co "jensen@ex"')).toBe(true);
    expect(test('userName ne "bjensen@example.com"')).toBe(false);
    expect(test('name.familyName gt "jensem"')).toBe(true);
    expect(test('name.familyName lt "jensem"')).toBe(false);
    expect(test('name.familyName ge "JENSEN"')).toBe(true);
    expect(test('name.familyName le "JENSEN"')).toBe(true);
    expect(test('externalId eq "AbC-1"')).toBe(true);
    expect(test('externalId eq "abc-1"')).toBe(false);
    expect(test('externalId co "bC"')).toBe(true);
  });

  it('matches a multi-valued attribute when any value matches, through its `value` or a sub-attribute', () => {
    expect(test('emails eq "babs@jensen.org"')).toBe(true);
    expect(test('emails co "nobody"')).toBe(false);
    expect(test('emails.type eq "home"')).toBe(true);
    expect(test('emails[type eq "work" and value co "@example.com"]')).toBe(true);
    expect(test('emails[type eq "home" and value co "@example.com"]')).toBe(false);
    expect(test('emails[primary eq true and type eq "work"]')).toBe(true);
    expect(test('emails[primary eq true and type eq "home"]')).toBe(false);
    expect(matches(parseFilter('emails[type eq "work"]'), { emails: 'not a list' })).toBe(false);
  });

  it("compares numbers and booleans, and Entra's string booleans with booleans", () => {
    expect(test('loginCount gt 6')).toBe(true);
    expect(test('loginCount le 6')).toBe(false);
    expect(test('loginCount eq 7')).toBe(true);
    expect(test('loginCount eq "7"')).toBe(false);
    expect(test('loginCount gt "6"')).toBe(false);
    expect(test('active eq true')).toBe(true);
    expect(test('active eq "True"')).toBe(true);
    expect(test('active ne "FALSE"')).toBe(true);
    expect(test('active eq "yes"')).toBe(false);
    expect(test('active gt false')).toBe(false);
  });

  it('treats absent and null as null: pr fails, eq null holds, ne holds against a value', () => {
    expect(test('title pr')).toBe(false);
    expect(test('name pr')).toBe(true);
    expect(test('nickName pr')).toBe(false);
    expect(test('nickName eq null')).toBe(true);
    expect(test('nickName ne null')).toBe(false);
    expect(test('nickName ne "x"')).toBe(true);
    expect(test('nickName eq "x"')).toBe(false);
    expect(test('nickName co "x"')).toBe(false);
    expect(test('userName eq null')).toBe(false);
    expect(matches(parseFilter('groups pr'), { groups: [] })).toBe(false);
  });

  it('combines with and, or and not', () => {
    expect(test('userName sw "b" and not (active eq false)')).toBe(true);
    expect(test('userName sw "x" or emails[type eq "home"]')).toBe(true);
    expect(test('not (userName sw "b" or title pr)')).toBe(false);
  });
});

describe('filterToSql', () => {
  // The columns of src/domain/sso/scim-users.ts and scim-groups.ts, as the list queries use them.
  const USERS: ColumnMap = {
    username: { expr: 'u.email', type: 'text' },
    'emails.value': { expr: 'u.email', type: 'text' },
    'emails.type': { expr: "'work'", type: 'text' },
    externalid: { expr: 'su.external_id', type: 'text', caseExact: true },
    'name.givenname': { expr: 'u.first_name', type: 'text' },
    active: { expr: 'su.active', type: 'boolean' },
  };
  const GROUPS: ColumnMap = {
    displayname: { expr: 'r.name', type: 'text' },
    'members.value': { expr: 'mu.uuid::text', type: 'text', wrap: (c) => `EXISTS (SELECT 1 FROM m WHERE ${c})` },
  };
  const sql = (filter: string, columns: ColumnMap = USERS, params: unknown[] = []) => ({ where: filterToSql(parseFilter(filter), columns, params), params });

  it('binds every value, numbering after the parameters already there', () => {
    expect(sql('userName eq "Ada"', USERS, ['domain-id'])).toEqual({ where: '(lower(u.email) = lower($2))', params: ['domain-id', 'Ada'] });
    const hostile = `x' OR 1=1; DROP TABLE users; --`;
    const out = sql(`userName eq ${JSON.stringify(hostile)}`);
    expect(out).toEqual({ where: '(lower(u.email) = lower($1))', params: [hostile] });
  });

  it('translates each operator, caseExact columns as written', () => {
    expect(sql('userName ne "a"')).toEqual({ where: '(u.email IS NULL OR lower(u.email) <> lower($1))', params: ['a'] });
    expect(sql('userName gt "a"').where).toBe('(lower(u.email) > lower($1))');
    expect(sql('userName ge "a"').where).toBe('(lower(u.email) >= lower($1))');
    expect(sql('userName lt "a"').where).toBe('(lower(u.email) < lower($1))');
    expect(sql('userName le "a"').where).toBe('(lower(u.email) <= lower($1))');
    expect(sql('externalId eq "AbC"')).toEqual({ where: '(su.external_id = $1)', params: ['AbC'] });
    expect(sql('externalId ne "AbC"').where).toBe('(su.external_id IS NULL OR su.external_id <> $1)');
    expect(sql('userName eq null')).toEqual({ where: '(u.email IS NULL)', params: [] });
    expect(sql('userName ne null')).toEqual({ where: '(u.email IS NOT NULL)', params: [] });
  });

  it('escapes LIKE wildcards in co, sw and ew', () => {
    expect(sql('userName co "50%_off\\\\"')).toEqual({ where: "(lower(u.email) LIKE lower($1) ESCAPE '\\')", params: ['%50\\%\\_off\\\\%'] });
    expect(sql('userName sw "a_"').params).toEqual(['a\\_%']);
    expect(sql('userName ew "%"').params).toEqual(['%\\%']);
    expect(sql('externalId sw "A"')).toEqual({ where: "(su.external_id LIKE $1 ESCAPE '\\')", params: ['A%'] });
  });

  it('compares booleans with eq and ne, from true/false or their strings', () => {
    expect(sql('active eq true')).toEqual({ where: '(su.active = $1)', params: [true] });
    expect(sql('active eq "False"')).toEqual({ where: '(su.active = $1)', params: [false] });
    expect(sql('active ne true')).toEqual({ where: '(su.active IS DISTINCT FROM $1)', params: [true] });
    expect(sql('active pr').where).toBe('(su.active IS NOT NULL)');
    refused(() => sql('active gt true'), 'invalidFilter', 'A boolean attribute is compared with eq or ne and true or false.');
    refused(() => sql('active eq 1'), 'invalidFilter', 'A boolean attribute is compared with eq or ne and true or false.');
    refused(() => sql('active eq "yes"'), 'invalidFilter', 'A boolean attribute is compared with eq or ne and true or false.');
  });

  it('refuses non-string values for text, and null with anything but eq and ne', () => {
    refused(() => sql('userName eq 5'), 'invalidFilter', 'This attribute is compared with a string.');
    refused(() => sql('userName eq true'), 'invalidFilter', 'This attribute is compared with a string.');
    refused(() => sql('userName co null'), 'invalidFilter', '"co" does not compare with null.');
  });

  it('combines with AND, OR and NOT, and reads value paths and core URNs against the map', () => {
    const params: unknown[] = [];
    expect(filterToSql(parseFilter('(userName sw "a" or not (name.givenName pr)) and emails[type eq "work" and value co "b"]'), USERS, params)).toBe(
      "(((lower(u.email) LIKE lower($1) ESCAPE '\\') OR (NOT (u.first_name IS NOT NULL AND u.first_name <> ''))) AND ((lower('work') = lower($2)) AND (lower(u.email) LIKE lower($3) ESCAPE '\\')))",
    );
    expect(params).toEqual(['a%', 'work', '%b%']);
    expect(sql('emails co "b"').where).toBe("(lower(u.email) LIKE lower($1) ESCAPE '\\')");
    expect(sql('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"').where).toBe('(lower(u.email) = lower($1))');
    expect(sql('members[value eq "u1"]', GROUPS)).toEqual({ where: 'EXISTS (SELECT 1 FROM m WHERE (lower(mu.uuid::text) = lower($1)))', params: ['u1'] });
    expect(sql('members eq "u1"', GROUPS).where).toBe('EXISTS (SELECT 1 FROM m WHERE (lower(mu.uuid::text) = lower($1)))');
  });

  it('refuses attributes outside the map and nested value filters, never guessing', () => {
    refused(() => sql('password eq "x"'), 'invalidFilter', 'Filtering on "password" is not supported.');
    refused(() => sql('name.familyName eq "x"'), 'invalidFilter', 'Filtering on "name.familyname" is not supported.');
    refused(() => sql(`${ENTERPRISE}:employeeNumber eq "1"`), 'invalidFilter', `Filtering on "${ENTERPRISE.toLowerCase()}.employeenumber" is not supported.`);
    refused(() => sql('emails[type[value eq "x"]]'), 'invalidFilter', 'Value filters do not nest.');
    refused(() => sql('name.givenName[value eq "x"]'), 'invalidFilter', 'Value filters do not nest.');
    refused(() => sql('members[value eq "u1"]', USERS), 'invalidFilter', 'Filtering on "members.value" is not supported.');
    refused(() => sql('emails[display eq "x"]'), 'invalidFilter', 'Filtering on "emails.display" is not supported.');
  });
});
