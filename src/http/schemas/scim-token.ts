/** SCIM token management on a verified domain. */
import { Type, type Static } from '@sinclair/typebox';

export const ScimTokenParams = Type.Object({ organization_id: Type.String(), domain_id: Type.String() });
export type ScimTokenParams = Static<typeof ScimTokenParams>;

/** The bearer token, shown once. */
export const ScimTokenIssued = Type.Object({
  scim_enabled: Type.Boolean(),
  scim_base_url: Type.String(),
  scim_bearer_token: Type.String(),
});
export type ScimTokenIssued = Static<typeof ScimTokenIssued>;
