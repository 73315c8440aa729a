import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Queryable } from '../../store/database.js';
import { qb, row as first, sql } from '../../store/query-builder.js';
import type { InferResult } from 'kysely';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { validation } from '../errors.js';
import type { UserRecord } from '../records.js';
import type { SecondFactorKind } from './sessions.js';
import { sha256Hex } from './tokens.js';

/**
 * TOTP two-factor authentication (RFC 6238 through `otpauth`): set-up with a confirmation code, ten
 * single-use backup codes (stored as hashes, shown once), disabling with a fresh code. A code's time
 * step is remembered, so no code is accepted twice. Every change writes the activity log in the same
 * transaction; callers end the person's other sessions where the second factor changed.
 */
export const ISSUER = 'Warden';
const PERIOD = 30;
/** Codes of the previous and next time step are accepted too (clock drift). */
const WINDOW = 1;
export const BACKUP_CODE_COUNT = 10;

export const INVALID_CODE = 'Invalid authentication code';

export type CodeRejection = 'invalid' | 'reused';
export class SecondFactorRejected extends Error {
  constructor(readonly reason: CodeRejection) {
    super(INVALID_CODE);
  }
}

const totpOf = (secret: string, label = '') =>
  new TOTP({ issuer: ISSUER, label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: PERIOD });

/** The device, locked; last_used_step as text (an int8, which the two drivers return differently). */
const lockedDevice = (userId: number) =>
  qb
    .selectFrom('totp_devices')
    .select(['secret', 'confirmed_at', sql<string | null>`last_used_step::text`.as('last_used_step')])
    .where('user_id', '=', userId)
    .forUpdate();

type TotpRow = InferResult<ReturnType<typeof lockedDevice>>[number];

async function lockDevice(tx: Queryable, userId: number): Promise<TotpRow | undefined> {
  return first(tx, lockedDevice(userId));
}

export async function isTotpEnabled(q: Queryable, userId: number): Promise<boolean> {
  const [row] = await q.query('SELECT 1 FROM totp_devices WHERE user_id = $1 AND confirmed_at IS NOT NULL', [userId]);
  return row !== undefined;
}

async function record(tx: Queryable, actor: Actor, user: UserRecord, activity: string, context: Record<string, unknown> = {}) {
  if (!user.current_organization_id) return;
  await recordActivity(tx, {
    organizationId: user.current_organization_id,
    actor,
    scope: 'User',
    activity,
    itemId: user.id,
    detail: { name: user.email, context },
  });
}

async function assertEnabled(tx: Queryable, userId: number): Promise<void> {
  if (!(await isTotpEnabled(tx, userId))) throw validation('Two-factor authentication is not enabled.', null, '2fa_not_enabled');
}

/** Starts (or restarts) set-up: a new secret, unconfirmed until a code made from it comes back. */
export async function startTotpSetup(tx: Queryable, actor: Actor, user: UserRecord): Promise<{ secret: string; uri: string }> {
  const device = await lockDevice(tx, user.id);
  if (device?.confirmed_at) throw validation('Two-factor authentication is already enabled.', null, '2fa_already_enabled');
  const secret = new Secret({ size: 20 }).base32;
  await tx.query(
    `INSERT INTO totp_devices (user_id, secret) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET secret = EXCLUDED.secret, confirmed_at = NULL, last_used_step = NULL, created_at = now()`,
    [user.id, secret],
  );
  await record(tx, actor, user, 'two_factor_setup_started');
  return { secret, uri: totpOf(secret, user.email).toString() };
}

/** The time step of a valid code not used before, or the reason it is refused. */
function acceptedStep(device: TotpRow, token: string): number {
  const code = token.replace(/\s+/g, '');
  const delta = /^\d{6}$/.test(code) ? totpOf(device.secret).validate({ token: code, window: WINDOW }) : null;
  if (delta === null) throw new SecondFactorRejected('invalid');
  const step = Math.floor(Date.now() / 1000 / PERIOD) + delta;
  if (device.last_used_step !== null && step <= Number(device.last_used_step)) throw new SecondFactorRejected('reused');
  return step;
}

