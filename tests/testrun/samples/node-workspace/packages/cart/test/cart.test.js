import { test } from 'node:test';
import assert from 'node:assert';
import { total } from '../index.js';

test('adds the tax to the total', () => {
  assert.strictEqual(total([100, 400]), '600 cents');
});
