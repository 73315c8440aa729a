import type { Case } from '../model.js';
import type { World } from '../world.js';

/** Placeholder: cases are being written. */
export function ssoCases(_w: World): Case[] {
  return [];
}
