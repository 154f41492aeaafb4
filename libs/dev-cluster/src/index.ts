/**
 * @stinger/dev-cluster — a real Kubernetes API server (etcd + kube-apiserver, built from their pinned Go modules) on
 * 127.0.0.1 for `stinger dev-cluster up|down` and tests. See dev-cluster.ts for the start/stop contract and
 * go-build.ts for how the binaries are built and cached.
 */
export { startDevCluster, readRunningDevCluster, stopRunningDevCluster, DEV_CLUSTER_DIR_NAME } from './dev-cluster.ts';
export type { StartDevClusterOptions, DevCluster, RunningDevCluster, StopRunningDevClusterOptions } from './dev-cluster.ts';
export { buildKubeApiserver, buildEtcd, buildKubectl, areBinariesCached, findGoToolchain, KUBERNETES_VERSION, ETCD_VERSION } from './go-build.ts';
export type { BuildOptions, BuiltBinary } from './go-build.ts';
export { kubeApiRequest } from './kube-api-request.ts';
export type { KubeApiRequestOptions, KubeApiResponse } from './kube-api-request.ts';
export { ADMIN_USER, ADMIN_GROUP } from './certificates.ts';
export type { ClusterCertificates } from './certificates.ts';
export { SERVICE_CLUSTER_IP_RANGE } from './flags.ts';
export { DevClusterError, GoBuildError, CertificateError, DevClusterStartError, DevClusterStopError } from './errors.ts';
export type { DevClusterComponent } from './errors.ts';
export { startNode, stopNode, nodeContainerdSocket } from './node.ts';
export type { StartNodeOptions, DevClusterNode, NodeCluster } from './node.ts';
export { NODE_IP, NODE_BRIDGE, POD_SUBNET, PAUSE_IMAGE } from './node-config.ts';
export { buildHostBinariesImage, importIntoNode, normalizedImageName } from './local-images.ts';
export { buildKubelet, buildKubeControllerManager, buildKubeScheduler } from './go-build.ts';
