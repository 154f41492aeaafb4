/**
 * The kubeconfig that `stinger dev-cluster up` writes: one cluster, one user (the admin client certificate), one
 * context, all certificates embedded (base64 `*-data` fields), so the file works on its own wherever it is copied.
 * Rendered as YAML by hand: every value is a name, a URL or base64, none needs quoting.
 */

export const KUBECONFIG_CLUSTER_NAME = 'stinger-dev';
export const KUBECONFIG_USER_NAME = 'stinger-admin';
export const KUBECONFIG_CONTEXT_NAME = 'stinger-dev';

export interface KubeconfigContents {
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  readonly caCertPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

export function renderKubeconfig(contents: KubeconfigContents): string {
  const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${KUBECONFIG_CLUSTER_NAME}`,
    '  cluster:',
    `    server: ${contents.server}`,
    `    certificate-authority-data: ${b64(contents.caCertPem)}`,
    'users:',
    `- name: ${KUBECONFIG_USER_NAME}`,
    '  user:',
    `    client-certificate-data: ${b64(contents.clientCertPem)}`,
    `    client-key-data: ${b64(contents.clientKeyPem)}`,
    'contexts:',
    `- name: ${KUBECONFIG_CONTEXT_NAME}`,
    '  context:',
    `    cluster: ${KUBECONFIG_CLUSTER_NAME}`,
    `    user: ${KUBECONFIG_USER_NAME}`,
    `current-context: ${KUBECONFIG_CONTEXT_NAME}`,
    '',
  ].join('\n');
}
