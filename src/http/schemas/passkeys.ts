/** Request and response shapes of passkeys (WebAuthn) and signing in with one. */
import { Type, type Static } from '@sinclair/typebox';
import { DateTime, JsonObject, Nullable } from './common.js';

export const PasskeyParams = Type.Object({ user_id: Type.String(), passkey_id: Type.String({ maxLength: 100 }) });
export type PasskeyParams = Static<typeof PasskeyParams>;

/** A WebAuthn credential response as the browser's @simplewebauthn/browser gives it. */
export const Credential = Type.Record(Type.String(), Type.Unknown());
export const NewPasskey = Type.Object({ name: Type.String({ maxLength: 200 }), response: Credential }, { additionalProperties: false });
export type NewPasskey = Static<typeof NewPasskey>;
export const PasskeyRename = Type.Object({ name: Type.String({ maxLength: 200 }) }, { additionalProperties: false });
export type PasskeyRename = Static<typeof PasskeyRename>;
export const PasskeyAssertion = Type.Object({ response: Credential }, { additionalProperties: false });
export type PasskeyAssertion = Static<typeof PasskeyAssertion>;
export const PasskeyAssertionOptions = Type.Object({ second_factor: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
export type PasskeyAssertionOptions = Static<typeof PasskeyAssertionOptions>;

export const Passkey = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created_at: DateTime,
  last_used_at: Nullable(DateTime),
});
export type Passkey = Static<typeof Passkey>;

export const PasskeyList = Type.Object({ results: Type.Array(Passkey) });
export type PasskeyList = Static<typeof PasskeyList>;

/** WebAuthn's PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON, as @simplewebauthn/server makes them. */
export const WebAuthnOptions = JsonObject;
