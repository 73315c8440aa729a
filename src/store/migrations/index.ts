import { sql as core } from './0001_core.js';

/** Every migration, in the order it is applied. Never edit one that has shipped: add a new one. */
export const migrations: ReadonlyArray<{ name: string; sql: string }> = [{ name: '0001_core', sql: core }];
