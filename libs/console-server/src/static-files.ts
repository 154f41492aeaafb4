/**
 * The page: the built front end's files from one directory (services/console/web/dist), index.html for `/` and for
 * any path without a file extension (the page's own routes), and a plain page saying the front end is not built
 * when it is not. Never a file outside the directory.
 */
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stinger console</title></head>
<body><h1>Stinger console</h1><p>The front end is not built. Build it with <code>npm run -w @stinger/console-web build</code>; the API answers under <code>/api/v1/</code>.</p></body></html>
`;

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** Answers a GET for `pathname` from `webDir`. */
export async function serveStatic(response: ServerResponse, webDir: string, pathname: string): Promise<void> {
  const root = normalize(webDir + sep);
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    relative = '\0';
  }
  const candidate = normalize(join(root, relative));
  const index = join(root, 'index.html');
  let file: string | null = null;
  if (candidate.startsWith(root) && !relative.includes('\0') && (await isFile(candidate))) file = candidate;
  else if (extname(relative) === '' && (await isFile(index))) file = index;
  if (file === null) {
    if (relative === '/' || extname(relative) === '') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(NOT_BUILT_PAGE);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('not found\n');
    }
    return;
  }
  const body = await readFile(file);
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    // index.html names the bundles; it must be re-read after a rebuild.
    'cache-control': file === index ? 'no-store' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  response.end(body);
}
