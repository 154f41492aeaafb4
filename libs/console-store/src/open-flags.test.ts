import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFlagNames } from './open-flags.ts';

test('open flags by name, access mode first, as strace writes them', () => {
  assert.equal(openFlagNames('open', 0), 'O_RDONLY');
  assert.equal(openFlagNames('open', 0o2000000), 'O_RDONLY|O_CLOEXEC');
  assert.equal(openFlagNames('open', 0o1 | 0o100 | 0o1000), 'O_WRONLY|O_CREAT|O_TRUNC');
  assert.equal(openFlagNames('open', 0o2 | 0o2000), 'O_RDWR|O_APPEND');
  assert.equal(openFlagNames('open', 0o10000000 | 0o2000000), 'O_RDONLY|O_CLOEXEC|O_PATH');
});

test('multi-bit flags are named once; unknown bits are kept in octal', () => {
  assert.equal(openFlagNames('open', 0o2 | 0o20200000), 'O_RDWR|O_TMPFILE');
  assert.equal(openFlagNames('open', 0o4010000), 'O_RDONLY|O_SYNC');
  assert.equal(openFlagNames('open', 0o200000), 'O_RDONLY|O_DIRECTORY');
  assert.equal(openFlagNames('open', 0o40000000), 'O_RDONLY|040000000');
});

test('other operations: their flags as hex, none as empty', () => {
  assert.equal(openFlagNames('unlink', 0), '');
  assert.equal(openFlagNames('rename', 1), '0x1');
});
