#!/usr/bin/env -S node --disable-warning=TimeoutNegativeWarning
// The `stinger` command. npm and npx put node_modules/.bin first on PATH, where the workspace's
// Node.js 24 lives; refuse clearly if an older Node runs this file directly. The warning switched off
// is kafkajs 2.2.4 passing a negative delay to setTimeout on Node 24 (kafkajs issue 1751; harmless).
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `stinger: needs Node.js 24 or newer, this is ${process.version}; run it as \`npx stinger\` from the repository (npm installs Node 24 with the workspace)\n`,
  );
  process.exit(1);
}
await import('../src/main.ts');
