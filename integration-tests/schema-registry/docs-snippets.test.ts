/**
 * docs/topics.md shows the downstream readers the registry tests run (docs/examples/consume): each block that says
 * it is included from a file must be that file, byte for byte, so the documentation is the tested code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const topics = readFileSync(`${root}docs/topics.md`, 'utf8');
const INCLUDE = /<!-- included from (\S+); a test keeps the two the same -->\n```\w+\n([\s\S]*?)```\n/g;

test('docs/topics.md includes the Java, Python and Go readers as they are', () => {
  const included = [...topics.matchAll(INCLUDE)].map((match) => ({ path: match[1] ?? '', text: match[2] ?? '' }));
  assert.deepEqual(
    included.map((block) => block.path),
    ['docs/examples/consume/java/StingerTopicReader.java', 'docs/examples/consume/python/stinger_topic_reader.py', 'docs/examples/consume/go/main.go'],
  );
  for (const block of included) assert.equal(block.text, readFileSync(`${root}${block.path}`, 'utf8'), `${block.path} differs from its copy in docs/topics.md`);
});
