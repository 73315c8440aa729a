/**
 * The access matrix's use cases: plan (the file against the live organization), apply (the plan,
 * all or nothing, in one transaction, logged as one batch with the file's hash) and export (the
 * live organization as a file). Organization admins and owners only: the matrix shows and changes
 * everyone's access.
 */
import { createHash, randomUUID } from 'node:crypto';
import { recordActivity } from '../domain/activity/activity.js';
import type { Actor } from '../domain/actor.js';
import { validation } from '../domain/errors.js';
import { lockAsAdmin, requireAdminMembership } from '../domain/organizations/organizations.js';
import type { Database, Queryable } from '../store/database.js';
import { applyChanges, type NewKey } from './apply.js';
import { readCatalog, type Catalog, type CatalogDomain } from './catalog.js';
import { exportMatrix } from './export.js';
import { readLiveState } from './live.js';
import { parseMatrix, type MatrixFile } from './parse.js';
import { planChanges, type MatrixChange } from './plan.js';
import { resolveMatrix } from './resolve.js';

export interface MatrixInput {
  /** The file's text (YAML), or the same structure already parsed. */
  document: unknown;
  /** Used in messages only. */
  fileName?: string;
  /** sha256 of the text, as the client computed it; must match when given with text. */
  fileHash?: string;
}

export interface PlanResult {
  organization_id: string;
  file_sha256: string;
  changes: MatrixChange[];
  summary: { add: number; change: number; remove: number };
  warnings: string[];
}

export interface ApplyResult extends PlanResult {
  dry_run: boolean;
  batch_id: string | null;
  /** Keys made by this apply (values shown once); empty on a dry run. */
  new_keys: NewKey[];
}

const BATCH_SOURCE = 'access_matrix';

export function documentHash(document: unknown): string {
  const text = typeof document === 'string' ? document : JSON.stringify(document ?? null);
  return createHash('sha256').update(text).digest('hex');
}

function readInput(input: MatrixInput): { file: MatrixFile; hash: string; fileName: string } {
  const fileName = input.fileName?.trim() || 'access-matrix.yaml';
  const hash = documentHash(input.document);
  if (input.fileHash !== undefined) {
    const given = input.fileHash
      .trim()
      .toLowerCase()
      .replace(/^sha256:/, '');
    if (given !== hash) throw validation('file_hash is not the sha256 of the document sent.', 'file_hash');
  }
  if (input.document === null || input.document === undefined || (typeof input.document !== 'string' && typeof input.document !== 'object')) {
    throw validation('The document must be the YAML text of an access matrix, or its parsed mapping.', 'document');
  }
  return { file: parseMatrix(input.document, fileName), hash, fileName };
}

interface Planned {
  catalog: Catalog;
  ssoDomain: CatalogDomain | null;
  live: Awaited<ReturnType<typeof readLiveState>>;
  changes: MatrixChange[];
}

async function planIn(q: Queryable, organizationId: string, file: MatrixFile, fileName: string): Promise<Planned> {
  const catalog = await readCatalog(q, organizationId);
  const desired = resolveMatrix(file, catalog, fileName);
  const live = await readLiveState(q, catalog, desired.ssoDomain?.id ?? null);
  return { catalog, ssoDomain: desired.ssoDomain, live, changes: planChanges(desired.state, live.state, catalog) };
}

const summarize = (changes: readonly MatrixChange[]) => ({
  add: changes.filter((c) => c.op === '+').length,
  change: changes.filter((c) => c.op === '~').length,
  remove: changes.filter((c) => c.op === '-').length,
});

export async function planAccessMatrix(db: Database, actor: Actor & { userId: number }, organizationId: string, input: MatrixInput): Promise<PlanResult> {
  const { file, hash, fileName } = readInput(input);
  return db.transaction(async (tx) => {
    await requireAdminMembership(tx, organizationId, actor.userId);
    const { changes, live } = await planIn(tx, organizationId, file, fileName);
    return { organization_id: organizationId, file_sha256: hash, changes, summary: summarize(changes), warnings: live.warnings };
  });
}

