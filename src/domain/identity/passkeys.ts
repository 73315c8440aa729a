import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Database, Queryable } from '../../store/database.js';
import { qb, row as first, sql, type Selectable } from '../../store/query-builder.js';
import type { DB } from '../../store/schema.js';
import { recordActivity } from '../activity/activity.js';
import type { Actor } from '../actor.js';
import { notFound, validation } from '../errors.js';
import type { UserRecord } from '../records.js';
import { recordSecurityEvent, type SecurityLog } from '../activity/security-events.js';

/**
 * Passkeys (WebAuthn through @simplewebauthn/server): registered by a signed-in person, then used as
 * a second factor after the password or to sign in without one. Every challenge is single use and
 * expires after five minutes; the relying party is Warden's public URL (its host and origin).
 */
export const CHALLENGE_SECONDS = 300;
export const PASSKEY_INVALID = 'This passkey could not be verified.';
export const CHALLENGE_INVALID = 'This passkey challenge has expired or was already used. Try again.';

export interface RelyingParty {
  id: string;
  name: string;
  origin: string;
}

export function relyingPartyOf(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name: 'Warden', origin: url.origin };
}

export type ChallengePurpose = 'register' | 'login' | 'second_factor';

export type PasskeyView = Pick<Selectable<DB['webauthn_credentials']>, 'id' | 'name' | 'created_at' | 'last_used_at'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function storeChallenge(q: Queryable, challenge: string, userId: number | null, purpose: ChallengePurpose): Promise<void> {
  await q.query(`INSERT INTO webauthn_challenges (challenge, user_id, purpose, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))`, [
    challenge,
    userId,
    purpose,
    CHALLENGE_SECONDS,
  ]);
  await q.query("DELETE FROM webauthn_challenges WHERE expires_at < now() - interval '1 hour'");
}

/**
 * Uses up the challenge the client signed (read from its clientDataJSON): a replayed, expired or
 * unknown challenge is refused. Taken in its own statement, so a failed verification still uses it.
 */
async function takeChallenge(
  q: Queryable,
  clientDataJSON: unknown,
  purposes: readonly ChallengePurpose[],
): Promise<{ challenge: string; userId: number | null; purpose: ChallengePurpose }> {
  let challenge: unknown;
  try {
    challenge = JSON.parse(Buffer.from(String(clientDataJSON), 'base64url').toString('utf8')).challenge;
  } catch {
    challenge = undefined;
  }
  const [taken] =
    typeof challenge === 'string' && challenge.length <= 200
      ? await q.query<{ user_id: number | null; purpose: ChallengePurpose }>(
          `DELETE FROM webauthn_challenges WHERE challenge = $1 AND purpose = ANY($2::text[]) AND expires_at > now() RETURNING user_id, purpose`,
          [challenge, purposes],
        )
      : [];
  if (!taken) throw validation(CHALLENGE_INVALID, 'response', 'webauthn_challenge_invalid');
  return { challenge: challenge as string, userId: taken.user_id, purpose: taken.purpose };
}

export async function listPasskeys(q: Queryable, userId: number): Promise<PasskeyView[]> {
  return q.query<PasskeyView>('SELECT id::text AS id, name, created_at, last_used_at FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id', [
    userId,
  ]);
}

export async function registrationOptions(q: Queryable, user: UserRecord, rp: RelyingParty) {
  const existing = await q.query<{ credential_id: string; transports: string[] }>(
    'SELECT credential_id, transports FROM webauthn_credentials WHERE user_id = $1',
    [user.id],
  );
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: `${user.first_name} ${user.last_name}`.trim() || user.email,
    userID: new TextEncoder().encode(user.uuid),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
  await storeChallenge(q, options.challenge, user.id, 'register');
  return options;
}

