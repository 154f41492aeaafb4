/**
 * The dev cluster's PKI, made with the machine's `openssl` (node:crypto makes keys but not X.509 certificates):
 * a CA, kube-apiserver's serving certificate, an admin client certificate (CN stinger-admin, O system:masters, so
 * RBAC lets it do anything) and the service-account token signing key pair. All keys are EC P-256.
 *
 * Contract: `ensureCertificates({ pkiDir })` makes whatever of these files is missing and returns their paths; an
 * existing set is reused (tokens and the kubeconfig stay valid across `down`/`up`). A new CA re-makes both leaf
 * certificates, and a leaf whose certificate or key is missing is re-made, so an interrupted run completes on the next.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateError } from './errors.ts';

/** Names the serving certificate answers to: the loopback address it listens on and the in-cluster names. */
export const SERVING_DNS_NAMES: readonly string[] = [
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];
/** 127.0.0.1 (where it listens) and 10.96.0.1 (the `kubernetes` Service's address in 10.96.0.0/12). */
export const SERVING_IP_ADDRESSES: readonly string[] = ['127.0.0.1', '10.96.0.1'];

export const ADMIN_USER = 'stinger-admin';
export const ADMIN_GROUP = 'system:masters';

export interface ClusterCertificates {
  readonly caCert: string;
  readonly caKey: string;
  readonly servingCert: string;
  readonly servingKey: string;
  readonly adminCert: string;
  readonly adminKey: string;
  /** Private key kube-apiserver signs service-account tokens with. */
  readonly serviceAccountKey: string;
  /** Its public half, which kube-apiserver verifies tokens with. */
  readonly serviceAccountPublicKey: string;
}

export function certificatePaths(pkiDir: string): ClusterCertificates {
  return {
    caCert: join(pkiDir, 'ca.crt'),
    caKey: join(pkiDir, 'ca.key'),
    servingCert: join(pkiDir, 'apiserver.crt'),
    servingKey: join(pkiDir, 'apiserver.key'),
    adminCert: join(pkiDir, 'admin.crt'),
    adminKey: join(pkiDir, 'admin.key'),
    serviceAccountKey: join(pkiDir, 'sa.key'),
    serviceAccountPublicKey: join(pkiDir, 'sa.pub'),
  };
}

export type CertificateProfile = 'ca' | 'serving' | 'client';

export interface CertificateRequest {
  readonly profile: CertificateProfile;
  readonly commonName: string;
  readonly organization?: string;
}

/** An openssl config file for one certificate: subject in [dn], extensions in [ext] (pure). */
export function renderOpensslConfig(request: CertificateRequest): string {
  const lines = ['[req]', 'prompt = no', 'distinguished_name = dn', 'x509_extensions = ext', '', '[dn]'];
  if (request.organization !== undefined) lines.push(`O = ${request.organization}`);
  lines.push(`CN = ${request.commonName}`, '', '[ext]');
  switch (request.profile) {
    case 'ca':
      lines.push('basicConstraints = critical, CA:TRUE', 'keyUsage = critical, keyCertSign, cRLSign, digitalSignature', 'subjectKeyIdentifier = hash');
      break;
    case 'serving': {
      const names = [...SERVING_DNS_NAMES.map((name) => `DNS:${name}`), ...SERVING_IP_ADDRESSES.map((ip) => `IP:${ip}`)];
      lines.push(
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth',
        `subjectAltName = ${names.join(', ')}`,
        'authorityKeyIdentifier = keyid',
      );
      break;
    }
    case 'client':
      lines.push(
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = clientAuth',
        'authorityKeyIdentifier = keyid',
      );
      break;
  }
  return `${lines.join('\n')}\n`;
}

export interface EnsureCertificatesOptions {
  readonly pkiDir: string;
  readonly opensslCommand?: string;
  /** Validity of every certificate in days. */
  readonly days?: number;
}

