/**
 * Finding 18 (issue 11): the three CSV outputs (history, alarm archive, audit) write cells with one escaper that
 * neutralises formulas hidden behind whitespace, BOM, zero-width or full-width characters; numbers stay numbers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const ALARM_TEXT = '\u3000=HYPERLINK("http://x")';
const PROJECT = `
name: CSV test
connections:
  - { name: internal, driver: internal }
tags:
  - { name: C.Text, type: String, access: readwrite, connection: internal, history: { mode: onChange } }
  - { name: C.Flag, type: Bool, access: readwrite, connection: internal, initial: false }
alarms:
  - { name: C.Alarm, number: 1, class: Alarm, priority: 5, tag: C.Flag, text: ${JSON.stringify(ALARM_TEXT)} }
`;

/** Cells of a CSV line without quoted commas or line breaks. */
const cells = (line: string) => line.split(',');

describe('one CSV writer for history, alarm archive and audit', () => {
  let s: TestServer;
  let admin: string;

  beforeAll(async () => {
    s = await startTestServer({ projectYaml: PROJECT, config: { sqliteSynchronous: 'NORMAL' } });
    admin = await s.login();
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('history: a formula behind a BOM is defused', async () => {
    const from = new Date(Date.now() - 1000).toISOString();
    expect((await s.request('PUT', '/tags/C.Text/value', { token: admin, body: { value: '\ufeff=1+1' } })).status).toBe(200);
    const r = await s.request('GET', `/tags/C.Text/history?from=${from}&format=csv`, { token: admin });
    expect(r.status).toBe(200);
    const rows = r.text.split('\r\n').slice(1, -1).map(cells);
    expect(rows.at(-1)![1]).toBe("'\ufeff=1+1");
    expect(rows.at(-1)![3]).toBe('192');
  });

  it('alarm archive: a formula behind an ideographic space in the alarm text is defused; numbers are not', async () => {
    expect((await s.request('PUT', '/tags/C.Flag/value', { token: admin, body: { value: true } })).status).toBe(200);
    let text = '';
    for (let i = 0; i < 50 && !text.includes('RAISED'); i++) {
      text = (await s.request('GET', '/alarms/archive?format=csv&order=asc', { token: admin })).text;
      if (!text.includes('RAISED')) await new Promise((r) => setTimeout(r, 100));
    }
    const [header, first] = text.split('\r\n');
    expect(header).toBe('eventId,id,alarm,number,class,priority,event,at,state,text,tag,value,user');
    expect(first).toContain(`"'\u3000=HYPERLINK(""http://x"")"`);
    expect(cells(first!).slice(0, 4)).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/), 'C.Alarm', '1']);
  });

  it('audit: a formula behind a zero-width space in a user name is defused; ids are numbers', async () => {
    const evil = '\u200b@SUM(1+1)';
    expect((await s.request('POST', '/auth/login', { body: { username: evil, password: 'wrong-password' } })).status).toBe(401);
    const r = await s.request('GET', '/audit?format=csv&action=auth.login_failed', { token: admin });
    expect(r.status).toBe(200);
    const row = r.text.split('\r\n')[1]!;
    const [id, , action, user] = cells(row);
    expect(id).toMatch(/^\d+$/);
    expect(action).toBe('auth.login_failed');
    expect(user).toBe(`'${evil}`);
  });
});
