// @vitest-environment happy-dom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { createElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { WriteDialog, type WriteDialogProps } from '../../web/src/components/write-dialog.js';
import { inputKind, parseInput } from '../../web/src/components/validate.js';

const current = (value: unknown) =>
  ({
    name: 'X',
    value,
    quality: 'GOOD',
    qualityCode: 192,
    subStatus: 'NON_SPECIFIC',
    timestamp: '2026-01-01T00:00:00.000Z',
    stale: false,
  }) as never;

function open(tag: WriteDialogProps['tag'], value: unknown, write: (v: unknown) => Promise<unknown> = async () => undefined) {
  const calls: unknown[] = [];
  let closed = false;
  render(
    createElement(WriteDialog, {
      tag,
      current: current(value),
      write: (v) => {
        calls.push(v);
        return write(v);
      },
      onClose: () => {
        closed = true;
      },
    }),
  );
  return { calls, closed: () => closed };
}

const type = (text: string) => fireEvent.change(screen.getByLabelText('Value'), { target: { value: text } });
const review = () => screen.getByRole('button', { name: 'Review' });

describe('write dialog: type-aware input and validation', () => {
  afterEach(cleanup);

  it('chooses the input by type', () => {
    expect(['Bool', 'Int16', 'Float64', 'Int64', 'UInt64', 'String', 'DateTime'].map(inputKind)).toEqual([
      'switch',
      'number',
      'number',
      'integer-text',
      'integer-text',
      'text',
      'datetime',
    ]);
  });

  it('applies the server’s rules: integer ranges, no fractions for integers, min/max, no hex or empty input', () => {
    expect(parseInput('Int8', '127')).toEqual({ ok: true, value: 127 });
    expect(parseInput('Int8', '128')).toMatchObject({ ok: false, message: expect.stringMatching(/Int8|range|127/) });
    expect(parseInput('UInt16', '-1')).toMatchObject({ ok: false });
    expect(parseInput('Int32', '1.5')).toMatchObject({ ok: false });
    expect(parseInput('Float64', '0x10')).toMatchObject({ ok: false, message: "'0x10' is not a number" });
    expect(parseInput('Float64', '')).toMatchObject({ ok: false, message: 'Enter a number' });
    expect(parseInput('Float64', '1e3')).toEqual({ ok: true, value: 1000 });
    expect(parseInput('Float64', '11', { min: 0, max: 10 })).toMatchObject({ ok: false, message: expect.stringContaining('10') });
    expect(parseInput('Float32', '1e39')).toMatchObject({ ok: false });
  });

  it('keeps 64-bit integers exact as decimal strings', () => {
    expect(parseInput('UInt64', '18446744073709551615')).toEqual({ ok: true, value: '18446744073709551615' });
    expect(parseInput('UInt64', '18446744073709551616')).toMatchObject({ ok: false });
    expect(parseInput('Int64', '-9223372036854775808')).toEqual({ ok: true, value: '-9223372036854775808' });
    expect(parseInput('Int64', '12.0')).toMatchObject({ ok: false });
  });

  it('sends Bool as a boolean, DateTime as ISO 8601 UTC, String as typed', () => {
    expect(parseInput('Bool', true)).toEqual({ ok: true, value: true });
    expect(parseInput('DateTime', '2026-03-01T12:00:00Z')).toEqual({ ok: true, value: '2026-03-01T12:00:00.000Z' });
    expect(parseInput('DateTime', 'tomorrow')).toMatchObject({ ok: false });
    expect(parseInput('String', ' a b ')).toEqual({ ok: true, value: ' a b ' });
  });

  it('disables Review while the value is invalid and shows why; confirms old → new before writing', async () => {
    const d = open({ name: 'T.Limited', type: 'Float64', unit: 'bar', min: 0, max: 10 }, 5);
    type('12');
    expect(review()).toHaveProperty('disabled', true);
    expect(screen.getByText(/above the maximum 10/)).toBeTruthy();
    type('7.5');
    expect(review()).toHaveProperty('disabled', false);
    fireEvent.click(review());
    expect(document.querySelector('.change')?.textContent).toBe('5 → 7.5 bar');
    expect(d.calls).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    await screen.findByRole('dialog');
    await new Promise((r) => setTimeout(r, 0));
    expect(d.calls).toEqual([7.5]);
    expect(d.closed()).toBe(true);
  });

  it('offers a switch for Bool', () => {
    const d = open({ name: 'T.Bool', type: 'Bool' }, false);
    const sw = screen.getByRole('switch', { name: 'Value' });
    fireEvent.click(sw);
    fireEvent.click(review());
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect(d.calls).toEqual([true]);
  });

  it('shows the server’s problem detail when the write is refused, and stays open', async () => {
    const d = open({ name: 'Line1.Recipe.Name', type: 'String' }, 'a', async () => {
      throw new Error('String: the string is 70 characters long; at most 64 are allowed');
    });
    type('x'.repeat(70));
    fireEvent.click(review());
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    expect((await screen.findByRole('alert')).textContent).toContain('at most 64 are allowed');
    expect(d.closed()).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(d.closed()).toBe(true);
  });
});
