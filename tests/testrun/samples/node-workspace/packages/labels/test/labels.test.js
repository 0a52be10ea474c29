const { test } = require('node:test');
const assert = require('node:assert');
const { label } = require('labels');

test('labels cents', () => {
  assert.strictEqual(label(5), '5 cents');
});
