/**
 * Command lines of the dev cluster's two processes (pure). Everything listens on 127.0.0.1 only.
 *
 * etcd: one member, plain HTTP on loopback (nothing outside this machine reaches it), `--unsafe-no-fsync` because a
 * dev cluster's data is disposable and fsync dominates etcd's latency on shared disks.
 *
 * kube-apiserver: TLS with the dev CA's serving certificate, client certificates verified against the same CA,
 * authorization RBAC (as in real clusters; the admin user is in system:masters, which RBAC lets do anything), the
 * ServiceAccount admission plugin off unless a node will run (no controller-manager runs to create service-account tokens, so pods would
 * otherwise be refused), no endpoint reconciler (see below), privileged pods allowed (Stinger's agent DaemonSet is privileged). The service CIDR is
 * required by the apiserver to allocate the `kubernetes` Service's address; nothing routes it.
 */

export const CLUSTER_HOST = '127.0.0.1';
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/12';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc';
export const ETCD_MEMBER_NAME = 'stinger-dev';

export interface EtcdFlagsOptions {
  readonly dataDir: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export function renderEtcdFlags(options: EtcdFlagsOptions): string[] {
  const client = `http://${CLUSTER_HOST}:${options.clientPort}`;
  const peer = `http://${CLUSTER_HOST}:${options.peerPort}`;
  return [
    `--name=${ETCD_MEMBER_NAME}`,
    `--data-dir=${options.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${ETCD_MEMBER_NAME}=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export interface KubeApiserverFlagsOptions {
  readonly etcdClientPort: number;
  readonly securePort: number;
  readonly caCert: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly serviceAccountKey: string;
  readonly serviceAccountPublicKey: string;
  /**
   * A node will run (kube-controller-manager makes ServiceAccounts, the kubelet mounts their tokens): the
   * ServiceAccount admission plugin stays on so pods get their token volume. Pods reach the API server through the
   * node's DNAT of the `kubernetes` Service address (node-config.ts), so it still listens on loopback only.
   */
  readonly withNode?: boolean;
}

export function renderKubeApiserverFlags(options: KubeApiserverFlagsOptions): string[] {
  return [
    `--etcd-servers=http://${CLUSTER_HOST}:${options.etcdClientPort}`,
    `--secure-port=${options.securePort}`,
    `--bind-address=${CLUSTER_HOST}`,
    `--advertise-address=${CLUSTER_HOST}`,
    `--tls-cert-file=${options.servingCert}`,
    `--tls-private-key-file=${options.servingKey}`,
    `--client-ca-file=${options.caCert}`,
    `--service-account-key-file=${options.serviceAccountPublicKey}`,
    `--service-account-signing-key-file=${options.serviceAccountKey}`,
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    '--authorization-mode=RBAC',
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    ...(options.withNode === true ? [] : ['--disable-admission-plugins=ServiceAccount']),
    // `kubectl logs/exec` go through the kubelet at the node's address: its InternalIP, since nothing resolves the
    // node's name (the default tries Hostname first).
    ...(options.withNode === true ? ['--kubelet-preferred-address-types=InternalIP,Hostname'] : []),
    // This release refuses a loopback --advertise-address for the `kubernetes` Endpoints; nothing in a dev cluster
    // reaches the apiserver through that Service, so no reconciler runs.
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
  ];
}
