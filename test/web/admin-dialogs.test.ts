// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { TagwayApiError } from '../../client/src/index.js';
import { ConfirmDialog } from '../../web/src/components/confirm-dialog.js';
import { GroupPicker } from '../../web/src/components/group-picker.js';

describe('administration dialogs (happy-dom)', () => {
  afterEach(cleanup);

  function confirm(onConfirm: () => Promise<unknown>) {
    let closed = 0;
    render(
      createElement(ConfirmDialog, {
        title: 'Delete line1',
        message: 'Delete line1? This cannot be undone.',
        confirmLabel: 'Delete',
        onConfirm,
        onClose: () => {
          closed++;
        },
      }),
    );
    return { closed: () => closed };
  }

  it('shows the server’s problem detail on a refusal and stays open', async () => {
    const d = confirm(async () => {
      throw new TagwayApiError(
        409,
        { code: 'CONFLICT', detail: "Group 'line1' still has members: lena" },
        'DELETE /groups/line1 answered 409',
      );
    });
    expect(screen.getByRole('dialog', { name: 'Delete line1' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe("Group 'line1' still has members: lena"));
    expect(d.closed()).toBe(0);
    // It can be tried again (the button is enabled after the refusal).
    expect((screen.getByRole('button', { name: 'Delete' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('closes after the deed, and Escape or Cancel close without it', async () => {
    let done = 0;
    const d = confirm(async () => {
      done++;
    });
    fireEvent.click(screen.getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(d.closed()).toBe(1));
    expect(done).toBe(1);
    cleanup();
    const e = confirm(async () => {
      done++;
    });
    fireEvent.keyDown(document, { key: 'Escape' });
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(e.closed()).toBe(2);
    expect(done).toBe(1);
  });

  it('picks groups by checkbox and keeps a membership of a group that no longer exists visible', () => {
    const seen: string[][] = [];
    render(createElement(GroupPicker, { all: ['operators', 'viewers'], value: ['gone'], onChange: (g: string[]) => seen.push(g) }));
    expect(screen.getAllByRole('checkbox').map((c) => c.parentElement?.textContent)).toEqual(['gone', 'operators', 'viewers']);
    fireEvent.click(screen.getByRole('checkbox', { name: 'viewers' }));
    expect(seen.at(-1)).toEqual(['gone', 'viewers']);
    fireEvent.click(screen.getByRole('checkbox', { name: 'gone' }));
    expect(seen.at(-1)).toEqual([]);
  });
});
