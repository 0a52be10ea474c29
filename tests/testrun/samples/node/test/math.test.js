const test = require('node:test');
const assert = require('node:assert');
const { add } = require('../src/math');

test('adds small numbers', () => {
  assert.strictEqual(add(1, 2), 3);
});
