/** OIDC single sign-on's inputs (its answers are redirects, HTML pages, or errors). */
import { Type, type Static } from '@sinclair/typebox';

export const OidcLoginQuery = Type.Object({
  email: Type.Optional(Type.String({ maxLength: 254 })),
  domain_id: Type.Optional(Type.String({ maxLength: 64 })),
  /** Where to land after signing in: a path on this site. */
  next: Type.Optional(Type.String({ maxLength: 2000 })),
});
export type OidcLoginQuery = Static<typeof OidcLoginQuery>;

export const OidcCallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
  error_description: Type.Optional(Type.String({ maxLength: 2048 })),
  iss: Type.Optional(Type.String({ maxLength: 2048 })),
});
export type OidcCallbackQuery = Static<typeof OidcCallbackQuery>;
