/** Runs in every test file (vitest.config.ts setupFiles): no process a test started outlives its file. */
import { afterAll } from 'vitest';
import { killChildrenOnExit, stopAllChildren } from './children.js';

killChildrenOnExit();
afterAll(async () => {
  const left = await stopAllChildren();
  if (left > 0) console.warn(`killed ${left} process(es) a test left running`);
});
