// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createElement, useState } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { grantScopeProblem } from '../../src/domain/permissions.js';
import { MESSAGES } from '../../web/src/i18n.js';
import {
  auditCsvQuery,
  auditQuery,
  fill,
  grantProblems,
  grantsOf,
  grantsValid,
  groupNameProblem,
  PERMISSIONS,
  rowsOf,
  usernameProblem,
  type GrantRow,
} from '../../web/src/pages/admin/forms.js';
import { GrantEditor } from '../../web/src/pages/admin/grant-editor.js';

const t = MESSAGES.en;

describe('administration form rules (web/src/pages/admin/forms.ts)', () => {
  it('refuses a tag scope exactly where the server does', () => {
    for (const permission of PERMISSIONS) {
      const server = grantScopeProblem({ permission, tags: 'Line1.**' });
      const page = grantProblems([{ permission, tags: 'Line1.**' }], t).rows[0];
      expect(page === undefined, permission).toBe(server === undefined);
      // Without a scope every permission is fine.
      expect(grantProblems([{ permission, tags: '' }], t).rows[0], permission).toBeUndefined();
    }
  });

  it('checks a scope with the domain glob compiler and finds repeated grants', () => {
    const p = grantProblems(
      [
        { permission: 'tags:read', tags: `${'*.'.repeat(17)}Speed` },
        { permission: 'tags:write', tags: 'Line1.**' },
        { permission: 'tags:write', tags: ' Line1.** ' },
        { permission: 'tags:read', tags: 'x'.repeat(257) },
      ],
      t,
    );
    expect(p.rows[0]).toMatch(/^Not a valid tag glob: .*at most 16 are allowed/);
    expect(p.rows[1]).toBeUndefined();
    expect(p.rows[2]).toBe(t.adminDuplicateGrant);
    expect(p.rows[3]).toMatch(/^Not a valid tag glob/);
    expect(grantsValid([{ permission: 'tags:read', tags: 'Line1.**' }], t)).toBe(true);
    const many = Array.from({ length: 257 }, (_, i): GrantRow => ({ permission: 'tags:read', tags: `T${i}.*` }));
    expect(grantProblems(many, t).list).toBe(t.adminTooManyGrants);
  });

  it('sends an empty scope as no scope, trimmed, and reads grants back into rows', () => {
    const rows: GrantRow[] = [
      { permission: 'users:admin', tags: '  ' },
      { permission: 'history:read', tags: ' Tank1.* ' },
    ];
    expect(grantsOf(rows)).toEqual([{ permission: 'users:admin' }, { permission: 'history:read', tags: 'Tank1.*' }]);
    expect(rowsOf(grantsOf(rows))).toEqual([
      { permission: 'users:admin', tags: '' },
      { permission: 'history:read', tags: 'Tank1.*' },
    ]);
  });

  it('holds user and group names to the API patterns', () => {
    expect(usernameProblem('lena.m@plant-1', t)).toBeUndefined();
    expect(usernameProblem('lena m', t)).toBe(t.adminUsernameRule);
    expect(usernameProblem('x'.repeat(65), t)).toBe(t.adminUsernameRule);
    expect(groupNameProblem('line1.shift-a', t)).toBeUndefined();
    expect(groupNameProblem('1line', t)).toBe(t.adminGroupNameRule);
    expect(groupNameProblem('', t)).toBe(t.adminGroupNameRule);
  });

  it('turns the audit form into the API query, refusing a range that ends before it starts', () => {
    const q = auditQuery(
      {
        from: '2026-06-01T08:00',
        to: '2026-06-01T09:00',
        user: ' lena ',
        action: 'auth.login, tag.write,,auth.login',
        tag: ' Line1/Filler Speed ',
        order: 'asc',
      },
      t,
    );
    expect(q).toEqual({
      ok: true,
      params: {
        limit: 50,
        from: new Date('2026-06-01T08:00').toISOString(),
        to: new Date('2026-06-01T09:00').toISOString(),
        user: 'lena',
        action: 'auth.login,tag.write',
        tag: 'Line1/Filler Speed',
        order: 'asc',
      },
    });
    expect(auditQuery({ from: '2026-06-01T09:00', to: '2026-06-01T09:00', user: '', action: '', tag: '', order: 'desc' }, t)).toEqual({
      ok: false,
      message: t.adminRangeInvalid,
    });
    expect(auditQuery({ from: 'soon', to: '', user: '', action: '', tag: '', order: 'desc' }, t).ok).toBe(false);
    expect(auditQuery({ from: '', to: '', user: '', action: '', tag: '', order: 'desc' }, t)).toEqual({ ok: true, params: { limit: 50 } });
  });

  it('downloads the filter, not the page: no cursor, the largest page size', () => {
    expect(auditCsvQuery({ user: 'lena', limit: 50, cursor: 'abc', order: 'asc' })).toEqual({ user: 'lena', order: 'asc', limit: 10_000 });
    expect(auditCsvQuery({ tag: 'A "B" %_\\', limit: 50, cursor: 'abc' })).toEqual({ tag: 'A "B" %_\\', limit: 10_000 });
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(fill('Delete {name}? {x}', { name: 'lena' })).toBe('Delete lena? {x}');
  });
});

describe('GrantEditor (happy-dom)', () => {
  afterEach(cleanup);

  function Harness(props: { initial: GrantRow[]; seen: GrantRow[][] }) {
    const [rows, setRows] = useState(props.initial);
    return createElement(GrantEditor, {
      rows,
      onChange: (r: GrantRow[]) => {
        props.seen.push(r);
        setRows(r);
      },
    });
  }

  it('offers every permission, disables the scope where it means nothing, and explains a wrong one', () => {
    const seen: GrantRow[][] = [];
    render(createElement(Harness, { initial: [{ permission: 'tags:read', tags: 'Line1.**' }], seen }));
    const select = screen.getByLabelText('Permission') as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual([...PERMISSIONS]);
    const scope = screen.getByLabelText('Tag scope (glob)') as HTMLInputElement;
    expect(scope.disabled).toBe(false);

    // Switching to a permission that is not about tags keeps the typed scope (to be removed) and says why it is wrong.
    fireEvent.change(select, { target: { value: 'audit:read' } });
    expect(screen.getByText('audit:read is not about tags: leave the scope empty')).toBeTruthy();
    expect(scope.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(scope, { target: { value: '' } });
    expect(screen.queryByText(/is not about tags/)).toBeNull();
    expect((screen.getByLabelText('Tag scope (glob)') as HTMLInputElement).disabled).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: 'Add grant' }));
    expect(screen.getAllByLabelText('Permission')).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: 'Remove grant 1' }));
    expect(seen.at(-1)).toEqual([{ permission: 'tags:read', tags: '' }]);
    fireEvent.click(screen.getByRole('button', { name: 'Remove grant 1' }));
    expect(screen.getByText(t.adminNoGrants)).toBeTruthy();
  });
});
