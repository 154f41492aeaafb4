/**
 * `stinger setup`: the pinned tools fetched and built into the cache — the Kafka jars (Maven), Apicurio Registry
 * (Maven + Quarkus), the downstream-client kits of integration-tests/schema-registry, kube-apiserver and
 * etcd (Go builds), kubectl (same Go module), which the deployment check (integration-tests/deploy) runs, and the
 * dev cluster node's kubelet, kube-controller-manager and kube-scheduler. The
 * kube-apiserver and etcd builds are also what the first `stinger dev-cluster up` waits for. Each step shows a progress
 * line with its elapsed time on a terminal (and the expected duration of a first kube-apiserver build); cached steps
 * return at once.
 */
import type { StingerConfig } from '@stinger/config';
import {
  buildEtcd,
  buildKubeApiserver,
  buildKubeControllerManager,
  buildKubectl,
  buildKubelet,
  buildKubeScheduler,
  type BuildOptions,
  type BuiltBinary,
} from '@stinger/dev-cluster';
import { resolveKafkaDistribution } from '@stinger/local-broker';
import { prepareGoReader, prepareJavaReader, preparePythonReader, resolveApicurioRegistry } from '@stinger/local-registry';
import { buildOpa } from '@stinger/rego';
import type { Logger } from '@stinger/log';
import { createProgress } from './progress.ts';

/** Measured on 2 cores: the first kube-apiserver build takes about 5 minutes. */
const KUBE_APISERVER_FIRST_BUILD_MS = 5 * 60_000;

interface SetupOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  readonly out: (line: string) => void;
}

/** Runs `work` with a time-only progress line labelled `label` (expected duration when known). */
async function withProgress<T>(label: string, expectedMs: number | null, work: () => Promise<T>): Promise<T> {
  const progress = createProgress({ label, unit: null, total: expectedMs });
  try {
    return await work();
  } finally {
    progress.finish();
  }
}

/** One Go-built tool, built unless cached; one line on `out` with its path and whether it was built now. */
async function buildTool(options: SetupOptions, tool: GoTool): Promise<void> {
  const { config, logger, out } = options;
  const binary = await withProgress(`${tool.name}: building (cached after the first time)`, tool.expectedMs, () => tool.build({ cacheDir: config.cacheDir, logger }));
  out(`${binary.path} (${binary.version}${binary.built ? `, built in ${(binary.buildMs / 1000).toFixed(0)} s` : ', cached'})`);
}

interface GoTool {
  readonly name: string;
  readonly build: (options: BuildOptions) => Promise<BuiltBinary>;
  readonly expectedMs: number | null;
}

/** kube-apiserver and etcd, built unless cached; one line each on `out`. */
export async function buildDevClusterTools(options: SetupOptions): Promise<void> {
  // One after the other: each build already uses every core.
  await buildTool(options, { name: 'kube-apiserver', build: buildKubeApiserver, expectedMs: KUBE_APISERVER_FIRST_BUILD_MS });
  await buildTool(options, { name: 'etcd', build: buildEtcd, expectedMs: null });
}

export async function setup(options: SetupOptions): Promise<number> {
  const { config, logger, out } = options;
  const distribution = await withProgress('Apache Kafka jars: resolving with Maven', null, () => resolveKafkaDistribution({ cacheDir: config.cacheDir, logger }));
  out(`Apache Kafka ${distribution.version}: ${distribution.libsDir}`);
  // The schema registry of `stinger registry up` and the registry-mode tests (integration-tests/schema-registry).
  const registry = await withProgress('Apicurio Registry: building with Maven (cached after the first time)', null, () => resolveApicurioRegistry({ cacheDir: config.cacheDir, logger }));
  out(`Apicurio Registry ${registry.version}: ${registry.jar}${registry.built ? ', built now' : ', cached'}`);
  // Other people's readers of the security topics (docs/examples/consume), run by the same tests.
  const java = await withProgress('Java topic reader: resolving its jars with Maven', null, () => prepareJavaReader({ cacheDir: config.cacheDir, logger }));
  out(`Java topic reader: ${java.classPath}${java.built ? ', resolved now' : ', cached'}`);
  const python = await withProgress('Python topic reader: installing confluent-kafka and fastavro', null, () => preparePythonReader({ cacheDir: config.cacheDir, logger }));
  out(`Python topic reader: ${python.python}${python.built ? ', installed now' : ', cached'}`);
  const go = await withProgress('Go topic reader: building with the Go module proxy', null, () => prepareGoReader({ cacheDir: config.cacheDir, logger }));
  out(`Go topic reader: ${go.binary}${go.built ? ', built now' : ', cached'}`);
  await buildDevClusterTools(options);
  await buildTool(options, { name: 'kubectl', build: buildKubectl, expectedMs: null });
  // The node of `dev-cluster up --with-node` (integration-tests/real-node); minutes cold, seconds once kube-apiserver's packages are built.
  await buildTool(options, { name: 'kubelet', build: buildKubelet, expectedMs: null });
  await buildTool(options, { name: 'kube-controller-manager', build: buildKubeControllerManager, expectedMs: null });
  await buildTool(options, { name: 'kube-scheduler', build: buildKubeScheduler, expectedMs: null });
  // opa (libs/rego/go) compiles policies' Rego modules to WebAssembly for stinger policy apply and the policy-controller.
  await buildTool(options, { name: 'opa', build: buildOpa, expectedMs: null });
  return 0;
}
