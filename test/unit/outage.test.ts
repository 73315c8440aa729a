import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../src/store/database.js';
import { Outage } from '../../src/store/outage.js';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('Outage: failing fast while the database is unreachable', () => {
  it('is started by the connection failing, not by a slow statement, a busy pool or a full server', () => {
    const outage = new Outage(async () => undefined);
    outage.report(pgError('57014', 'canceling statement due to statement timeout'));
    outage.report(new Error('timeout exceeded when trying to connect'));
    outage.report(pgError('53300', 'sorry, too many clients already'));
    outage.report(pgError('23505'));
    expect(outage.isDown).toBe(false);
    outage.report(pgError('ECONNREFUSED'));
    expect(outage.isDown).toBe(true);
    const frozen = new Outage(async () => undefined);
    frozen.report(new Error('Query read timeout'));
    expect(frozen.isDown).toBe(true);
  });

  it('sends one probe for all waiting callers, refuses at once between probes, and ends at the first answer', async () => {
    let probes = 0;
    let answer = false;
    const outage = new Outage(async () => {
      probes++;
      await new Promise((r) => setTimeout(r, 20));
      if (!answer) throw new DatabaseUnavailableError('no answer');
    }, 10_000);
    await outage.admit();
    outage.report(pgError('57P01', 'terminating connection due to administrator command'));
    const waiting = await Promise.allSettled([outage.admit(), outage.admit(), outage.admit()]);
    expect(waiting.map((w) => w.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(probes).toBe(1);
    await expect(outage.admit()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect(probes).toBe(1);

    const soon = new Outage(async () => {
      probes++;
      if (!answer) throw new DatabaseUnavailableError('no answer');
    }, 0);
    soon.report(pgError('ECONNRESET'));
    await expect(soon.admit()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    answer = true;
    await soon.admit();
    expect(soon.isDown).toBe(false);
  });
});
