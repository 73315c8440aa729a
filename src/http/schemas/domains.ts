import { Type, type Static } from '@sinclair/typebox';
import { DateTime, Nullable, Paginated } from './common.js';

export const DomainParams = Type.Object({ organization_id: Type.String(), domain_id: Type.String() });
export type DomainParams = Static<typeof DomainParams>;
export const MappingParams = Type.Object({ organization_id: Type.String(), domain_id: Type.String(), mapping_id: Type.String() });
export type MappingParams = Static<typeof MappingParams>;
export const DomainCreate = Type.Object({ domain: Type.String({ maxLength: 300 }) });
export type DomainCreate = Static<typeof DomainCreate>;
const NullableText = (maxLength: number) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));
export const DomainPatch = Type.Object(
  {
    jit_provisioning_enabled: Type.Optional(Type.Boolean()),
    sso_enforcement: Type.Optional(Type.String({ maxLength: 28 })),
    saml_entity_id: NullableText(1024),
    saml_acs_url: NullableText(2048),
    saml_x509_cert: NullableText(40_000),
    saml_metadata_url: NullableText(2048),
    saml_metadata_xml: Type.Optional(Type.String({ maxLength: 500_000 })),
    saml_idp_initiated_enabled: Type.Optional(Type.Boolean()),
    saml_allow_sha1: Type.Optional(Type.Boolean()),
    oidc_issuer: NullableText(2048),
    oidc_client_id: NullableText(1024),
    oidc_client_secret: NullableText(4096),
    group_attribute: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
export type DomainPatch = Static<typeof DomainPatch>;
export const MappingCreate = Type.Object(
  {
    group_name: Type.String({ maxLength: 1000 }),
    level: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    role_id: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
  },
  { additionalProperties: false },
);
export type MappingCreate = Static<typeof MappingCreate>;

/**
 * PostHog's OrganizationDomain, plus Warden's OIDC and SCIM fields. Provider configuration is null
 * for members who are not admins; the OIDC client secret and the SCIM token never leave.
 */
export const Domain = Type.Object({
  id: Type.String(),
  domain: Type.String(),
  is_verified: Type.Boolean(),
  verified_at: Nullable(DateTime),
  verification_challenge: Nullable(Type.String()),
  jit_provisioning_enabled: Type.Boolean(),
  sso_enforcement: Type.String(),
  has_saml: Type.Boolean(),
  saml_entity_id: Nullable(Type.String()),
  saml_acs_url: Nullable(Type.String()),
  saml_x509_cert: Nullable(Type.String()),
  saml_metadata_url: Nullable(Type.String()),
  saml_idp_initiated_enabled: Type.Boolean(),
  saml_allow_sha1: Type.Boolean(),
  has_oidc: Type.Boolean(),
  oidc_issuer: Nullable(Type.String()),
  oidc_client_id: Nullable(Type.String()),
  has_oidc_client_secret: Type.Boolean(),
  group_attribute: Type.String(),
  scim_enabled: Type.Boolean(),
  scim_base_url: Nullable(Type.String()),
  created_at: DateTime,
  updated_at: DateTime,
});
export type Domain = Static<typeof Domain>;
export const DomainList = Paginated(Domain);
export type DomainList = Static<typeof DomainList>;

/** An IdP group mapped to an organization level or a role. */
export const GroupMapping = Type.Object({
  id: Type.String(),
  group_name: Type.String(),
  level: Nullable(Type.Integer()),
  role_id: Nullable(Type.String()),
  created_at: DateTime,
});
export type GroupMapping = Static<typeof GroupMapping>;
export const GroupMappingList = Paginated(GroupMapping);
export type GroupMappingList = Static<typeof GroupMappingList>;
