/**
 * @stinger/local-registry — a real Apicurio Registry (pinned, built once with Maven) on 127.0.0.1 for
 * `stinger registry up` and the registry-mode tests. local-registry.ts: start/stop; apicurio-distribution.ts: the jar.
 */
export { startLocalRegistry, readRunningRegistry, stopRunningRegistry, CCOMPAT_PATH, DEFAULT_REGISTRY_PORT, REGISTRY_HOST } from './local-registry.ts';
export type { StartLocalRegistryOptions, LocalRegistry, RunningRegistry } from './local-registry.ts';
export { resolveApicurioRegistry, APICURIO_VERSION, APICURIO_PROJECT_DIR } from './apicurio-distribution.ts';
export type { ApicurioRegistryJar, ResolveApicurioOptions } from './apicurio-distribution.ts';
export { LocalRegistryError } from './errors.ts';
export { prepareGoReader, prepareJavaReader, preparePythonReader, CLIENT_EXAMPLES_DIR } from './client-kits.ts';
export type { ClientKitOptions, GoReaderKit, JavaReaderKit, PythonReaderKit } from './client-kits.ts';
