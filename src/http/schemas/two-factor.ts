/** Request and response shapes of TOTP second factors and the login's second step. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from './common.js';

export const TotpToken = Type.Object({ token: Type.String({ maxLength: 100 }) }, { additionalProperties: false });
export type TotpToken = Static<typeof TotpToken>;

export const TwoFactorStatus = Type.Object({
  is_enabled: Type.Boolean(),
  backup_codes_remaining: Type.Integer(),
  method: Nullable(Type.String()),
});
export type TwoFactorStatus = Static<typeof TwoFactorStatus>;

/** A new, unconfirmed TOTP secret: its otpauth URI and the URI as a QR code (a data: URL). */
export const TotpSetup = Type.Object({
  success: Type.Boolean(),
  secret: Type.String(),
  otpauth_uri: Type.String(),
  qr_code: Type.String(),
});
export type TotpSetup = Static<typeof TotpSetup>;

/** Backup codes, shown once. */
export const BackupCodes = Type.Object({ success: Type.Boolean(), backup_codes: Type.Array(Type.String()) });
export type BackupCodes = Static<typeof BackupCodes>;
