import { describe, expect, it } from 'vitest';
import { formatText } from '../../../../src/domain/alarms/text.js';

describe('alarm text placeholders', () => {
  it('fills value, unit, tag and limit', () => {
    expect(
      formatText('Tank 1 level high: {value} {unit} (limit {limit}) on {tag}', { value: 91.5, unit: '%', tag: 'Tank1.Level', limit: 90 }),
    ).toBe('Tank 1 level high: 91.5 % (limit 90) on Tank1.Level');
  });
  it('rounds with {value:N} and trims float noise by default', () => {
    expect(formatText('{value:1}', { value: 3.14159, tag: 'x' })).toBe('3.1');
    expect(formatText('{value}', { value: 0.1 + 0.2, tag: 'x' })).toBe('0.3');
  });
  it('leaves unknown placeholders and missing values visible or empty', () => {
    expect(formatText('{oops} {limit}{unit}', { value: true, tag: 'x' })).toBe('{oops} ');
    expect(formatText('{value}', { value: true, tag: 'x' })).toBe('true');
  });
});
