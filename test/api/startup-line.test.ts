/**
 * `warden serve` at a terminal says where it is and, on a new instance, that the first page creates
 * the owner; to a pipe (a process manager, a log collector) it writes only its JSON log lines.
 * The terminal is a real pseudo-terminal (util-linux `script`).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopChild, track } from '../helpers/children.js';
import { freshInstance, REPO, serve } from '../helpers/cli.js';

let instance: Awaited<ReturnType<typeof freshInstance>>;
beforeAll(async () => {
  instance = await freshInstance();
});
afterAll(() => instance?.cleanup());

describe('the start-up line', () => {
  it('is printed for a person at a terminal, and not into a pipe', async () => {
    const command = ['node', 'bin/warden.js', 'serve', '--port', '0', '--log-level', 'warn', ...instance.args].join(' ');
    const child = track(spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO, env: { ...process.env, ...instance.env } }));
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    try {
      const deadline = Date.now() + 45_000;
      while (!/creates the owner account/.test(output) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(output).toMatch(/Warden is running at http:\/\/127\.0\.0\.1:\d+\r?\n/);
      expect(output).toContain('This is a new instance: open it in a browser, and its first page creates the owner account.');
    } finally {
      await stopChild(child, 'SIGTERM');
    }

    const piped = await serve([...instance.args, '--log-level', 'info'], instance.env);
    try {
      expect(await (await fetch(`${piped.url}/api/preflight/`)).json()).toMatchObject({ initiated: false });
    } finally {
      expect(await piped.stop()).toBe(0);
    }
    expect(piped.output()).not.toContain('Warden is running');
    // Every line it wrote is a JSON log line.
    const lines = piped.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  }, 120_000);
});
