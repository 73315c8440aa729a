import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { endMemberSessions, endOtherSessions, endOwnSession, listOwnSessions } from '../../domain/identity/session-control.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import { assertSelf, ownSessionToken } from '../self.js';
import { NoContent } from '../schemas/common.js';
import { MemberSessionsParams, SessionList, SessionParams, SessionsEnded } from '../schemas/sessions.js';
import { UserParams } from '../schemas/users.js';
import { routeOrganization } from './organizations.js';

export function sessionRoutes(app: FastifyInstance, { db }: Deps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/api/users/:user_id/sessions/',
    { config: { access: scoped('user', 'read') }, schema: { params: UserParams, response: { 200: SessionList } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const results = await listOwnSessions(db, user.id, ownSessionToken(request));
      return { count: results.length, next: null, previous: null, results };
    },
  );

  api.delete(
    '/api/users/:user_id/sessions/:session_id/',
    { config: { access: scoped('user', 'write') }, schema: { params: SessionParams, response: { 204: NoContent } } },
    async (request, reply) => {
      const user = currentUser(request);
      const { user_id, session_id } = request.params;
      assertSelf(user, user_id);
      await endOwnSession(db, actorOf(request), user, session_id, request.log);
      return reply.code(204).send();
    },
  );

  api.post(
    '/api/users/:user_id/sessions/end_others/',
    { config: { access: scoped('user', 'write') }, schema: { params: UserParams, response: { 200: SessionsEnded } } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, request.params.user_id);
      const ended = await db.transaction((tx) => endOtherSessions(tx, actorOf(request), user, ownSessionToken(request)));
      return { sessions_ended: ended };
    },
  );

  api.post(
    '/api/organizations/:organization_id/members/:user_uuid/end_sessions/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: MemberSessionsParams, response: { 200: SessionsEnded } } },
    async (request) => {
      const { record } = routeOrganization(request);
      const { user_uuid } = request.params;
      return { sessions_ended: await endMemberSessions(db, actorOf(request), record.id, user_uuid) };
    },
  );
}
