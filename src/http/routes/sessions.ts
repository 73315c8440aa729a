import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { endMemberSessions, endOtherSessions, endOwnSession, listOwnSessions } from '../../domain/session-control.js';
import { actorOf, currentUser, type Deps } from '../deps.js';
import { assertSelf, ownSessionToken } from '../self.js';
import { OrgParams, routeOrganization } from './organizations.js';

const UserParams = Type.Object({ user_id: Type.String() });
const SessionParams = Type.Object({ user_id: Type.String(), session_id: Type.String({ maxLength: 100 }) });
const MemberParams = Type.Composite([OrgParams, Type.Object({ user_uuid: Type.String() })]);



export function sessionRoutes(app: FastifyInstance, { db }: Deps): void {
  app.get('/api/users/:user_id/sessions/', { config: { access: scoped('user', 'read') }, schema: { params: UserParams } }, async (request) => {
    const user = currentUser(request);
    assertSelf(user, (request.params as Static<typeof UserParams>).user_id);
    const results = await listOwnSessions(db, user.id, ownSessionToken(request));
    return { count: results.length, next: null, previous: null, results };
  });

  app.delete(
    '/api/users/:user_id/sessions/:session_id/',
    { config: { access: scoped('user', 'write') }, schema: { params: SessionParams } },
    async (request, reply) => {
      const user = currentUser(request);
      const { user_id, session_id } = request.params as Static<typeof SessionParams>;
      assertSelf(user, user_id);
      await endOwnSession(db, actorOf(request), user, session_id, request.log);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/users/:user_id/sessions/end_others/',
    { config: { access: scoped('user', 'write') }, schema: { params: UserParams } },
    async (request) => {
      const user = currentUser(request);
      assertSelf(user, (request.params as Static<typeof UserParams>).user_id);
      const ended = await db.transaction((tx) => endOtherSessions(tx, actorOf(request), user, ownSessionToken(request)));
      return { sessions_ended: ended };
    },
  );

  app.post(
    '/api/organizations/:organization_id/members/:user_uuid/end_sessions/',
    { config: { access: scoped('organization_member', 'write') }, schema: { params: MemberParams } },
    async (request) => {
      const { record } = routeOrganization(request);
      const { user_uuid } = request.params as Static<typeof MemberParams>;
      return { sessions_ended: await endMemberSessions(db, actorOf(request), record.id, user_uuid) };
    },
  );
}
