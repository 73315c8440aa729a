import type { Queryable } from '../store/database.js';
import type { Actor } from './actor.js';

/**
 * Feature flags: CRUD with its activity entries (filled in by the feature-flag work).
 * `deleteFeatureFlag` is the one place a flag is (soft-)deleted: the DELETE route calls it directly,
 * and an approved change request calls it later (src/domain/change-requests.ts).
 */
export async function deleteFeatureFlag(_tx: Queryable, _actor: Actor, _projectId: number, _flagId: number): Promise<void> {
  throw new Error('not implemented yet');
}
