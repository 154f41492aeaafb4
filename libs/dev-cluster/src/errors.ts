/**
 * Errors of the dev cluster, one tree under `DevClusterError` (kafkajs style): callers branch on the class or on
 * `retriable` and nothing else; `cause` keeps whatever was thrown underneath.
 */
import { StingerError } from '@stinger/retry';

export interface DevClusterErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

/** `retriable`: true when trying the same call again may succeed (a transient network or port race). */
export class DevClusterError extends StingerError {
  constructor(message: string, options: DevClusterErrorOptions = {}) {
    super(message, options);
  }
}

/** No Go toolchain was found, or `go build` of kube-apiserver or etcd failed (retriable: the module proxy may have been unreachable). */
export class GoBuildError extends DevClusterError {
  /** The last lines `go` printed. */
  readonly output: string;

  constructor(message: string, options: DevClusterErrorOptions & { readonly output?: string } = {}) {
    super(options.output ? `${message}\n--- go output (tail) ---\n${options.output}` : message, options);
    this.name = 'GoBuildError';
    this.output = options.output ?? '';
  }
}

/** `openssl` is missing or failed while making the cluster's CA, serving/client certificates or service-account key. */
export class CertificateError extends DevClusterError {
  constructor(message: string, options: DevClusterErrorOptions = {}) {
    super(message, options);
    this.name = 'CertificateError';
  }
}

export type DevClusterComponent = 'etcd' | 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'containerd' | 'kubelet';

/** Launching etcd or kube-apiserver, or waiting for it to become healthy/ready, failed. */
export class DevClusterStartError extends DevClusterError {
  readonly component: DevClusterComponent | null;
  /** The last lines of the component's log, empty when it never got that far. */
  readonly logTail: string;

  constructor(
    message: string,
    options: DevClusterErrorOptions & { readonly component?: DevClusterComponent; readonly logTail?: string } = {},
  ) {
    super(options.logTail ? `${message}\n--- ${options.component ?? 'dev cluster'} log (tail) ---\n${options.logTail}` : message, options);
    this.name = 'DevClusterStartError';
    this.component = options.component ?? null;
    this.logTail = options.logTail ?? '';
  }
}

/** A component process would not exit, even after SIGKILL. */
export class DevClusterStopError extends DevClusterError {
  readonly component: DevClusterComponent;
  readonly pid: number;

  constructor(message: string, options: DevClusterErrorOptions & { readonly component: DevClusterComponent; readonly pid: number }) {
    super(message, options);
    this.name = 'DevClusterStopError';
    this.component = options.component;
    this.pid = options.pid;
  }
}
