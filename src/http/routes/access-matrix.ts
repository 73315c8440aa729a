import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { scoped } from '../../access/route-access.js';
import { applyAccessMatrix, exportAccessMatrix, planAccessMatrix } from '../../matrix/service.js';
import { actorOf, type Deps } from '../deps.js';
import { ApplyBody, MatrixApply, MatrixExport, MatrixPlan, PlanBody } from '../schemas/access-matrix.js';
import { OrgParams } from '../schemas/common.js';
import { routeOrganization } from './organizations.js';

/*
 * The access matrix as code (src/matrix/): export and plan read the organization's access
 * (`organization:read`), apply changes it (`organization:write`); all three are for organization
 * admins and owners, which the use cases check. `document` is the file's YAML text or its parsed
 * mapping; `file_name` only names it in messages; `file_hash` (sha256 of the text) is checked when
 * given and recorded with every change of the batch.
 */
const MATRIX = '/api/organizations/:organization_id/access_matrix/';

const inputOf = (body: PlanBody) => ({ document: body.document, fileName: body.file_name, fileHash: body.file_hash });

export function accessMatrixRoutes(app: FastifyInstance, { db }: Deps): void {
  const read = { access: scoped('organization', 'read') };
  const write = { access: scoped('organization', 'write') };
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.get(MATRIX, { config: read, schema: { params: OrgParams, response: { 200: MatrixExport } } }, async (request) =>
    exportAccessMatrix(db, actorOf(request), routeOrganization(request).record.id),
  );

  api.post(`${MATRIX}plan/`, { config: read, schema: { params: OrgParams, body: PlanBody, response: { 200: MatrixPlan } } }, async (request) =>
    planAccessMatrix(db, actorOf(request), routeOrganization(request).record.id, inputOf(request.body)),
  );

  api.post(MATRIX, { config: write, schema: { params: OrgParams, body: ApplyBody, response: { 200: MatrixApply } } }, async (request) => {
    const { body } = request;
    return applyAccessMatrix(db, actorOf(request), routeOrganization(request).record.id, inputOf(body), body.dry_run ?? false);
  });
}
