/**
 * SCIM User and Group resources (RFC 7643 §4) to and from Warden's rows. Reading is lenient about
 * what identity providers add (enterprise extension, unknown attributes, string booleans such as
 * Entra's "False") and strict about what Warden stores.
 */
import type { ScimGroupInput, ScimGroupRow } from '../domain/sso/scim-groups.js';
import type { ScimUserInput, ScimUserRow } from '../domain/sso/scim-users.js';
import { scimBadRequest } from './errors.js';
import { getAttribute, GROUP_SCHEMA, USER_SCHEMA } from './filter.js';

export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

const MAX_NAME = 150;
const MAX_EXTERNAL_ID = 400;
const MAX_MEMBERS = 10_000;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function optionalString(value: unknown, attr: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw scimBadRequest('invalidValue', `${attr} must be a string.`);
  const trimmed = value.trim();
  if (trimmed.length > max) throw scimBadRequest('invalidValue', `${attr} must be at most ${max} characters.`);
  return trimmed;
}

/** A boolean, or its string form in any case ("True", "false"), as Entra ID sends it. */
export function readBoolean(value: unknown, attr: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw scimBadRequest('invalidValue', `${attr} must be true or false.`);
}

function requireObject(body: unknown, what: string): Json {
  if (!isObject(body)) throw scimBadRequest('invalidSyntax', `The body must be a SCIM ${what} object.`);
  const schemas = getAttribute(body, 'schemas');
  if (schemas !== undefined && (!Array.isArray(schemas) || schemas.some((s) => typeof s !== 'string'))) {
    throw scimBadRequest('invalidSyntax', 'schemas must be a list of schema URIs.');
  }
  return body;
}

export function readUser(body: unknown): ScimUserInput {
  const json = requireObject(body, 'User');
  const userName = optionalString(getAttribute(json, 'userName'), 'userName', 254);
  if (!userName) throw scimBadRequest('invalidValue', 'userName is required.');
  const name = getAttribute(json, 'name');
  if (name !== undefined && name !== null && !isObject(name)) throw scimBadRequest('invalidValue', 'name must be an object.');
  const emails = getAttribute(json, 'emails');
  if (emails !== undefined && emails !== null && !Array.isArray(emails)) throw scimBadRequest('invalidValue', 'emails must be a list.');
  const active = readBoolean(getAttribute(json, 'active'), 'active');
  return {
    userName,
    givenName: optionalString(getAttribute(name, 'givenName'), 'name.givenName', MAX_NAME) ?? '',
    familyName: optionalString(getAttribute(name, 'familyName'), 'name.familyName', MAX_NAME) ?? '',
    externalId: optionalString(getAttribute(json, 'externalId'), 'externalId', MAX_EXTERNAL_ID) || null,
    ...(active !== undefined ? { active } : {}),
  };
}

export function readGroup(body: unknown): ScimGroupInput {
  const json = requireObject(body, 'Group');
  const displayName = optionalString(getAttribute(json, 'displayName'), 'displayName', 200);
  if (!displayName) throw scimBadRequest('invalidValue', 'displayName is required.');
  const members = getAttribute(json, 'members') ?? [];
  if (!Array.isArray(members)) throw scimBadRequest('invalidValue', 'members must be a list.');
  if (members.length > MAX_MEMBERS) throw scimBadRequest('tooMany', `A group has at most ${MAX_MEMBERS} members here.`);
  return {
    displayName,
    externalId: optionalString(getAttribute(json, 'externalId'), 'externalId', MAX_EXTERNAL_ID) || null,
    members: members.map((m) => {
      const value = isObject(m) ? getAttribute(m, 'value') : m;
      if (typeof value !== 'string' || value.length > 100) throw scimBadRequest('invalidValue', 'Each member needs a value: a user id.');
      return value.trim();
    }),
  };
}

const iso = (d: Date | string) => new Date(d).toISOString();

export function userResource(row: ScimUserRow, base: string) {
  const { user } = row;
  const formatted = [user.first_name, user.last_name].filter(Boolean).join(' ');
  return {
    schemas: [USER_SCHEMA],
    id: user.uuid,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    userName: user.email,
    name: { givenName: user.first_name, familyName: user.last_name, ...(formatted ? { formatted } : {}) },
    displayName: formatted || user.email,
    emails: [{ value: user.email, type: 'work', primary: true }],
    active: row.active,
    groups: row.groups.map((g) => ({ value: g.id, display: g.name, $ref: `${base}/Groups/${g.id}` })),
    meta: { resourceType: 'User', created: iso(row.created_at), lastModified: iso(row.updated_at), location: `${base}/Users/${user.uuid}` },
  };
}

export function groupResource(row: ScimGroupRow, base: string, includeMembers = true) {
  return {
    schemas: [GROUP_SCHEMA],
    id: row.id,
    ...(row.external_id !== null ? { externalId: row.external_id } : {}),
    displayName: row.name,
    ...(includeMembers ? { members: row.members.map((m) => ({ value: m.uuid, display: m.email, $ref: `${base}/Users/${m.uuid}` })) } : {}),
    meta: { resourceType: 'Group', created: iso(row.created_at), lastModified: iso(row.updated_at), location: `${base}/Groups/${row.id}` },
  };
}

export function listResponse<T>(resources: T[], total: number, startIndex: number) {
  return { schemas: [LIST_SCHEMA], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}
