import type { Case } from '../model.js';
import type { World } from '../world.js';

/** Change requests (approvals). */
export function approvalCases(_w: World): Case[] {
  return [];
}