async function record(tx: Queryable, actor: Actor, user: UserRecord, activity: string, context: Record<string, unknown>) {
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

const passkeyName = (name: string) => {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw validation('Give the passkey a name of 1 to 100 characters.', 'name');
  return trimmed;
};

/** Verifies a registration against its challenge and stores the passkey. */
export async function addPasskey(
  db: Database,
  actor: Actor,
  user: UserRecord,
  rp: RelyingParty,
  name: string,
  response: Record<string, unknown>,
  inTransaction: (tx: Queryable) => Promise<void>,
): Promise<PasskeyView> {
  const label = passkeyName(name);
  const body = response as unknown as RegistrationResponseJSON;
  const taken = await takeChallenge(db, body?.response?.clientDataJSON, ['register']);
  if (taken.userId !== user.id) throw validation(CHALLENGE_INVALID, 'response', 'webauthn_challenge_invalid');
  const challenge = taken.challenge;
  let verified;
  try {
    verified = await verifyRegistrationResponse({
      response: body,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    });
  } catch {
    verified = { verified: false as const };
  }
  if (!verified.verified) throw validation(PASSKEY_INVALID, 'response', 'passkey_invalid');
  const { credential } = verified.registrationInfo;
  return db.transaction(async (tx) => {
    const [taken] = await tx.query('SELECT 1 FROM webauthn_credentials WHERE credential_id = $1', [credential.id]);
    if (taken) throw validation('This passkey is already registered.', 'response', 'passkey_exists');
    const [row] = await tx.query<PasskeyView>(
      `INSERT INTO webauthn_credentials (user_id, credential_id, public_key, counter, transports, name)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text AS id, name, created_at, last_used_at`,
      [user.id, credential.id, Buffer.from(credential.publicKey).toString('base64url'), credential.counter, credential.transports ?? [], label],
    );
    await record(tx, actor, user, 'passkey_added', { passkey_id: row!.id, passkey_name: label });
    await inTransaction(tx);
    return row!;
  });
}

export async function renamePasskey(tx: Queryable, actor: Actor, user: UserRecord, id: string, name: string): Promise<PasskeyView> {
  const label = passkeyName(name);
  const [before] = UUID.test(id)
    ? await tx.query<{ name: string }>('SELECT name FROM webauthn_credentials WHERE id = $1 AND user_id = $2 FOR UPDATE', [id, user.id])
    : [];
  if (!before) throw notFound();
  const [row] = await tx.query<PasskeyView>(
    'UPDATE webauthn_credentials SET name = $3 WHERE id = $1 AND user_id = $2 RETURNING id::text AS id, name, created_at, last_used_at',
    [id, user.id, label],
  );
  if (before.name !== label) await record(tx, actor, user, 'passkey_renamed', { passkey_id: id, before: before.name, after: label });
  return row!;
}

export async function removePasskey(tx: Queryable, actor: Actor, user: UserRecord, id: string): Promise<void> {
  const [row] = UUID.test(id)
    ? await tx.query<{ name: string }>('DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2 RETURNING name', [id, user.id])
    : [];
  if (!row) throw notFound();
  await record(tx, actor, user, 'passkey_removed', { passkey_id: id, passkey_name: row.name });
}

/** Options for signing in: any discoverable passkey (no user), or one of the pending login's user's. */
export async function authenticationOptions(q: Queryable, rp: RelyingParty, secondFactorOf: number | null) {
  const allow =
    secondFactorOf === null
      ? []
      : await q.query<{ credential_id: string; transports: string[] }>('SELECT credential_id, transports FROM webauthn_credentials WHERE user_id = $1', [
          secondFactorOf,
        ]);
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    userVerification: 'preferred',
    allowCredentials: allow.map((c) => ({ id: c.credential_id, transports: c.transports })),
  });
  await storeChallenge(q, options.challenge, secondFactorOf, secondFactorOf === null ? 'login' : 'second_factor');
  return options;
}

/**
 * Verifies a sign-in assertion and returns whose passkey it was and whether it was a second factor
 * (the challenge says which it was asked for). As a second factor it must answer the pending login's
 * challenge with a passkey of that login's user. Refusals (a replayed challenge, a passkey of someone
 * else, another origin, a bad signature) are security events.
 */
export async function verifyPasskeyAssertion(
  db: Database,
  rp: RelyingParty,
  response: Record<string, unknown>,
  pending: UserRecord | null,
  log?: SecurityLog,
): Promise<{ userId: number; secondFactor: boolean }> {
  const body = response as unknown as AuthenticationResponseJSON;
  const refuse = async (reason: string, userId: number | null) => {
    await recordSecurityEvent(
      db,
      {
        activity: 'second_factor_failed',
        organizationId: pending?.current_organization_id ?? null,
        userId,
        itemId: userId,
        context: { reason, during: pending ? 'login' : 'passkey_login', method: 'passkey' },
      },
      log,
    );
    return validation(PASSKEY_INVALID, 'response', 'passkey_invalid');
  };
  let taken;
  try {
    taken = await takeChallenge(db, body?.response?.clientDataJSON, ['login', 'second_factor']);
  } catch (err) {
    await refuse('challenge_invalid', pending?.id ?? null);
    throw err;
  }
  const secondFactor = taken.purpose === 'second_factor';
  if (secondFactor && (!pending || taken.userId !== pending.id)) {
    await refuse('challenge_invalid', pending?.id ?? null);
    throw validation(CHALLENGE_INVALID, 'response', 'webauthn_challenge_invalid');
  }
  const row =
    typeof body.id === 'string' && body.id.length <= 1500
      ? await first(db, qb.selectFrom('webauthn_credentials').selectAll().select(sql<string>`counter::text`.as('counter')).where('credential_id', '=', body.id))
      : undefined;
  if (!row) throw await refuse('unknown_passkey', secondFactor ? pending!.id : null);
  if (secondFactor && row.user_id !== pending!.id) throw await refuse('passkey_of_another_user', pending!.id);
  let result;
  try {
    result = await verifyAuthenticationResponse({
      response: body,
      expectedChallenge: taken.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: row.credential_id,
        publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
        counter: Number(row.counter),
        transports: row.transports,
      },
      requireUserVerification: false,
    });
  } catch {
    result = { verified: false as const };
  }
  if (!result.verified) throw await refuse('verification_failed', row.user_id);
  await db.query('UPDATE webauthn_credentials SET counter = $2, last_used_at = now() WHERE id = $1', [row.id, result.authenticationInfo.newCounter]);
  return { userId: row.user_id, secondFactor };
}
