const { test } = require('node:test');
const assert = require('node:assert');

test('runs in the time zone the test script sets', () => {
  assert.strictEqual(new Date(0).getHours(), 9);
});
