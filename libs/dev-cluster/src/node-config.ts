/**
 * Configuration of the dev cluster's node (pure): containerd's config, the bridge CNI network, the kubelet's
 * KubeletConfiguration and command line, and kube-controller-manager's and kube-scheduler's command lines.
 *
 * What this machine needs (measured with Debian's containerd 1.6, runc and containernetworking-plugins): cgroups are
 * hybrid (v1 controllers, v2 at /sys/fs/cgroup/unified), so the kubelet runs with `failCgroupV1: false` and the
 * cgroupfs driver; CAP_SYS_RESOURCE is withheld, so no process may lower an oom_score_adj (`oomScoreAdj: 0` in the
 * kubelet, `restrict_oom_score_adj` in containerd's CRI plugin); no registry is reachable, so images are imported
 * and the pause image is a local one.
 *
 * Networking: pods live on a bridge (`NODE_BRIDGE`, made by the node before the kubelet starts) whose address is the
 * node's InternalIP. Pods reach the host, and whatever listens on that address (a broker's pod listener), through it.
 * No kube-proxy runs: the `kubernetes` Service's address is forwarded to the API server by one DNAT rule of the
 * node's own (host-state.ts), which is all in-cluster clients need.
 */

/** The bridge the CNI plugin attaches pods to; its address is the node's. Short: interface names end at 15 bytes. */
export const NODE_BRIDGE = 'stinger0';
export const POD_SUBNET = '10.244.0.0/24';
/** The bridge's address: the node's InternalIP and the pods' gateway. */
export const NODE_IP = '10.244.0.1';
export const CNI_NETWORK_NAME = 'stinger-dev';
export const CNI_BIN_DIR = '/usr/lib/cni';
/** Imported by the node itself (local-images.ts), never pulled. */
export const PAUSE_IMAGE = 'localhost/stinger/pause:1';
export const CLUSTER_DOMAIN = 'cluster.local';

export interface ContainerdConfigOptions {
  readonly rootDir: string;
  readonly stateDir: string;
  readonly socket: string;
  readonly cniConfDir: string;
}

/** containerd 1.6's config.toml (version 2) for the node: its own root, state and socket, runc, the bridge CNI. */
export function renderContainerdConfig(options: ContainerdConfigOptions): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return [
    'version = 2',
    `root = ${JSON.stringify(options.rootDir)}`,
    `state = ${JSON.stringify(options.stateDir)}`,
    '',
    '[grpc]',
    `  address = ${JSON.stringify(options.socket)}`,
    '',
    `[${cri}]`,
    `  sandbox_image = ${JSON.stringify(PAUSE_IMAGE)}`,
    // A lower oom_score_adj needs CAP_SYS_RESOURCE, which this machine withholds: keep what the parent has.
    '  restrict_oom_score_adj = true',
    '  enable_selinux = false',
    `[${cri}.containerd]`,
    '  snapshotter = "overlayfs"',
    '  default_runtime_name = "runc"',
    `[${cri}.containerd.runtimes.runc]`,
    '  runtime_type = "io.containerd.runc.v2"',
    `[${cri}.containerd.runtimes.runc.options]`,
    '  SystemdCgroup = false',
    `[${cri}.cni]`,
    `  bin_dir = ${JSON.stringify(CNI_BIN_DIR)}`,
    `  conf_dir = ${JSON.stringify(options.cniConfDir)}`,
    '',
  ].join('\n');
}

/**
 * The pods' network: the bridge plugin on NODE_BRIDGE (the node made it, with NODE_IP), host-local addresses from
 * POD_SUBNET whose allocations live under `ipamDataDir` (the node's state, removed with it), and loopback. No IP
 * masquerading: pods talk to the node and each other, and nothing beyond this machine is reachable anyway.
 */
