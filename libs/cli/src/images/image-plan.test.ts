import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  debianPackagesOfArchives,
  formatDebianPackages,
  hashParts,
  isDebianSourcesFile,
  isWorkspaceLayerFile,
  layerTarArgs,
  modulesInputFilter,
  parseDebianPackageList,
  rfc3339,
  serviceImage,
  sourceDateEpoch,
  umociConfigArgs,
} from './image-plan.ts';

test('only the agent image runs as root; every image runs its service main on Node.js from /usr/local/bin', () => {
  const agent = serviceImage('agent', '1.2.3', '1970-01-01T00:00:00Z');
  assert.equal(agent.reference, 'stinger/agent:1.2.3');
  assert.equal(agent.user, '0:0');
  assert.deepEqual(agent.builtPaths, ['bpf/build', 'libs/bpf/build']);
  for (const service of ['policy-controller', 'enricher', 'detector', 'enforcer', 'console'] as const) {
    const image = serviceImage(service, '1.2.3', '1970-01-01T00:00:00Z');
    assert.equal(image.user, '65532:65532', service);
    assert.deepEqual(image.entrypoint.slice(-1), [`/app/services/${service}/src/main.ts`]);
  }
  assert.ok(serviceImage('console', '1.2.3', 'x').layerPaths.includes('services/console/web/dist'), 'the console carries its built page');
});

test('umoci config arguments: user, entrypoint, env replaced, labels and the fixed created time', () => {
  const args = umociConfigArgs('/l', serviceImage('enricher', '0.1.0', '1970-01-01T00:00:00Z'), '1970-01-01T00:00:00Z');
  assert.ok(args.includes('--image=/l:enricher'));
  assert.ok(args.includes('--config.user=65532:65532'));
  assert.ok(args.includes('--clear=config.env'));
  assert.ok(args.includes('--created=1970-01-01T00:00:00Z'));
  assert.ok(args.includes('--config.label=org.opencontainers.image.version=0.1.0'));
  assert.deepEqual(args.filter((a) => a.startsWith('--config.entrypoint=')).length, 3);
});

test('the Debian packages installed are read from apt archive names, epoch colons decoded, sorted by name', () => {
  const packages = debianPackagesOfArchives(['zlib1g_1%3a1.2.13.dfsg-1+deb12u1_amd64.deb', 'lock', 'partial', 'libc6_2.36-9+deb12u14_amd64.deb']);
  assert.deepEqual(packages, [
    { name: 'libc6', version: '2.36-9+deb12u14', architecture: 'amd64' },
    { name: 'zlib1g', version: '1:1.2.13.dfsg-1+deb12u1', architecture: 'amd64' },
  ]);
  assert.equal(formatDebianPackages(packages), 'libc6 2.36-9+deb12u14 amd64\nzlib1g 1:1.2.13.dfsg-1+deb12u1 amd64\n');
  assert.throws(() => debianPackagesOfArchives(['broken.deb']), /not a Debian archive name/);
});

test('the package list file: names in order, comments and blank lines dropped', () => {
  assert.deepEqual(parseDebianPackageList('# header\nlibc6   # why\n\n  libbpf1\n'), ['libc6', 'libbpf1']);
});

test("Debian's apt sources are recognised; a vendor's repository and commented lines are not", () => {
  const deb822 = 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n';
  assert.equal(isDebianSourcesFile(deb822), true);
  assert.equal(isDebianSourcesFile('deb http://mirror.example/debian-security bookworm-security main\n'), true);
  assert.equal(isDebianSourcesFile('Types: deb\nURIs: https://vendor.example/node_20.x\nSuites: nodistro\nSigned-By: /usr/share/keyrings/vendor.gpg\n'), false);
  assert.equal(isDebianSourcesFile('# deb http://mirror.example/debian bookworm main\n'), false);
});

test('modules inputs: the lock, the root package.json and the package.json of workspaces the lock knows', () => {
  const isInput = modulesInputFilter(JSON.stringify({ packages: { '': {}, 'libs/kafka': {}, 'node_modules/kafkajs': {}, 'node_modules/@stinger/kafka': {} } }));
  assert.equal(isInput('package-lock.json'), true);
  assert.equal(isInput('package.json'), true);
  assert.equal(isInput('libs/kafka/package.json'), true);
  assert.equal(isInput('libs/not-in-lock-yet/package.json'), false);
  assert.equal(isInput('libs/kafka/src/client.ts'), false);
});

test('the workspace layer holds libs and the root package.json, without tests, build outputs or node_modules', () => {
  assert.equal(isWorkspaceLayerFile('libs/kafka/src/client.ts'), true);
  assert.equal(isWorkspaceLayerFile('package.json'), true);
  assert.equal(isWorkspaceLayerFile('libs/kafka/src/client.test.ts'), false);
  assert.equal(isWorkspaceLayerFile('libs/kafka/node_modules/x/index.js'), false);
  assert.equal(isWorkspaceLayerFile('services/agent/src/main.ts'), false);
});

test('SOURCE_DATE_EPOCH: 0 when unset, whole seconds otherwise, anything else refused', () => {
  assert.equal(sourceDateEpoch(undefined), 0);
  assert.equal(sourceDateEpoch('1700000000'), 1_700_000_000);
  assert.throws(() => sourceDateEpoch('yesterday'), /whole seconds/);
  assert.equal(rfc3339(1_700_000_000), '2023-11-14T22:13:20Z');
});

test('hashParts tells apart parts that concatenate alike', () => {
  assert.notEqual(hashParts([['a', 'bc']]), hashParts([['ab', 'c']]));
  assert.notEqual(hashParts([['a', 'b'], ['c', '']]), hashParts([['a', 'bc']]));
  assert.equal(hashParts([['a', 'b']]), hashParts([['a', Buffer.from('b')]]));
});

test('layer tars are sorted, owned by 0:0 and dated SOURCE_DATE_EPOCH', () => {
  const args = layerTarArgs({ root: '/stage', output: '/out.tar', epoch: 42, names: ['app', 'usr'] });
  for (const flag of ['--sort=name', '--mtime=@42', '--owner=0', '--group=0', '--numeric-owner', '--directory=/stage']) assert.ok(args.includes(flag), flag);
  assert.deepEqual(args.slice(-3), ['--', 'app', 'usr']);
});
