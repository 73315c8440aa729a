import type { Case } from '../model.js';
import type { World } from '../world.js';

/** Roles, role memberships and access controls. */
export function roleCases(_w: World): Case[] {
  return [];
}
