import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/count.js';

describe('formatCount', () => {
  it('groups thousands with commas, as en-US does', () => {
    for (const n of [0, 7, 999, 1000, 12_345, 253_158, 1_048_575, 2_531_580, 1_000_000_000]) {
      expect(formatCount(n), String(n)).toBe(n.toLocaleString('en-US'));
    }
    expect(formatCount(1_234_567)).toBe('1,234,567');
  });
  it('leaves a fraction ungrouped and a negative sign in front', () => {
    expect(formatCount(1234.5)).toBe('1,234.5');
    expect(formatCount(-1234)).toBe('-1,234');
  });
});
