import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_GROUP, ADMIN_USER, ensureCertificates, renderOpensslConfig } from './certificates.ts';

test('openssl configs: the CA may sign, the serving cert names loopback and in-cluster names, the client cert carries its group', () => {
  const ca = renderOpensslConfig({ profile: 'ca', commonName: 'ca' });
  assert.match(ca, /basicConstraints = critical, CA:TRUE/);
  const serving = renderOpensslConfig({ profile: 'serving', commonName: 'kube-apiserver' });
  assert.match(serving, /extendedKeyUsage = serverAuth/);
  assert.match(serving, /subjectAltName = .*IP:127\.0\.0\.1/);
  assert.match(serving, /subjectAltName = .*DNS:kubernetes\.default\.svc(,|$)/m);
  const client = renderOpensslConfig({ profile: 'client', commonName: 'u', organization: 'g' });
  assert.match(client, /extendedKeyUsage = clientAuth/);
  assert.match(client, /^O = g$/m);
  assert.match(client, /^CN = u$/m);
});

test('ensureCertificates makes a CA-signed PKI with openssl and reuses it on the next call', async () => {
  const pkiDir = await mkdtemp(join(tmpdir(), 'stinger-dev-cluster-pki-'));
  try {
    const paths = await ensureCertificates({ pkiDir });
    const ca = new X509Certificate(await readFile(paths.caCert));
    const serving = new X509Certificate(await readFile(paths.servingCert));
    const admin = new X509Certificate(await readFile(paths.adminCert));
    assert.equal(ca.ca, true);
    assert.ok(serving.verify(ca.publicKey) && serving.checkIssued(ca), 'serving cert signed by the CA');
    assert.ok(admin.verify(ca.publicKey) && admin.checkIssued(ca), 'admin cert signed by the CA');
    assert.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(serving.checkHost('kubernetes.default.svc'), 'kubernetes.default.svc');
    assert.match(admin.subject, new RegExp(`CN=${ADMIN_USER}`));
    assert.match(admin.subject, new RegExp(`O=${ADMIN_GROUP}`));
    assert.ok(admin.checkPrivateKey(createPrivateKey(await readFile(paths.adminKey))), 'admin key matches its certificate');
    const saPublic = createPublicKey(await readFile(paths.serviceAccountPublicKey));
    assert.deepEqual(
      createPublicKey(createPrivateKey(await readFile(paths.serviceAccountKey))).export({ format: 'jwk' }),
      saPublic.export({ format: 'jwk' }),
      'sa.pub is the public half of sa.key',
    );

    const before = await readFile(paths.adminCert, 'utf8');
    await ensureCertificates({ pkiDir });
    assert.equal(await readFile(paths.adminCert, 'utf8'), before, 'an existing PKI is reused');
  } finally {
    await rm(pkiDir, { recursive: true, force: true });
  }
});