/** Makes the missing parts of the PKI in `pkiDir` (see the file comment) and returns the paths of all of it. */
export async function ensureCertificates(options: EnsureCertificatesOptions): Promise<ClusterCertificates> {
  const { pkiDir, opensslCommand = 'openssl', days = 3650 } = options;
  const paths = certificatePaths(pkiDir);
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  const openssl = (args: readonly string[]): Promise<void> => runOpenssl(opensslCommand, args);
  const newKey = (file: string): Promise<void> => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);

  let caRenewed = false;
  if (!(await exists(paths.caCert)) || !(await exists(paths.caKey))) {
    const config = join(pkiDir, 'ca.cnf');
    await writeFile(config, renderOpensslConfig({ profile: 'ca', commonName: 'stinger-dev-cluster-ca' }));
    await newKey(paths.caKey);
    await openssl(['req', '-x509', '-new', '-config', config, '-key', paths.caKey, '-sha256', '-days', String(days), '-out', paths.caCert]);
    await rm(config, { force: true });
    caRenewed = true;
  }
  const leaves: ReadonlyArray<{ readonly cert: string; readonly key: string; readonly request: CertificateRequest }> = [
    { cert: paths.servingCert, key: paths.servingKey, request: { profile: 'serving', commonName: 'kube-apiserver' } },
    { cert: paths.adminCert, key: paths.adminKey, request: { profile: 'client', commonName: ADMIN_USER, organization: ADMIN_GROUP } },
  ];
  for (const leaf of leaves) {
    if (!caRenewed && (await exists(leaf.cert)) && (await exists(leaf.key))) continue;
    const config = `${leaf.cert}.cnf`;
    const csr = `${leaf.cert}.csr`;
    await writeFile(config, renderOpensslConfig(leaf.request));
    await newKey(leaf.key);
    await openssl(['req', '-new', '-config', config, '-key', leaf.key, '-out', csr]);
    await openssl([
      'x509', '-req', '-in', csr, '-CA', paths.caCert, '-CAkey', paths.caKey, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
      '-sha256', '-days', String(days), '-extfile', config, '-extensions', 'ext', '-out', leaf.cert,
    ]);
    await rm(config, { force: true });
    await rm(csr, { force: true });
  }
  if (!(await exists(paths.serviceAccountKey)) || !(await exists(paths.serviceAccountPublicKey))) {
    await newKey(paths.serviceAccountKey);
    await openssl(['pkey', '-in', paths.serviceAccountKey, '-pubout', '-out', paths.serviceAccountPublicKey]);
  }
  return paths;
}

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

/**
 * A client certificate signed by the cluster's CA for `commonName` in group `organization`, made once as
 * `<pkiDir>/<fileStem>.crt|.key` (e.g. a node's kubelet: CN `system:node:<name>`, O `system:nodes`). Call after
 * `ensureCertificates`, which makes the CA.
 */
export async function ensureClientCertificate(
  options: { readonly pkiDir: string; readonly fileStem: string; readonly commonName: string; readonly organization: string; readonly opensslCommand?: string },
): Promise<ClientCertificate> {
  const { pkiDir, fileStem, opensslCommand = 'openssl' } = options;
  const paths = certificatePaths(pkiDir);
  const cert = join(pkiDir, `${fileStem}.crt`);
  const key = join(pkiDir, `${fileStem}.key`);
  if ((await exists(cert)) && (await exists(key))) return { cert, key };
  const config = `${cert}.cnf`;
  const csr = `${cert}.csr`;
  await writeFile(config, renderOpensslConfig({ profile: 'client', commonName: options.commonName, organization: options.organization }));
  await runOpenssl(opensslCommand, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await runOpenssl(opensslCommand, ['req', '-new', '-config', config, '-key', key, '-out', csr]);
  await runOpenssl(opensslCommand, [
    'x509', '-req', '-in', csr, '-CA', paths.caCert, '-CAkey', paths.caKey, '-set_serial', `0x${randomBytes(16).toString('hex')}`,
    '-sha256', '-days', '3650', '-extfile', config, '-extensions', 'ext', '-out', cert,
  ]);
  await rm(config, { force: true });
  await rm(csr, { force: true });
  return { cert, key };
}

function runOpenssl(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new CertificateError(
          missing
            ? `"${command}" was not found on PATH; it makes the dev cluster's certificates (apt-get install openssl)`
            : `"${command} ${args.slice(0, 2).join(' ')}" failed: ${stderr.trim()}`,
          { cause: error },
        ),
      );
    });
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
