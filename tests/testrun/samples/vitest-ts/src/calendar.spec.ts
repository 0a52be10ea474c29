import { describe, expect, it } from 'vitest';
import { hourOf } from './calendar';

describe('hourOf', () => {
  it('reads the hour in the time zone the test script sets', () => {
    expect(hourOf(new Date(0))).toBe(9);
  });
});
