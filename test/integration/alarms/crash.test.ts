import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLegal } from '../../../src/domain/alarms/state-machine.js';
import { AlarmJournal } from '../../../src/storage/sqlite/alarm-journal.js';
import { openDatabase } from '../../../src/storage/sqlite/database.js';
import { replay } from '../../../src/domain/alarms/state-machine.js';

const dir = mkdtempSync(join(tmpdir(), 'tagway-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('alarm journal under kill -9', () => {
  it('loses no event that was published before the process died', async () => {
    const file = join(dir, 'alarms.db');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/alarm-crash-child.ts', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const published: number[] = [];
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code} ${signal}`))));
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) published.push(Number(l));
        if (published.length >= 250 && !child.killed) child.kill('SIGKILL');
      });
    });
    expect(published.length).toBeGreaterThanOrEqual(250);

    const db = openDatabase(file);
    try {
      const j = new AlarmJournal(db);
      const stored = new Set(j.since(0, 1_000_000).map((e) => e.eventId));
      const missing = published.filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
      // The open occurrences rebuild into legal states.
      for (const o of j.loadOpen()) {
        const st = replay(
          o.stateMachine,
          o.events.map((e) => e.event),
        )!;
        expect(isLegal(o.stateMachine, st)).toBe(true);
        expect(st.closed).toBe(false);
      }
    } finally {
      db.close();
    }
  });
});
