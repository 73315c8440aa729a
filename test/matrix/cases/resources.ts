import type { Case } from '../model.js';
import type { World } from '../world.js';

/** Insights, dashboards, session recordings, events, query and ingestion. */
export function resourceCases(_w: World): Case[] {
  return [];
}
