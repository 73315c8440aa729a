import { describe, expect, it } from 'vitest';
import { RESOURCE_GROUPS } from '../../console/src/resources.js';
import { ACCESS_CONTROL_RESOURCES } from '../../src/access/resources.js';

describe("the console's resource names", () => {
  it('name every resource of the access model once, in one group', () => {
    const named = RESOURCE_GROUPS.flatMap((g) => Object.keys(g.resources));
    expect([...named].sort()).toEqual([...ACCESS_CONTROL_RESOURCES].sort());
    expect(new Set(named).size).toBe(named.length);
  });
});
