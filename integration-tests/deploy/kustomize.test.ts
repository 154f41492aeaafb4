/**
 * k8s/ as a cluster sees it: `kubectl kustomize` (kubectl built from the pinned k8s.io/kubernetes, as the dev cluster's
 * kube-apiserver is) builds each overlay, and the real kube-apiserver of a dev cluster accepts every built object in a
 * server-side dry run with strict field validation. The CRDs (Stinger's, and a minimal Strimzi KafkaTopic CRD from
 * fixtures/ for the production overlay's topics) and the namespaces are really applied first, since objects of an
 * unknown kind or in a missing namespace cannot be dry-run. A Deployment with an unknown field and KafkaTopics with a
 * wrong field must be refused, so the check is known to bite.
 *
 * Besides what the API server can judge: the images are the release's, the KafkaTopics are libs/kafka's topic table,
 * the ConfigMap names only variables libs/config reads, the key Secrets are the ones `stinger keys secrets` prints,
 * and each ServiceAccount may do what its service calls and no more (RBAC really applied, `kubectl auth can-i`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@stinger/config';
import { buildKubectl } from '@stinger/dev-cluster';
import { TOPIC_IDS, TOPICS } from '@stinger/kafka';
import { createLogger } from '@stinger/log';
import { parseAllDocuments, stringify } from 'yaml';
import { runStinger } from '../helpers/cli.ts';
import { startTestCluster, type TestCluster } from '../helpers/dev-cluster.ts';
import { kubeRequest } from '../helpers/policy-crds.ts';
import { scratchDir } from '../helpers/scratch.ts';

const REPO_DIR = fileURLToPath(new URL('../../', import.meta.url));
const STRIMZI_TOPIC_CRD = fileURLToPath(new URL('fixtures/kafkatopics.kafka.strimzi.io.yaml', import.meta.url));
const OVERLAYS = ['dev', 'production'] as const;
type Overlay = (typeof OVERLAYS)[number];
const NAMESPACE = 'stinger-system';
const SERVICES = ['agent', 'enricher', 'detector', 'enforcer', 'policy-controller', 'console'] as const;
const FIELD_MANAGER = 'stinger-deploy-test';

interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

interface Container {
  readonly name: string;
  readonly image: string;
  readonly env?: ReadonlyArray<{ readonly name: string; readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string } } }>;
}

interface PodSpec {
  readonly containers: readonly Container[];
  readonly volumes?: ReadonlyArray<{ readonly name: string; readonly secret?: { readonly secretName: string } }>;
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to the end; resolves with its exit code and output whatever the code. */
function run(command: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: REPO_DIR, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(error);
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

function podSpecOf(object: KubeObject): PodSpec {
  return (object['spec'] as { template: { spec: PodSpec } }).template.spec;
}

const workloadsOf = (objects: readonly KubeObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');

describe('k8s/ overlays against a real API server', { timeout: 900_000 }, () => {
  let kube: TestCluster | undefined;
  let kubectlPath: string;
  const dir = scratchDir('stinger-deploy-');
  const built = new Map<Overlay, KubeObject[]>();
  const builtFile = (overlay: Overlay) => join(dir, `${overlay}.yaml`);
  const builtObjects = (overlay: Overlay): KubeObject[] => {
    const objects = built.get(overlay);
    assert.ok(objects, `${overlay} was built`);
    return objects;
  };
  const kubectl = (args: readonly string[]): Promise<RunResult> => {
    assert.ok(kube, 'the dev cluster runs');
    return run(kubectlPath, ['--kubeconfig', kube.kubeconfigPath, ...args]);
  };
  /** Server-side apply of one file, dry-run or for real; strict field validation (unknown or duplicate fields fail). */
  const apply = (file: string, dryRun: boolean) =>
    kubectl(['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--validate=strict', ...(dryRun ? ['--dry-run=server'] : []), '-o', 'name', '-f', file]);
  const writeObjects = (name: string, objects: readonly KubeObject[]): string => {
    const file = join(dir, name);
    writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
    return file;
  };

  before(async () => {
    const logger = createLogger({ name: 'deploy-test', level: 'warn' });
    // Cached by `stinger setup` (CI runs it before the tests); built here otherwise, which takes minutes.
    kubectlPath = (await buildKubectl({ cacheDir: loadConfig().cacheDir, logger })).path;
    for (const overlay of OVERLAYS) {
      const result = await run(kubectlPath, ['kustomize', join('k8s', 'overlays', overlay)]);
      assert.equal(result.code, 0, `kubectl kustomize k8s/overlays/${overlay}:\n${result.stderr}`);
      writeFileSync(builtFile(overlay), result.stdout);
      built.set(overlay, parseObjects(result.stdout));
    }
    kube = await startTestCluster();
  });

  after(async () => {
    await kube?.stop();
  });

  test('each overlay runs every service, each from its stinger/<service> image at the release version', () => {
    const version = (JSON.parse(readFileSync(join(REPO_DIR, 'package.json'), 'utf8')) as { version: string }).version;
    for (const overlay of OVERLAYS) {
      const workloads = workloadsOf(builtObjects(overlay));
      const images = workloads.map((w) => `${w.kind}/${w.metadata.name} ${podSpecOf(w).containers.map((c) => c.image).join(',')}`).sort();
      const expected = SERVICES.map((s) => `${s === 'agent' ? 'DaemonSet' : 'Deployment'}/stinger-${s} stinger/${s}:${version}`).sort();
      assert.deepEqual(images, expected, overlay);
    }
  });

  test('CRDs and namespaces are applied, then every object of each overlay passes a server-side dry run', async () => {
    // What a cluster holds before the overlay: Stinger's CRDs and namespace (from the build itself), Strimzi's
    // KafkaTopic CRD and the Kafka cluster's namespace (a Strimzi installation's; stand-ins here).
    const prerequisites = [
      ...builtObjects('production').filter((o) => o.kind === 'CustomResourceDefinition' || o.kind === 'Namespace'),
      ...parseObjects(readFileSync(STRIMZI_TOPIC_CRD, 'utf8')),
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kafka' } },
    ];
    const applied = await apply(writeObjects('prerequisites.yaml', prerequisites), false);
    assert.equal(applied.code, 0, applied.stderr);
    const established = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'customresourcedefinitions', '--all']);
    assert.equal(established.code, 0, established.stderr);

    for (const overlay of OVERLAYS) {
      const result = await apply(builtFile(overlay), true);
      assert.equal(result.code, 0, `${overlay}: ${result.stderr}`);
      // Warnings (a deprecated API, a field the server drops, a Pod Security level exceeded) are defects too.
      assert.equal(result.stderr, '', overlay);
      // One name per object: every object was submitted, none skipped.
      const names = result.stdout.trim().split('\n');
      assert.equal(names.length, builtObjects(overlay).length, `${overlay}: ${result.stdout}`);
    }
  });

  test('an unknown field fails: in a Deployment (server-side apply, and a create with fieldValidation=Strict) and in a KafkaTopic', async () => {
    assert.ok(kube);
    const enricher = builtObjects('dev').find((o) => o.kind === 'Deployment' && o.metadata.name === 'stinger-enricher');
    assert.ok(enricher);
    const misspelt = { ...enricher, spec: { ...(enricher['spec'] as object), replicass: 2 } };
    // Server-side apply refuses any field the type does not declare.
    const applied = await apply(writeObjects('misspelt-deployment.yaml', [misspelt]), true);
    assert.notEqual(applied.code, 0, applied.stdout);
    assert.match(applied.stderr, /spec\.replicass/);
    // A plain create drops unknown fields unless asked to be strict: Ignore takes the object, Strict refuses it.
    const create = (validation: string) =>
      kubeRequest(kube as TestCluster, {
        method: 'POST',
        path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments?dryRun=All&fieldValidation=${validation}`,
        body: misspelt,
      });
    const ignored = await create('Ignore');
    assert.equal(ignored.status, 201, ignored.body);
    const strict = await create('Strict');
    assert.equal(strict.status, 400, strict.body);
    assert.match(strict.body, /unknown field \\"spec\.replicass\\"/);

    const topic = builtObjects('production').find((o) => o.kind === 'KafkaTopic');
    assert.ok(topic);
    const spec = topic['spec'] as Record<string, unknown>;
    const unknownField = await apply(writeObjects('misspelt-topic.yaml', [{ ...topic, spec: { ...spec, partition: 6 } }]), true);
    assert.notEqual(unknownField.code, 0, unknownField.stdout);
    assert.match(unknownField.stderr, /spec\.partition\b/);
    const noPartitions = await apply(writeObjects('empty-topic.yaml', [{ ...topic, spec: { ...spec, partitions: 0 } }]), true);
    assert.notEqual(noPartitions.code, 0, noPartitions.stdout);
    assert.match(noPartitions.stderr, /spec\.partitions/);
  });

  test("the production KafkaTopics are libs/kafka's topic table: every topic, its partitions and broker settings", () => {
    const topics = new Map(
      builtObjects('production')
        .filter((o) => o.kind === 'KafkaTopic')
        .map((o) => [o.metadata.name, o['spec'] as { partitions: number; replicas: number; config: Record<string, unknown> }]),
    );
    assert.deepEqual([...topics.keys()].sort(), TOPIC_IDS.map((id) => TOPICS[id].name).sort());
    for (const id of TOPIC_IDS) {
      const { name, partitions, configs } = TOPICS[id];
      const topic = topics.get(name);
      assert.ok(topic, name);
      assert.equal(topic.partitions, partitions, `${name} partitions`);
      for (const [key, value] of Object.entries(configs)) assert.equal(String(topic.config[key]), value, `${name} ${key}`);
      // Writes acknowledged by a majority survive a broker, and one broker may be away without stopping them.
      assert.ok(Number(topic.config['min.insync.replicas']) < topic.replicas, `${name}: min.insync.replicas below replicas`);
    }
  });

  test('every setting in the ConfigMaps is a variable libs/config reads', () => {
    const configSource = readFileSync(join(REPO_DIR, 'libs', 'config', 'src', 'config.ts'), 'utf8');
    // A `<NAME>_FILE` variable is read as `<NAME>` plus the suffix (the file holding a secret value).
    const isRead = (name: string) => configSource.includes(`'${name}'`) || (name.endsWith('_FILE') && configSource.includes(`'${name.slice(0, -'_FILE'.length)}'`));
    for (const overlay of OVERLAYS) {
      const configMaps = builtObjects(overlay).filter((o) => o.kind === 'ConfigMap');
      assert.equal(configMaps.length, 1, `${overlay}: one ConfigMap`);
      const names = Object.keys((configMaps[0]?.['data'] ?? {}) as Record<string, string>);
      assert.ok(names.length > 0, overlay);
      assert.deepEqual(names.filter((name) => !isRead(name)), [], `${overlay}: settings no service reads`);
    }
  });

  test('the key Secrets the workloads mount are the ones `stinger keys secrets` prints, and the API server takes them', async () => {
    const printed = runStinger(['keys', 'secrets'], {}); // the default namespace is the manifests' own
    assert.equal(printed.status, 0, printed.stderr);
    const secrets = parseObjects(printed.stdout);
    const mounted = new Set(
      workloadsOf(builtObjects('production')).flatMap((w) => (podSpecOf(w).volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : []))),
    );
    assert.deepEqual(
      secrets.map((s) => s.metadata.name).filter((name) => !mounted.has(name)),
      [],
      `mounted: ${[...mounted].join(', ')}`,
    );
    assert.ok(secrets.some((s) => Object.keys(s['data'] as object).includes('signing.key')));
    const result = await apply(writeObjects('key-secrets.yaml', secrets), true);
    assert.equal(result.code, 0, result.stderr);
  });

  test('each ServiceAccount may make the API calls its service makes and no others', async () => {
    const rbac = builtObjects('production').filter((o) => ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind));
    const applied = await apply(writeObjects('rbac.yaml', rbac), false);
    assert.equal(applied.code, 0, applied.stderr);
    // [service, verb, resource, allowed]; resources as `kubectl auth can-i` names them, all namespaces.
    const expectations: ReadonlyArray<readonly [string, string, string, boolean]> = [
      ['enricher', 'list', 'pods', true],
      ['enricher', 'watch', 'pods', true],
      ['enricher', 'watch', 'replicasets.apps', true],
      ['enricher', 'watch', 'jobs.batch', true],
      ['enricher', 'get', 'secrets', false],
      ['enricher', 'delete', 'pods', false],
      ['enricher', 'list', 'tracingpolicies.stinger.io', false],
      ['policy-controller', 'watch', 'tracingpolicies.stinger.io', true],
      ['policy-controller', 'watch', 'tracingpoliciesnamespaced.stinger.io', true],
      ['policy-controller', 'patch', 'tracingpolicies.stinger.io/status', true],
      ['policy-controller', 'patch', 'tracingpoliciesnamespaced.stinger.io/status', true],
      ['policy-controller', 'patch', 'tracingpolicies.stinger.io', false],
      ['policy-controller', 'delete', 'tracingpolicies.stinger.io', false],
      ['policy-controller', 'list', 'pods', false],
      // The agent watches the pods bound to its node (pod-scoped kernel rules): pods only, read only.
      ['agent', 'list', 'pods', true],
      ['agent', 'watch', 'pods', true],
      ['agent', 'delete', 'pods', false],
      ['agent', 'get', 'secrets', false],
      ['agent', 'watch', 'replicasets.apps', false],
      ['agent', 'list', 'tracingpolicies.stinger.io', false],
      ['detector', 'list', 'pods', false],
      ['enforcer', 'list', 'pods', false],
      ['console', 'list', 'pods', false],
    ];
    const answers: string[] = [];
    for (const [service, verb, resource, allowed] of expectations) {
      const [kind, subresource] = resource.split('/');
      const result = await kubectl([
        'auth',
        'can-i',
        verb,
        kind ?? resource,
        ...(subresource === undefined ? [] : [`--subresource=${subresource}`]),
        '--all-namespaces',
        `--as=system:serviceaccount:${NAMESPACE}:stinger-${service}`,
      ]);
      answers.push(`${service} ${verb} ${resource}: ${result.stdout.trim() || result.stderr.trim()} (expected ${allowed ? 'yes' : 'no'})`);
      assert.equal(result.stdout.trim(), allowed ? 'yes' : 'no', answers.join('\n'));
    }
  });
});
