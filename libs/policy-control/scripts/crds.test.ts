import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyCrdFiles } from '../src/crds.ts';
import { staleCrdFiles } from './crds.ts';

test('staleCrdFiles names missing, changed and extra files, and nothing once the files are current', () => {
  const dir = mkdtempSync(join(tmpdir(), 'crds-'));
  const [first, second] = policyCrdFiles();
  assert.equal(staleCrdFiles(dir).length, 2, 'both missing');
  writeFileSync(join(dir, first!.name), first!.text);
  writeFileSync(join(dir, second!.name), `${second!.text}# edited by hand\n`);
  writeFileSync(join(dir, 'old.stinger.io.yaml'), 'kind: CustomResourceDefinition\n');
  assert.deepEqual(
    staleCrdFiles(dir).map((path) => path.split('/').pop()),
    [second!.name, 'old.stinger.io.yaml'],
  );
  writeFileSync(join(dir, second!.name), second!.text);
  assert.equal(staleCrdFiles(dir).length, 1, 'only the extra file is left');
});

