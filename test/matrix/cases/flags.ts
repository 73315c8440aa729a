import type { Case } from '../model.js';
import type { World } from '../world.js';

/** Feature flags and flag evaluation. */
export function flagCases(_w: World): Case[] {
  return [];
}