export function renderCniConfig(options: { readonly ipamDataDir: string }): string {
  const config = {
    cniVersion: '1.0.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: NODE_BRIDGE,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: options.ipamDataDir,
          ranges: [[{ subnet: POD_SUBNET, gateway: NODE_IP }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'loopback' },
    ],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export interface KubeletConfigOptions {
  readonly containerdSocket: string;
  readonly clientCaFile: string;
  readonly port: number;
  readonly healthzPort: number;
  readonly podLogsDir: string;
}

/**
 * KubeletConfiguration (JSON is YAML). Anonymous access with AlwaysAllow on the kubelet's own port is what lets the
 * API server proxy `kubectl logs/exec` without a kubelet client certificate; the port listens on NODE_IP, reachable
 * only from this machine and its pods. Image garbage collection and disk-pressure eviction are off: the node's images
 * were imported, not pulled, and cannot come back once collected.
 */
export function renderKubeletConfig(options: KubeletConfigOptions): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_IP,
    port: options.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: options.healthzPort,
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false }, x509: { clientCAFile: options.clientCaFile } },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${options.containerdSocket}`,
    cgroupDriver: 'cgroupfs',
    // Hybrid cgroups on this machine; the kubelet refuses cgroup v1 unless told otherwise.
    failCgroupV1: false,
    // A negative oom_score_adj needs CAP_SYS_RESOURCE (withheld here).
    oomScoreAdj: 0,
    failSwapOn: false,
    clusterDomain: CLUSTER_DOMAIN,
    podLogsDir: options.podLogsDir,
    resolvConf: '/etc/resolv.conf',
    serializeImagePulls: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '0%', 'imagefs.available': '0%', 'nodefs.inodesFree': '0%' },
    // Faster status for a one-node dev cluster whose tests wait on it.
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

export interface KubeletFlagsOptions {
  readonly configFile: string;
  readonly kubeconfig: string;
  readonly rootDir: string;
  readonly nodeName: string;
}

export function renderKubeletFlags(options: KubeletFlagsOptions): string[] {
  return [
    `--config=${options.configFile}`,
    `--kubeconfig=${options.kubeconfig}`,
    `--root-dir=${options.rootDir}`,
    `--cert-dir=${options.rootDir}/pki`,
    `--hostname-override=${options.nodeName}`,
    `--node-ip=${NODE_IP}`,
    '--v=1',
  ];
}

export interface ControlPlaneFlagsOptions {
  readonly kubeconfig: string;
  readonly securePort: number;
  readonly caCert: string;
  readonly caKey: string;
  readonly serviceAccountKey: string;
}

/**
 * kube-controller-manager: the controllers Deployments and DaemonSets need (ReplicaSets, pods, ServiceAccounts, the
 * kube-root-ca.crt ConfigMap every projected token volume reads), one instance so no leader election, the admin
 * kubeconfig (a dev cluster has one user), and the CA for the certificates controller.
 */
export function renderKubeControllerManagerFlags(options: ControlPlaneFlagsOptions): string[] {
  return [
    ...renderKubeSchedulerFlags(options),
    `--root-ca-file=${options.caCert}`,
    `--cluster-signing-cert-file=${options.caCert}`,
    `--cluster-signing-key-file=${options.caKey}`,
    `--service-account-private-key-file=${options.serviceAccountKey}`,
    '--use-service-account-credentials=false',
    // The node's pod CIDR is the CNI's own: no IPAM controller.
    '--controllers=*,-nodeipam',
  ];
}

/** kube-scheduler's command line, which kube-controller-manager's starts with: the admin kubeconfig, loopback, one instance. */
export function renderKubeSchedulerFlags(options: Pick<ControlPlaneFlagsOptions, 'kubeconfig' | 'securePort'>): string[] {
  return [
    `--kubeconfig=${options.kubeconfig}`,
    `--authentication-kubeconfig=${options.kubeconfig}`,
    `--authorization-kubeconfig=${options.kubeconfig}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${options.securePort}`,
    '--leader-elect=false',
    '--profiling=false',
  ];
}
