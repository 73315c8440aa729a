import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { publicRoute, scoped } from '../../access/route-access.js';
import { validation } from '../../domain/errors.js';
import type { UserRecord } from '../../domain/records.js';
import {
  completeSecondStep,
  PENDING_LOGIN_SECONDS,
  pendingLoginUser,
  recordSecondFactorFailure,
  SECOND_FACTOR_LIMITS,
  secondFactorRequired,
  type LoginOutcome,
} from '../../domain/identity/second-factor-login.js';
import { deleteOtherSessions, type SessionOrigin } from '../../domain/identity/sessions.js';
import {
  confirmTotp,
  disableTotp,
  INVALID_CODE,
  regenerateBackupCodes,
  SecondFactorRejected,
  startTotpSetup,
  twoFactorStatus,
} from '../../domain/identity/two-factor.js';
import type { Database, Queryable } from '../../store/database.js';
import { actorOf, currentUser, setSessionCookies, type Deps } from '../deps.js';
import { assertSelf, ownSessionToken } from '../self.js';
import type { RateLimiter } from '../rate-limits.js';
import { Success } from '../schemas/common.js';
import { BackupCodes, TotpSetup, TotpToken, TwoFactorStatus } from '../schemas/two-factor.js';
import { UserParams } from '../schemas/users.js';

/** The cookie naming a login that waits for its second factor (httpOnly, ten minutes). */
export const PENDING_LOGIN_COOKIE = 'warden_2fa_pending';

export const sessionOrigin = (request: FastifyRequest): SessionOrigin => ({
  ip: request.ip,
  userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
});

/** The login route's answer: the session's cookies, or 401 `2fa_required` with the pending login's cookie. */
export function answerLogin(reply: FastifyReply, request: FastifyRequest, deps: Deps, outcome: LoginOutcome): { success: true } {
  if (outcome.kind === 'session') {
    setSessionCookies(reply, request, deps.config, outcome.session);
    return { success: true };
  }
  reply.setCookie(PENDING_LOGIN_COOKIE, outcome.pendingToken, {
    path: '/api/login/',
    httpOnly: true,
    sameSite: 'strict',
    secure: deps.config.secureCookies === 'always' || (deps.config.secureCookies === 'auto' && request.protocol === 'https'),
    maxAge: PENDING_LOGIN_SECONDS,
  });
  throw secondFactorRequired();
}

/** Runs a change that needs a fresh code; a refused code is a security event and counts against the limits. */
async function withCode<T>(
  db: Database,
  limiter: RateLimiter,
  request: FastifyRequest,
  user: UserRecord,
  during: 'setup' | 'disable' | 'backup_codes',
  change: (tx: Queryable) => Promise<T>,
): Promise<T> {
  try {
    return await limiter.guard(
      codeCounts(request, user.id),
      () => db.transaction(change),
      (err) => err instanceof SecondFactorRejected,
    );
  } catch (err) {
    if (!(err instanceof SecondFactorRejected)) throw err;
    await recordSecondFactorFailure(db, user, err.reason, during, request.log);
    throw validation(INVALID_CODE, 'token', '2fa_invalid');
  }
}

/** Second-factor codes count like passwords: per address and per (account, address), before they are checked. */
const codeCounts = (request: FastifyRequest, userId: number) =>
  [
    [SECOND_FACTOR_LIMITS.perAddress, request.ip],
    [SECOND_FACTOR_LIMITS.perAccount, `${userId}|${request.ip}`],
  ] as const;

export function twoFactorRoutes(app: FastifyInstance, deps: Deps): void {
  const { db, config, limiter } = deps;
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const setup = { secondFactorSetup: true } as const;

  api.post('/api/login/token/', { config: { access: publicRoute }, schema: { body: TotpToken, response: { 200: Success } } }, async (request, reply) => {
    const { token } = request.body;
    const pendingToken = request.cookies[PENDING_LOGIN_COOKIE];
    const user = await pendingLoginUser(db, pendingToken);
    const session = await limiter.guard(
      codeCounts(request, user.id),
      () => completeSecondStep(db, pendingToken!, user, token, sessionOrigin(request), request.log),
      (err) => (err as { code?: string }).code === '2fa_invalid',
    );
    reply.clearCookie(PENDING_LOGIN_COOKIE, { path: '/api/login/' });
    setSessionCookies(reply, request, config, session);
    return { success: true };
  });

  api.get(
    '/api/users/:user_id/two_factor_status/',
    { config: { access: scoped('user', 'read'), ...setup }, schema: { params: UserParams, response: { 200: TwoFactorStatus } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      return twoFactorStatus(db, user.id);
    },
  );

  // PostHog's name; a POST here (PostHog answers a GET): it writes the new, unconfirmed secret.
  api.post(
    '/api/users/:user_id/start_2fa_setup/',
    { config: { access: scoped('user', 'write'), ...setup }, schema: { params: UserParams, response: { 200: TotpSetup } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const { secret, uri } = await db.transaction((tx) => startTotpSetup(tx, actorOf(request), user));
      return { success: true, secret, otpauth_uri: uri, qr_code: await QRCode.toDataURL(uri) };
    },
  );

  api.post(
    '/api/users/:user_id/two_factor_validate/',
    { config: { access: scoped('user', 'write'), ...setup }, schema: { params: UserParams, body: TotpToken, response: { 200: BackupCodes } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const { token } = request.body;
      const codes = await withCode(db, limiter, request, user, 'setup', async (tx) => {
        const backupCodes = await confirmTotp(tx, actorOf(request), user, token);
        await deleteOtherSessions(tx, user.id, ownSessionToken(request));
        return backupCodes;
      });
      return { success: true, backup_codes: codes };
    },
  );

  api.post(
    '/api/users/:user_id/two_factor_disable/',
    { config: { access: scoped('user', 'write') }, schema: { params: UserParams, body: TotpToken, response: { 200: Success } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const { token } = request.body;
      await withCode(db, limiter, request, user, 'disable', async (tx) => {
        await disableTotp(tx, actorOf(request), user, token);
        await deleteOtherSessions(tx, user.id, ownSessionToken(request));
      });
      return { success: true };
    },
  );

  api.post(
    '/api/users/:user_id/two_factor_backup_codes/',
    { config: { access: scoped('user', 'write') }, schema: { params: UserParams, body: TotpToken, response: { 200: BackupCodes } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const { token } = request.body;
      const codes = await withCode(db, limiter, request, user, 'backup_codes', (tx) => regenerateBackupCodes(tx, actorOf(request), user, token));
      return { success: true, backup_codes: codes };
    },
  );
}
