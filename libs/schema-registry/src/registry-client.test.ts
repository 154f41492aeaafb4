// The registry client against small HTTP(S) servers on 127.0.0.1 that answer as the Confluent-compatible API does:
// what it sends (basic auth, content type, the schema as a string), how it reads answers and failures, TLS with a CA.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SchemaRegistryConfig } from '@stinger/config';
import { SchemaIncompatibleError, SchemaRegistryError } from './errors.ts';
import { createSchemaRegistryClient } from './registry-client.ts';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
const servers: Server[] = [];
const dir = mkdtempSync(join(tmpdir(), 'registry-client-test-'));
after(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const withBody = (handler: Handler) => (req: IncomingMessage, res: ServerResponse) => {
  let body = '';
  req.on('data', (chunk: Buffer) => (body += chunk.toString()));
  req.on('end', () => handler(req, body, res));
};

const json = (res: ServerResponse, status: number, value: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify(value));
};

const config = (url: string, extra: Partial<SchemaRegistryConfig> = {}): SchemaRegistryConfig => ({ url, basicAuth: null, tls: null, timeoutMs: 2000, ...extra });
const schema = { type: 'record', name: 'Event', namespace: 'io.stinger.v1', fields: [] };

test('basic auth is sent; registration posts the schema as a string and reads the id; a wrong password names the variables', async () => {
  const seen: { authorization?: string; contentType?: string; body?: unknown }[] = [];
  const port = await listen(
    createHttpServer(
      withBody((req, body, res) => {
        seen.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'], body: body === '' ? undefined : JSON.parse(body) });
        if (req.headers.authorization !== `Basic ${Buffer.from('stinger:s3cret').toString('base64')}`) return json(res, 401, { error_code: 401, message: 'Unauthorized' });
        if (req.method === 'POST' && req.url === '/api/subjects/stinger.events-value/versions') return json(res, 200, { id: 7 });
        if (req.method === 'PUT' && req.url === '/api/config/stinger.events-value') return json(res, 200, { compatibility: 'BACKWARD' });
        return json(res, 404, { error_code: 40401, message: 'not found' });
      }),
    ),
  );
  const client = createSchemaRegistryClient(config(`http://127.0.0.1:${port}/api`, { basicAuth: { username: 'stinger', password: 's3cret' } }));
  await client.setCompatibility('stinger.events-value', 'BACKWARD');
  assert.equal(await client.registerSchema('stinger.events-value', schema), 7);
  assert.equal(seen[1]?.contentType, 'application/vnd.schemaregistry.v1+json');
  assert.deepEqual(seen[1]?.body, { schema: JSON.stringify(schema), schemaType: 'AVRO' });
  const wrong = createSchemaRegistryClient(config(`http://127.0.0.1:${port}/api`, { basicAuth: { username: 'stinger', password: 'nope' } }));
  await assert.rejects(wrong.registerSchema('stinger.events-value', schema), (error: unknown) => {
    assert.ok(error instanceof SchemaRegistryError);
    assert.equal(error.status, 401);
    assert.equal(error.retriable, false);
    assert.match(error.message, /HTTP 401: Unauthorized \(check STINGER_SCHEMA_REGISTRY_USERNAME and _PASSWORD\)/);
    return true;
  });
});

test('409 is SchemaIncompatibleError in one line; 5xx is retriable; an unknown id is null; no answer times out', async () => {
  const port = await listen(
    createHttpServer(
      withBody((req, _body, res) => {
        if (req.url?.endsWith('/versions')) return json(res, 409, { error_code: 409, message: 'Incompatible artifact:\n  b at /fields/1' });
        if (req.url === '/schemas/ids/404') return json(res, 404, { error_code: 40403, message: 'Schema not found' });
        if (req.url === '/schemas/ids/5') return json(res, 200, { schema: JSON.stringify(schema) });
        if (req.url === '/subjects') return json(res, 503, { message: 'storage not ready' });
        // /schemas/ids/9: never answered.
      }),
    ),
  );
  const client = createSchemaRegistryClient(config(`http://127.0.0.1:${port}`, { timeoutMs: 300 }));
  await assert.rejects(client.registerSchema('t-value', schema), (error: unknown) => {
    assert.ok(error instanceof SchemaIncompatibleError);
    assert.equal(error.message, 'schema registry refused io.stinger.v1.Event for subject t-value: Incompatible artifact: b at /fields/1');
    assert.equal(error.subject, 't-value');
    return true;
  });
  await assert.rejects(client.subjects(), (error: unknown) => error instanceof SchemaRegistryError && error.retriable && error.status === 503);
  assert.equal(await client.schemaById(404), null);
  assert.deepEqual(await client.schemaById(5), schema);
  await assert.rejects(client.schemaById(9), (error: unknown) => error instanceof SchemaRegistryError && error.retriable && /STINGER_SCHEMA_REGISTRY_TIMEOUT_MS/.test(error.message));
});

test('https: the registry certificate is verified against the CA file; without it the connection is refused', async () => {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const port = await listen(createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => json(res, 200, ['stinger.events-value'])));
  const trusted = createSchemaRegistryClient(config(`https://127.0.0.1:${port}`, { tls: { ca: readFileSync(cert, 'utf8'), cert: null, key: null } }));
  assert.deepEqual(await trusted.subjects(), ['stinger.events-value']);
  const untrusted = createSchemaRegistryClient(config(`https://127.0.0.1:${port}`, { tls: { ca: null, cert: null, key: null } }));
  await assert.rejects(untrusted.subjects(), (error: unknown) => error instanceof SchemaRegistryError && error.status === null && /self-signed|certificate/i.test(error.message));
});
