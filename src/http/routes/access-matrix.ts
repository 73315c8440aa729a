import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { applyAccessMatrix, exportAccessMatrix, planAccessMatrix } from '../../matrix/service.js';
import { actorOf, type Deps } from '../deps.js';
import { OrgParams, routeOrganization } from './organizations.js';

/*
 * The access matrix as code (src/matrix/): export and plan read the organization's access
 * (`organization:read`), apply changes it (`organization:write`); all three are for organization
 * admins and owners, which the use cases check. `document` is the file's YAML text or its parsed
 * mapping; `file_name` only names it in messages; `file_hash` (sha256 of the text) is checked when
 * given and recorded with every change of the batch.
 */
const PlanBody = Type.Object(
  {
    document: Type.Unknown(),
    file_name: Type.Optional(Type.String({ maxLength: 200 })),
    file_hash: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
const ApplyBody = Type.Object(
  {
    document: Type.Unknown(),
    file_name: Type.Optional(Type.String({ maxLength: 200 })),
    file_hash: Type.Optional(Type.String({ maxLength: 100 })),
    dry_run: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const MATRIX = '/api/organizations/:organization_id/access_matrix/';

const inputOf = (body: Static<typeof PlanBody>) => ({ document: body.document, fileName: body.file_name, fileHash: body.file_hash });

export function accessMatrixRoutes(app: FastifyInstance, { db }: Deps): void {
  const read = { access: scoped('organization', 'read') };
  const write = { access: scoped('organization', 'write') };

  app.get(MATRIX, { config: read, schema: { params: OrgParams } }, async (request) =>
    exportAccessMatrix(db, actorOf(request), routeOrganization(request).record.id),
  );

  app.post(`${MATRIX}plan/`, { config: read, schema: { params: OrgParams, body: PlanBody } }, async (request) =>
    planAccessMatrix(db, actorOf(request), routeOrganization(request).record.id, inputOf(request.body as Static<typeof PlanBody>)),
  );

  app.post(MATRIX, { config: write, schema: { params: OrgParams, body: ApplyBody } }, async (request) => {
    const body = request.body as Static<typeof ApplyBody>;
    return applyAccessMatrix(db, actorOf(request), routeOrganization(request).record.id, inputOf(body), body.dry_run ?? false);
  });
}
