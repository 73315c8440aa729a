/**
 * Every process a test helper starts is registered here until it exits, and nothing outlives the
 * test file that started it: the setup file (test/helpers/setup.ts) kills what is left after each
 * file (a test that timed out never reached its own `stop`), and this worker's exit or termination
 * kills them too. Helpers also bound their own waits and kill on timeout or failure.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (!running(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Stops every process still running (after a test file, whatever happened in it). */
export async function stopAllChildren(): Promise<number> {
  const left = [...live].filter(running);
  await Promise.all(left.map((child) => stopChild(child, 'SIGKILL')));
  return left.length;
}

function killAllNow(): void {
  for (const child of live) if (running(child)) child.kill('SIGKILL');
}

let installed = false;
/** On this process's exit or termination, its children go too. */
export function killChildrenOnExit(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllNow();
      process.kill(process.pid, signal); // the default action, now that the handler is gone
    });
  }
}
