/**
 * SCIM PATCH (RFC 7644 §3.5.2) without HTTP: reading a PatchOp body and applying its operations to
 * a resource's JSON, including what Okta and Entra ID send (capitalised operation names, string
 * booleans, path-less value objects with dotted keys, `members[value eq "…"]` removals, `remove`
 * of members with a value list).
 */
import { describe, expect, it } from 'vitest';
import { ScimError, type ScimType } from '../../src/scim/errors.js';
import { applyPatch, PATCH_SCHEMA, readOperations } from '../../src/scim/patch.js';
import { readGroup, readUser } from '../../src/scim/resources.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

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

const body = (...Operations: unknown[]) => ({ schemas: [PATCH_SCHEMA], Operations });
const patch = (resource: Record<string, unknown>, ...operations: unknown[]) => applyPatch(resource, readOperations(body(...operations)));

/** A user as Warden serves it (src/scim/resources.ts userResource). */
const user = () => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'b1f3c7e2-0000-4000-8000-000000000001',
  externalId: 'okta-00u1',
  userName: 'ada@example.com',
  name: { givenName: 'Ada', familyName: 'Lovelace', formatted: 'Ada Lovelace' },
  displayName: 'Ada Lovelace',
  emails: [{ value: 'ada@example.com', type: 'work', primary: true }],
  active: true,
  groups: [],
});

const group = () => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
  id: 'g1',
  displayName: 'Engineering',
  members: [
    { value: 'u1', display: 'one@example.com' },
    { value: 'u2', display: 'two@example.com' },
    { value: 'u3', display: 'three@example.com' },
  ],
});

describe('readOperations', () => {
  it('reads operation names in any case, with keys in any case, and drops empty paths', () => {
    expect(
      readOperations({
        schemas: [PATCH_SCHEMA.toUpperCase()],
        operations: [
          { Op: 'Replace', Path: 'active', Value: 'False' },
          { op: 'ADD', path: 'members', value: [{ value: 'u9' }] },
          { op: 'remove', path: 'members[value eq "u1"]' },
          { op: 'add', path: '  ', value: { displayName: 'x' } },
          { op: 'replace', path: null, value: { active: false } },
        ],
      }),
    ).toEqual([
      { op: 'replace', path: 'active', value: 'False' },
      { op: 'add', path: 'members', value: [{ value: 'u9' }] },
      { op: 'remove', path: 'members[value eq "u1"]' },
      { op: 'add', value: { displayName: 'x' } },
      { op: 'replace', value: { active: false } },
    ]);
  });

  it('accepts a body without schemas, and keeps a null value (replace with null clears)', () => {
    expect(readOperations({ Operations: [{ op: 'replace', path: 'title', value: null }] })).toEqual([{ op: 'replace', path: 'title', value: null }]);
  });

  it('refuses what is not a PatchOp with the scimType RFC 7644 §3.12 gives', () => {
    refused(() => readOperations(null), 'invalidSyntax', 'The body must be a PatchOp object.');
    refused(() => readOperations([{ op: 'add' }]), 'invalidSyntax', 'The body must be a PatchOp object.');
    refused(
      () => readOperations({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], Operations: [] }),
      'invalidSyntax',
      `schemas must contain "${PATCH_SCHEMA}".`,
    );
    refused(() => readOperations({ schemas: PATCH_SCHEMA, Operations: [] }), 'invalidSyntax', `schemas must contain "${PATCH_SCHEMA}".`);
    refused(() => readOperations(body()), 'invalidSyntax', 'Operations must be a non-empty list.');
    refused(() => readOperations({ Operations: { op: 'add' } }), 'invalidSyntax', 'Operations must be a non-empty list.');
    refused(() => readOperations(body('add')), 'invalidSyntax', 'Each operation must be an object.');
    refused(() => readOperations(body({ op: 'move', path: 'a', value: 1 })), 'invalidSyntax', 'Unknown operation "move".');
    refused(() => readOperations(body({ path: 'a', value: 1 })), 'invalidSyntax', 'Unknown operation "undefined".');
    refused(() => readOperations(body({ op: 'replace', path: ['a'], value: 1 })), 'invalidPath', 'path must be a string.');
    refused(() => readOperations(body({ op: 'Add', path: 'members' })), 'invalidValue', 'The "add" operation needs a value.');
    refused(() => readOperations(body({ op: 'replace' })), 'invalidValue', 'The "replace" operation needs a value.');
  });

  it('takes at most 1000 operations a request (tooMany)', () => {
    const op = { op: 'replace', path: 'active', value: true };
    expect(readOperations(body(...Array(1000).fill(op)))).toHaveLength(1000);
    refused(() => readOperations(body(...Array(1001).fill(op))), 'tooMany', 'At most 1000 operations a request.');
  });
});