/** Thrown to roll a dry run back after it made every change. */
class DryRun extends Error {
  constructor(readonly result: ApplyResult) {
    super('dry run');
  }
}

/**
 * Applies the file: the plan is made and carried out in one transaction under the organization's
 * lock, so concurrent applies queue and each sees the other's result. A dry run carries the changes
 * out too (so the domain's own checks run) and then rolls them back.
 */
export async function applyAccessMatrix(
  db: Database,
  actor: Actor & { userId: number },
  organizationId: string,
  input: MatrixInput,
  dryRun: boolean,
): Promise<ApplyResult> {
  const { file, hash, fileName } = readInput(input);
  try {
    return await db.transaction(async (tx) => {
      const { organization } = await lockAsAdmin(tx, organizationId, actor.userId);
      const { catalog, ssoDomain, live, changes } = await planIn(tx, organizationId, file, fileName);
      const batchId = changes.length > 0 ? randomUUID() : null;
      const batchActor = { ...actor, batch: { batch_id: batchId, batch_source: BATCH_SOURCE, file_sha256: hash } };
      const newKeys = await applyChanges(tx, batchActor, catalog, live.ids, ssoDomain, changes, fileName);
      const summary = summarize(changes);
      if (changes.length > 0) {
        await recordActivity(tx, {
          organizationId,
          actor: batchActor,
          scope: 'Organization',
          activity: 'access_matrix_applied',
          itemId: batchId,
          detail: {
            name: `access matrix ${fileName}`,
            changes: [{ type: 'AccessMatrix', action: 'changed', field: 'access', before: null, after: summary }],
            context: {
              organization_name: organization.name,
              file_name: fileName,
              change_count: changes.length,
              changes: changes.map((c) => `${c.op} ${c.description}`),
            },
          },
        });
      }
      const result: ApplyResult = {
        organization_id: organizationId,
        file_sha256: hash,
        dry_run: dryRun,
        batch_id: dryRun ? null : batchId,
        changes,
        summary,
        warnings: live.warnings,
        new_keys: dryRun ? [] : newKeys,
      };
      if (dryRun) throw new DryRun(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRun) return err.result;
    throw err;
  }
}

/** The domain whose group mapping export writes: the one with role mappings, else the one verified domain. */
async function exportDomain(q: Queryable, catalog: Catalog): Promise<CatalogDomain | null> {
  const withMappings = await q.query<{ domain_id: string }>(
    `SELECT DISTINCT g.domain_id::text AS domain_id FROM sso_group_mappings g JOIN organization_domains d ON d.id = g.domain_id
      WHERE d.organization_id = $1 AND g.role_id IS NOT NULL AND g.level IS NULL`,
    [catalog.organizationId],
  );
  const mapped = catalog.domains.filter((d) => withMappings.some((m) => m.domain_id === d.id));
  if (mapped.length > 0) return mapped[0]!;
  const verified = catalog.domains.filter((d) => d.verified);
  return verified.length === 1 ? verified[0]! : null;
}

export async function exportAccessMatrix(
  db: Database,
  actor: Actor & { userId: number },
  organizationId: string,
): Promise<{ organization_id: string; document: string; file_sha256: string; warnings: string[] }> {
  return db.transaction(async (tx) => {
    await requireAdminMembership(tx, organizationId, actor.userId);
    const [organization] = await tx.query<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [organizationId]);
    const catalog = await readCatalog(tx, organizationId);
    const domain = await exportDomain(tx, catalog);
    const live = await readLiveState(tx, catalog, domain?.id ?? null);
    const warnings = [...live.warnings];
    const document = exportMatrix(live.state, catalog, domain, organization?.name ?? organizationId);
    return { organization_id: organizationId, document, file_sha256: documentHash(document), warnings };
  });
}
