// CPU pinning for the HTTP benchmarks: the server under load on one core, the load generator on
// another (`taskset`), so they do not take turns on one core. Where the machine has one core or no
// taskset, nothing is pinned (the report says so).
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const CORES = availableParallelism();
/** Whether servers and load generator get cores of their own. */
export const PINNED = hasTaskset && CORES >= 2;
/** The server's core and the load generator's (the last one). */
export const SERVER_CORE = 0;
export const LOAD_CORE = CORES - 1;

/** Pins this process (every thread) to the load generator's core. */
export function pinSelfToLoadCore() {
  if (PINNED) execFileSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
}

export function pinningNote() {
  return PINNED
    ? `server pinned to core ${SERVER_CORE}, autocannon to core ${LOAD_CORE} (taskset; ${CORES} cores)`
    : `not pinned (${CORES} core${CORES === 1 ? '' : 's'}${hasTaskset ? '' : ', no taskset'}): server and autocannon share the cores`;
}

/**
 * Runs `node script` (pinned to the server core where possible) and reads the JSON line it prints
 * once it serves. Returns that value and how to stop it.
 */
export async function startChild(script, env = {}, { pin = true } = {}) {
  const args = [script];
  const child =
    PINNED && pin
      ? spawn('taskset', ['-c', String(SERVER_CORE), process.execPath, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`${script} exited with ${code} before it served`);
    }),
  ]);
  return {
    value: JSON.parse(line),
    /** CPU time (user + system, µs) the server has used so far; undefined where /proc cannot say. */
    cpuMicros: () => processCpuMicros(child.pid),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * The CPU time a process has used (user + system, µs), from /proc (Linux), else undefined. Work per
 * request from this is steadier than req/s on a shared machine: time the process waits for a CPU
 * (another tenant, the load generator) is not in it.
 */
export function processCpuMicros(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
