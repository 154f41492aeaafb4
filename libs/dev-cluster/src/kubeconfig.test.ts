import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { renderKubeconfig } from './kubeconfig.ts';

const CA = '-----BEGIN CERTIFICATE-----\nY2E=\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nY2VydA==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n';

test('the kubeconfig is valid YAML whose current context reaches the server with the embedded CA and client certificate', () => {
  const config = parse(renderKubeconfig({ server: 'https://127.0.0.1:6443', caCertPem: CA, clientCertPem: CERT, clientKeyPem: KEY })) as {
    apiVersion: string;
    kind: string;
    'current-context': string;
    contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
    clusters: Array<{ name: string; cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ name: string; user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  };
  assert.equal(config.apiVersion, 'v1');
  assert.equal(config.kind, 'Config');
  const context = config.contexts.find((entry) => entry.name === config['current-context']);
  assert.ok(context, 'current-context names a context');
  const cluster = config.clusters.find((entry) => entry.name === context.context.cluster);
  const user = config.users.find((entry) => entry.name === context.context.user);
  assert.ok(cluster && user, 'the context names a defined cluster and user');
  const decode = (data: string): string => Buffer.from(data, 'base64').toString('utf8');
  assert.equal(cluster.cluster.server, 'https://127.0.0.1:6443');
  assert.equal(decode(cluster.cluster['certificate-authority-data']), CA);
  assert.equal(decode(user.user['client-certificate-data']), CERT);
  assert.equal(decode(user.user['client-key-data']), KEY);
});
