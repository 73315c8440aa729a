/** SAML single sign-on's inputs (its answers are redirects, XML and HTML pages). */
import { Type, type Static } from '@sinclair/typebox';

export const SamlLoginQuery = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 254 })),
  domain_id: Type.Optional(Type.String({ maxLength: 64 })),
});
export type SamlLoginQuery = Static<typeof SamlLoginQuery>;

/** The HTTP-POST binding's form, as the ACS's own parser reads it. */
export const SamlAcsForm = Type.Object({
  SAMLResponse: Type.Optional(Type.String()),
  RelayState: Type.Optional(Type.String()),
});
export type SamlAcsForm = Static<typeof SamlAcsForm>;
