import { Type, type Static } from '@sinclair/typebox';
import { Nullable, UserBasic } from './common.js';

export const Signup = Type.Object(
  {
    first_name: Type.String(),
    last_name: Type.Optional(Type.String()),
    email: Type.String(),
    password: Type.String(),
    organization_name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Signup = Static<typeof Signup>;
export const InviteSignup = Type.Object(
  { first_name: Type.Optional(Type.String()), last_name: Type.Optional(Type.String()), password: Type.Optional(Type.String()) },
  { additionalProperties: false },
);
export type InviteSignup = Static<typeof InviteSignup>;
export const Login = Type.Object({ email: Type.String(), password: Type.String() }, { additionalProperties: false });
export type Login = Static<typeof Login>;
export const SignupInviteParams = Type.Object({ invite_id: Type.String() });
export type SignupInviteParams = Static<typeof SignupInviteParams>;

/** The user just signed up (or who accepted an invite), and where the console goes next. */
export const SignedUp = Type.Composite([UserBasic, Type.Object({ redirect_url: Type.String() })]);
export type SignedUp = Static<typeof SignedUp>;

/** What the invite's accept page shows before signing up. */
export const InvitePreview = Type.Object({
  id: Type.String(),
  target_email: Type.String(),
  first_name: Type.String(),
  organization_name: Type.String(),
  /** The provider the invitee's email domain enforces ('saml', 'oidc'), or null. */
  sso_enforcement: Nullable(Type.String()),
});
export type InvitePreview = Static<typeof InvitePreview>;

/** A login that opened a session (one that needs a second factor answers 401 `2fa_required`). */
export const LoginSuccess = Type.Object({ success: Type.Literal(true) });
export type LoginSuccess = Static<typeof LoginSuccess>;
