import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { publicRoute, scoped } from '../../access/route-access.js';
import { DomainError, validation } from '../../domain/errors.js';
import {
  addPasskey,
  authenticationOptions,
  listPasskeys,
  relyingPartyOf,
  registrationOptions,
  removePasskey,
  renamePasskey,
  verifyPasskeyAssertion,
} from '../../domain/identity/passkeys.js';
import { completeVerifiedSecondStep, pendingLoginUser, pendingLoginUserOrNull, SECOND_FACTOR_LIMITS } from '../../domain/identity/second-factor-login.js';
import { createSession, deleteOtherSessions } from '../../domain/identity/sessions.js';
import { assertPasswordAuthAllowed } from '../../domain/sso/sso-domains.js';
import { findUserById } from '../../domain/identity/users.js';
import { actorOf, currentUser, setSessionCookies, type Deps } from '../deps.js';
import { assertSelf, ownSessionToken } from '../self.js';
import { NoContent, Success } from '../schemas/common.js';
import {
  NewPasskey,
  Passkey,
  PasskeyAssertion,
  PasskeyAssertionOptions,
  PasskeyList,
  PasskeyParams,
  PasskeyRename,
  WebAuthnOptions,
} from '../schemas/passkeys.js';
import { UserParams } from '../schemas/users.js';
import { PENDING_LOGIN_COOKIE, sessionOrigin } from './two-factor.js';

export function passkeyRoutes(app: FastifyInstance, { db, config, limiter }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const rp = () => relyingPartyOf(config.publicUrl || 'http://localhost');
  const setup = { secondFactorSetup: true } as const;

  api.get(
    '/api/users/:user_id/passkeys/',
    { config: { access: scoped('user', 'read'), ...setup }, schema: { params: UserParams, response: { 200: PasskeyList } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      return { results: await listPasskeys(db, user.id) };
    },
  );

  api.post(
    '/api/users/:user_id/passkeys/register_options/',
    { config: { access: scoped('user', 'write'), ...setup }, schema: { params: UserParams, response: { 200: WebAuthnOptions } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      return registrationOptions(db, user, rp());
    },
  );

  api.post(
    '/api/users/:user_id/passkeys/',
    { config: { access: scoped('user', 'write'), ...setup }, schema: { params: UserParams, body: NewPasskey, response: { 201: Passkey } } },
    async (request, reply) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const { name, response } = request.body;
      // A new second factor ends the person's other sessions.
      const passkey = await addPasskey(db, actorOf(request), user, rp(), name, response, async (tx) => {
        await deleteOtherSessions(tx, user.id, ownSessionToken(request));
      });
      return reply.code(201).send(passkey);
    },
  );

  api.patch(
    '/api/users/:user_id/passkeys/:passkey_id/',
    { config: { access: scoped('user', 'write') }, schema: { params: PasskeyParams, body: PasskeyRename, response: { 200: Passkey } } },
    async (request) => {
      const user = currentUser(request);
      const { user_id, passkey_id } = request.params;
      assertSelf(user, user_id);
      const { name } = request.body;
      return db.transaction((tx) => renamePasskey(tx, actorOf(request), user, passkey_id, name));
    },
  );

  api.delete(
    '/api/users/:user_id/passkeys/:passkey_id/',
    { config: { access: scoped('user', 'write') }, schema: { params: PasskeyParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const user = currentUser(request);
      const { user_id, passkey_id } = request.params;
      assertSelf(user, user_id);
      await db.transaction(async (tx) => {
        await removePasskey(tx, actorOf(request), user, passkey_id);
        await deleteOtherSessions(tx, user.id, ownSessionToken(request));
      });
      return reply.code(204).send();
    },
  );

  // Signing in with a passkey: the second step of a pending login, or without a password.
  // `second_factor: true`: for the login waiting for its second factor (its cookie); otherwise without a password.
  api.post(
    '/api/login/passkey/options/',
    { config: { access: publicRoute }, schema: { body: PasskeyAssertionOptions, response: { 200: WebAuthnOptions } } },
    async (request) => {
      const { second_factor } = request.body ?? {};
      if (!second_factor) return authenticationOptions(db, rp(), null);
      const pending = await pendingLoginUser(db, request.cookies[PENDING_LOGIN_COOKIE]);
      return authenticationOptions(db, rp(), pending.id);
    },
  );

  api.post(
    '/api/login/passkey/',
    { config: { access: publicRoute }, schema: { body: PasskeyAssertion, response: { 200: Success } } },
    async (request, reply) => {
      const { response } = request.body;
      const pendingToken = request.cookies[PENDING_LOGIN_COOKIE];
      const pending = await pendingLoginUserOrNull(db, pendingToken);
      const verified = await limiter.guard(
        [[SECOND_FACTOR_LIMITS.perAddress, request.ip]],
        () => verifyPasskeyAssertion(db, rp(), response, pending, request.log),
        (err) => err instanceof DomainError,
      );
      let session;
      if (verified.secondFactor && pending) {
        session = await completeVerifiedSecondStep(db, pendingToken!, pending, sessionOrigin(request));
        reply.clearCookie(PENDING_LOGIN_COOKIE, { path: '/api/login/' });
      } else {
        const user = await findUserById(db, verified.userId);
        if (!user?.is_active || user.is_service_account) throw validation('This passkey could not be verified.', 'response', 'passkey_invalid');
        // A domain that enforces SSO takes no other sign-in.
        await assertPasswordAuthAllowed(db, user.email);
        session = await db.transaction((tx) => createSession(tx, user.id, 'passkey', { ...sessionOrigin(request), secondFactor: 'passkey' }));
      }
      setSessionCookies(reply, request, config, session);
      return { success: true };
    },
  );
}
