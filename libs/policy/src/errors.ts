/**
 * Errors of @stinger/policy. Validation never stops at the first problem: every problem found in a document is an
 * issue, and the error carries all of them. None of these errors is retriable: the same input fails the same way.
 */

/** One problem (or, for warnings, one normalisation) found in a policy, named by its field path. */
export interface PolicyIssue {
  /** Field path in the document, e.g. `spec.rules[1].match.dport`; '' for the document itself. */
  readonly path: string;
  readonly message: string;
  /** File name or other origin given to parsePolicies; absent for validatePolicy on an object. */
  readonly source?: string;
  /** 1-based position of the YAML document in its file; set when the file holds several documents. */
  readonly document?: number;
  /** 1-based line of the offending node in the YAML or JSON text, when known. */
  readonly line?: number;
  /** 1-based column of the offending node on that line, when known. */
  readonly column?: number;
}

/** `source:line:column (document N): path: message`, leaving out what is unknown. */
export function formatIssue(issue: PolicyIssue): string {
  let where = '';
  if (issue.source !== undefined) {
    where += issue.source;
    if (issue.line !== undefined) where += `:${issue.line}${issue.column === undefined ? '' : `:${issue.column}`}`;
  }
  if (issue.document !== undefined) where += `${where === '' ? '' : ' '}(document ${issue.document})`;
  const field = issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
  return where === '' ? field : `${where}: ${field}`;
}

export interface PolicyErrorOptions {
  readonly cause?: unknown;
}

/** Base of the package's error tree. */
export class PolicyError extends Error {
  readonly retriable: boolean = false;
  constructor(message: string, options: PolicyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PolicyError';
  }
}

/** A policy document is invalid; `issues` lists every problem found, not only the first. */
export class PolicyValidationError extends PolicyError {
  readonly issues: readonly PolicyIssue[];
  constructor(issues: readonly PolicyIssue[], options: PolicyErrorOptions = {}) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`invalid policy (${count}):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, options);
    this.name = 'PolicyValidationError';
    this.issues = issues;
  }
}