const newBackupCode = () => randomBytes(5).toString('hex');
const normalizeBackupCode = (code: string) => code.replace(/[\s-]+/g, '').toLowerCase();

async function replaceBackupCodes(tx: Queryable, userId: number): Promise<string[]> {
  await tx.query('DELETE FROM backup_codes WHERE user_id = $1', [userId]);
  const codes = Array.from({ length: BACKUP_CODE_COUNT }, newBackupCode);
  for (const code of codes) {
    await tx.query('INSERT INTO backup_codes (user_id, code_hash) VALUES ($1, $2)', [userId, sha256Hex(code)]);
  }
  return codes;
}

/** Confirms set-up with a code from the authenticator; returns the backup codes (shown once). */
export async function confirmTotp(tx: Queryable, actor: Actor, user: UserRecord, token: string): Promise<string[]> {
  const device = await lockDevice(tx, user.id);
  if (!device) throw validation('Start two-factor set-up first.', 'token', '2fa_setup_not_started');
  if (device.confirmed_at) throw validation('Two-factor authentication is already enabled.', 'token', '2fa_already_enabled');
  const step = acceptedStep(device, token);
  await tx.query('UPDATE totp_devices SET confirmed_at = now(), last_used_step = $2 WHERE user_id = $1', [user.id, step]);
  const codes = await replaceBackupCodes(tx, user.id);
  await record(tx, actor, user, 'two_factor_enabled', { method: 'totp', backup_codes: BACKUP_CODE_COUNT });
  return codes;
}

/**
 * Checks a second-factor code of a person with TOTP enabled: an authenticator code (never one of a
 * time step already used) or an unused backup code (then used up). Throws SecondFactorRejected.
 */
export async function verifySecondFactor(tx: Queryable, userId: number, token: string): Promise<SecondFactorKind> {
  const device = await lockDevice(tx, userId);
  if (!device?.confirmed_at) throw new SecondFactorRejected('invalid');
  let rejection: SecondFactorRejected;
  try {
    const step = acceptedStep(device, token);
    await tx.query('UPDATE totp_devices SET last_used_step = $2 WHERE user_id = $1', [userId, step]);
    return 'totp';
  } catch (err) {
    if (!(err instanceof SecondFactorRejected)) throw err;
    rejection = err;
  }
  const used = await tx.query('UPDATE backup_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING id', [
    userId,
    sha256Hex(normalizeBackupCode(token)),
  ]);
  if (used.length > 0) return 'backup_code';
  throw rejection;
}

/** Turns TOTP off; needs a fresh code (or a backup code). */
export async function disableTotp(tx: Queryable, actor: Actor, user: UserRecord, token: string): Promise<void> {
  await assertEnabled(tx, user.id);
  const used = await verifySecondFactor(tx, user.id, token);
  await tx.query('DELETE FROM backup_codes WHERE user_id = $1', [user.id]);
  await tx.query('DELETE FROM totp_devices WHERE user_id = $1', [user.id]);
  await record(tx, actor, user, 'two_factor_disabled', { method: 'totp', confirmed_with: used });
}

/** New backup codes (the old ones stop working); needs a fresh code. */
export async function regenerateBackupCodes(tx: Queryable, actor: Actor, user: UserRecord, token: string): Promise<string[]> {
  await assertEnabled(tx, user.id);
  const used = await verifySecondFactor(tx, user.id, token);
  const codes = await replaceBackupCodes(tx, user.id);
  await record(tx, actor, user, 'backup_codes_regenerated', { backup_codes: BACKUP_CODE_COUNT, confirmed_with: used });
  return codes;
}

export async function twoFactorStatus(q: Queryable, userId: number) {
  const [row] = await q.query<{ enabled: boolean; remaining: number }>(
    `SELECT EXISTS (SELECT 1 FROM totp_devices WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS enabled,
            (SELECT count(*)::int FROM backup_codes WHERE user_id = $1 AND used_at IS NULL) AS remaining`,
    [userId],
  );
  return { is_enabled: row!.enabled, backup_codes_remaining: row!.enabled ? row!.remaining : 0, method: row!.enabled ? 'TOTP' : null };
}
