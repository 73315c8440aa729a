/**
 * SCIM 2.0 resources (RFC 7643) as Warden serves them under /scim/v2/:domain_id/, in SCIM's media
 * type (application/scim+json). Discovery documents are free-form JSON.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { JsonObject } from './common.js';

export const ScimDomainParams = Type.Object({ domain_id: Type.String() });
export type ScimDomainParams = Static<typeof ScimDomainParams>;
export const ScimUserParams = Type.Object({ domain_id: Type.String(), user_id: Type.String() });
export type ScimUserParams = Static<typeof ScimUserParams>;
export const ScimGroupParams = Type.Object({ domain_id: Type.String(), group_id: Type.String() });
export type ScimGroupParams = Static<typeof ScimGroupParams>;
export const ScimDocParams = Type.Object({ domain_id: Type.String(), doc_id: Type.String() });
export type ScimDocParams = Static<typeof ScimDocParams>;

/** Filters and paging, read leniently by the routes (RFC 7644 §3.4.2): any query is taken. */
export const ScimQuery = Type.Object(
  {
    filter: Type.Optional(Type.Unknown()),
    startIndex: Type.Optional(Type.Unknown()),
    count: Type.Optional(Type.Unknown()),
    excludedAttributes: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: true },
);
export type ScimQuery = Static<typeof ScimQuery>;

export const ScimMeta = Type.Object({
  resourceType: Type.String(),
  created: Type.String(),
  lastModified: Type.String(),
  location: Type.String(),
});

/**
 * A reference to another resource (a user's group, a group's member), with its `$ref` (the
 * resource's URL). `$ref` cannot be named as a property (OpenAPI tools read it as a reference): it
 * passes as an additional property.
 */
export const ScimReference = Type.Object(
  { value: Type.String(), display: Type.String() },
  { additionalProperties: true, description: 'value, display, and $ref: the URL of the resource.' },
);

export const ScimUser = Type.Object({
  schemas: Type.Array(Type.String()),
  id: Type.String(),
  externalId: Type.Optional(Type.String()),
  userName: Type.String(),
  name: Type.Object({ givenName: Type.String(), familyName: Type.String(), formatted: Type.Optional(Type.String()) }),
  displayName: Type.String(),
  emails: Type.Array(Type.Object({ value: Type.String(), type: Type.String(), primary: Type.Boolean() })),
  active: Type.Boolean(),
  groups: Type.Array(ScimReference),
  meta: ScimMeta,
});
export type ScimUser = Static<typeof ScimUser>;

export const ScimGroup = Type.Object({
  schemas: Type.Array(Type.String()),
  id: Type.String(),
  externalId: Type.Optional(Type.String()),
  displayName: Type.String(),
  /** Left out when asked (`excludedAttributes=members`). */
  members: Type.Optional(Type.Array(ScimReference)),
  meta: ScimMeta,
});
export type ScimGroup = Static<typeof ScimGroup>;

/** RFC 7644 §3.4.2's ListResponse. */
export const ScimList = <T extends TSchema>(resource: T) =>
  Type.Object({
    schemas: Type.Array(Type.String()),
    totalResults: Type.Integer(),
    startIndex: Type.Integer(),
    itemsPerPage: Type.Integer(),
    Resources: Type.Array(resource),
  });

export const ScimUserList = ScimList(ScimUser);
export type ScimUserList = Static<typeof ScimUserList>;
export const ScimGroupList = ScimList(ScimGroup);
export type ScimGroupList = Static<typeof ScimGroupList>;

/** ServiceProviderConfig, a ResourceType, a Schema: free-form documents. */
export const ScimDocument = JsonObject;
export const ScimDocumentList = ScimList(JsonObject);
