/** The test helpers never leave a process behind: on their own timeout, and after a file whatever happened. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stopAllChildren, track } from '../helpers/children.js';
import { run } from '../helpers/cli.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('child processes of the tests', () => {
  it('kills a command that runs over its time, and says so', async () => {
    const started = Date.now();
    await expect(run('sleep', ['30'], {}, undefined, 300)).rejects.toThrow(/ran over 300 ms and was killed/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('stops whatever a test left running', async () => {
    const child = track(spawn('sleep', ['30']));
    expect(alive(child.pid!)).toBe(true);
    expect(await stopAllChildren()).toBe(1);
    expect(alive(child.pid!)).toBe(false);
    expect(await stopAllChildren()).toBe(0);
  });
});