describe('applyPatch', () => {
  it("deactivates an Okta user with a path-less replace, and Entra's string boolean reads as false", () => {
    expect(patch(user(), { op: 'replace', value: { active: false } })).toMatchObject({ active: false, userName: 'ada@example.com' });
    const entra = patch(user(), { op: 'Replace', path: 'active', value: 'False' });
    expect(entra.active).toBe('False');
    expect(readUser(entra)).toMatchObject({ userName: 'ada@example.com', active: false });
    expect(readUser(patch(user(), { op: 'Replace', path: 'active', value: 'TRUE' })).active).toBe(true);
    refused(() => readUser(patch(user(), { op: 'replace', path: 'active', value: 'no' })), 'invalidValue', 'active must be true or false.');
  });

  it("applies Entra's path-less value with dotted and URN keys, merging into what is there", () => {
    const out = patch(user(), {
      op: 'Replace',
      value: { 'name.givenName': 'Augusta', displayName: 'Augusta Ada', [`${ENTERPRISE}:department`]: 'Analytical Engines' },
    });
    expect(out.name).toEqual({ givenName: 'Augusta', familyName: 'Lovelace', formatted: 'Ada Lovelace' });
    expect(out.displayName).toBe('Augusta Ada');
    expect(out[ENTERPRISE]).toEqual({ department: 'Analytical Engines' });
    expect(readUser(out)).toMatchObject({ givenName: 'Augusta', familyName: 'Lovelace' });
  });

  it('replaces a complex attribute by merging its sub-attributes, and writes to the key already there whatever its case', () => {
    const out = patch(user(), { op: 'replace', path: 'NAME', value: { familyName: 'King' } }, { op: 'replace', path: 'username', value: 'ada@king.org' });
    expect(out.name).toEqual({ givenName: 'Ada', familyName: 'King', formatted: 'Ada Lovelace' });
    expect(out.userName).toBe('ada@king.org');
    expect(Object.keys(out).filter((k) => k.toLowerCase() === 'username')).toEqual(['userName']);
    expect(Object.keys(out).filter((k) => k.toLowerCase() === 'name')).toEqual(['name']);
  });

  it('adds, replaces and removes a sub-attribute', () => {
    expect(patch(user(), { op: 'add', path: 'name.middleName', value: 'Byron' }).name).toMatchObject({ middleName: 'Byron', givenName: 'Ada' });
    expect(patch(user(), { op: 'replace', path: 'name.GIVENNAME', value: 'A.' }).name).toEqual({
      givenName: 'A.',
      familyName: 'Lovelace',
      formatted: 'Ada Lovelace',
    });
    expect(patch(user(), { op: 'remove', path: 'name.formatted' }).name).toEqual({ givenName: 'Ada', familyName: 'Lovelace' });
    expect(patch({ id: 'x' }, { op: 'add', path: 'name.givenName', value: 'B' })).toEqual({ id: 'x', name: { givenName: 'B' } });
  });

  it("adds group members once each (Okta and Entra), matching a member's value in any case", () => {
    const out = patch(group(), { op: 'Add', path: 'members', value: [{ value: 'U2' }, { value: 'u4' }, { value: 'u4' }] });
    expect(out.members).toEqual([...group().members, { value: 'u4' }]);
    expect(patch({ displayName: 'Empty' }, { op: 'add', path: 'members', value: [{ value: 'u1' }] }).members).toEqual([{ value: 'u1' }]);
    expect(patch(group(), { op: 'add', path: 'members', value: { value: 'u7' } }).members).toEqual([...group().members, { value: 'u7' }]);
    expect(patch({ displayName: 'Empty', members: null }, { op: 'add', path: 'members', value: [{ value: 'u1' }] }).members).toEqual([{ value: 'u1' }]);
  });

  it('removes one member through members[value eq "…"] (Okta) and several through a value list (Entra)', () => {
    expect(patch(group(), { op: 'remove', path: 'members[value eq "u2"]' }).members).toEqual([group().members[0], group().members[2]]);
    expect(patch(group(), { op: 'Remove', path: 'members', value: [{ value: 'u1' }, { value: 'U3' }] }).members).toEqual([group().members[1]]);
    expect(patch(group(), { op: 'remove', path: 'members[value eq "nobody"]' }).members).toEqual(group().members);
    expect(patch(group(), { op: 'remove', path: 'members' })).not.toHaveProperty('members');
  });

  it('replaces all members with a list (Okta)', () => {
    expect(patch(group(), { op: 'replace', path: 'members', value: [{ value: 'u9' }] }).members).toEqual([{ value: 'u9' }]);
  });

  it('replaces through a value filter, and through filter-then-sub adds an element the filter would match', () => {
    const withHome = { ...user(), emails: [...user().emails, { value: 'ada@home.org', type: 'home' }] };
    expect(patch(withHome, { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada@work.org' }).emails).toEqual([
      { value: 'ada@work.org', type: 'work', primary: true },
      { value: 'ada@home.org', type: 'home' },
    ]);
    expect(patch(withHome, { op: 'replace', path: 'emails[type eq "home"]', value: { display: 'Home' } }).emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: true },
      { value: 'ada@home.org', type: 'home', display: 'Home' },
    ]);
    expect(patch(user(), { op: 'replace', path: 'emails[type eq "other" and primary eq false].value', value: 'o@x.org' }).emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: true },
      { type: 'other', primary: false, value: 'o@x.org' },
    ]);
    expect(patch(user(), { op: 'add', path: 'emails[type eq "home"]', value: { value: 'h@x.org' } }).emails).toEqual([
      { value: 'ada@example.com', type: 'work', primary: true },
      { type: 'home', value: 'h@x.org' },
    ]);
    expect(patch(user(), { op: 'remove', path: 'emails[type eq "work"].primary' }).emails).toEqual([{ value: 'ada@example.com', type: 'work' }]);
  });

  it('replaces a single-valued attribute on add (§3.5.2.1) and keeps a value the resource lacked', () => {
    expect(patch(user(), { op: 'add', path: 'displayName', value: 'A. L.' }).displayName).toBe('A. L.');
    expect(patch(user(), { op: 'add', value: { title: 'Countess' } }).title).toBe('Countess');
  });

  it('answers noTarget for a remove without a path and a replace whose filter matches nothing (§3.5.2.2, §3.5.2.3)', () => {
    refused(() => patch(user(), { op: 'remove' }), 'noTarget', 'A remove operation needs a path.');
    refused(() => patch(user(), { op: 'remove', path: '' }), 'noTarget', 'A remove operation needs a path.');
    refused(
      () => patch(group(), { op: 'replace', path: 'members[value eq "nobody"]', value: { display: 'x' } }),
      'noTarget',
      'No value matched the path filter.',
    );
  });

  it('refuses a path-less add or replace whose value is not an object, and a bad path or key', () => {
    refused(() => patch(user(), { op: 'replace', value: false }), 'invalidValue', 'A "replace" without a path takes an object of attributes.');
    refused(() => patch(user(), { op: 'add', value: [{ active: false }] }), 'invalidValue', 'A "add" without a path takes an object of attributes.');
    refused(() => patch(user(), { op: 'replace', path: 'emails[type eq "work"', value: 'x' }), 'invalidPath', 'The expression ends too early.');
    refused(() => patch(user(), { op: 'replace', value: { 'not a path': 1 } }), 'invalidPath', 'Unexpected text after the path.');
  });

  it('refuses a "__proto__" key in a value or as a path, so no prototype is ever replaced', () => {
    for (const operation of [
      '{"op":"replace","path":"name","value":{"givenName":"Eve","__proto__":{"polluted":true}}}',
      '{"op":"add","path":"name","value":{"__proto__":{"polluted":true}}}',
      '{"op":"replace","path":"emails[type eq \\"work\\"]","value":{"__proto__":{"polluted":true}}}',
      '{"op":"add","path":"emails[type eq \\"home\\"]","value":{"__proto__":{"polluted":true}}}',
    ]) {
      const hostile = JSON.parse(`{"Operations":[${operation}]}`);
      refused(() => applyPatch(user(), readOperations(hostile)), 'invalidValue', '"__proto__" is not an attribute name.');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const pathless = JSON.parse('{"Operations":[{"op":"add","value":{"__proto__":{"polluted":true}}}]}');
    refused(() => applyPatch(user(), readOperations(pathless)), 'invalidPath', 'Unexpected character "_" in the path.');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('leaves the resource it was given untouched, and applies nothing when an operation fails', () => {
    const original = group();
    const out = patch(original, { op: 'remove', path: 'members[value eq "u1"]' }, { op: 'replace', path: 'displayName', value: 'Platform' });
    expect(original).toEqual(group());
    expect(out).toMatchObject({ displayName: 'Platform', members: group().members.slice(1) });
    expect(() => patch(original, { op: 'remove', path: 'members[value eq "u1"]' }, { op: 'replace', path: 'members[value eq "zz"]', value: {} })).toThrow(
      ScimError,
    );
    expect(original).toEqual(group());
  });

  it('leaves a group readable by readGroup after the IdP shapes', () => {
    const out = patch(
      group(),
      { op: 'Replace', value: { id: 'g1', displayName: 'Eng' } },
      { op: 'Remove', path: 'members[value eq "u1"]' },
      { op: 'Add', path: 'members', value: [{ value: 'u5' }] },
    );
    expect(readGroup(out)).toEqual({ displayName: 'Eng', externalId: null, members: ['u2', 'u3', 'u5'] });
  });
});
