import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderEtcdFlags, renderKubeApiserverFlags } from './flags.ts';

function flagMap(flags: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const flag of flags) {
    const match = /^--([a-z0-9-]+)=(.*)$/.exec(flag);
    assert.ok(match, `${flag} is --name=value`);
    assert.ok(!map.has(match[1] ?? ''), `--${match[1]} given once`);
    map.set(match[1] ?? '', match[2] ?? '');
  }
  return map;
}

test('etcd is one member listening on loopback only, with its data in the given dir', () => {
  const flags = flagMap(renderEtcdFlags({ dataDir: '/s/etcd', clientPort: 4001, peerPort: 4002 }));
  assert.equal(flags.get('data-dir'), '/s/etcd');
  assert.equal(flags.get('listen-client-urls'), 'http://127.0.0.1:4001');
  assert.equal(flags.get('advertise-client-urls'), 'http://127.0.0.1:4001');
  assert.equal(flags.get('listen-peer-urls'), 'http://127.0.0.1:4002');
  assert.equal(flags.get('initial-cluster'), `${flags.get('name')}=http://127.0.0.1:4002`);
});

test('kube-apiserver talks to the etcd port, serves TLS on loopback with the dev PKI and the flags this release needs', () => {
  const flags = flagMap(
    renderKubeApiserverFlags({
      etcdClientPort: 4001,
      securePort: 6443,
      caCert: '/p/ca.crt',
      servingCert: '/p/apiserver.crt',
      servingKey: '/p/apiserver.key',
      serviceAccountKey: '/p/sa.key',
      serviceAccountPublicKey: '/p/sa.pub',
    }),
  );
  assert.equal(flags.get('etcd-servers'), 'http://127.0.0.1:4001');
  assert.equal(flags.get('secure-port'), '6443');
  assert.equal(flags.get('bind-address'), '127.0.0.1');
  assert.equal(flags.get('advertise-address'), '127.0.0.1');
  assert.equal(flags.get('tls-cert-file'), '/p/apiserver.crt');
  assert.equal(flags.get('tls-private-key-file'), '/p/apiserver.key');
  assert.equal(flags.get('client-ca-file'), '/p/ca.crt');
  assert.equal(flags.get('service-account-key-file'), '/p/sa.pub');
  assert.equal(flags.get('service-account-signing-key-file'), '/p/sa.key');
  assert.equal(flags.get('service-account-issuer'), 'https://kubernetes.default.svc');
  assert.equal(flags.get('authorization-mode'), 'RBAC');
  assert.equal(flags.get('service-cluster-ip-range'), '10.96.0.0/12');
  assert.equal(flags.get('disable-admission-plugins'), 'ServiceAccount');
  assert.equal(flags.get('endpoint-reconciler-type'), 'none', 'a loopback advertise address is refused by the reconciler');
});
