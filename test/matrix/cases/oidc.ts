import type { Case } from '../model.js';
import type { World } from '../world.js';

/** Placeholder: cases are being written. */
export function oidcCases(_w: World): Case[] {
  return [];
}
