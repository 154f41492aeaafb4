/**
 * YAML (or JSON) text → validated policies. A file may hold several documents (`---`); each is validated on its
 * own and every problem of every document is returned, with the field path, the document's position (when the
 * file has several) and the line. Policies of valid documents are returned even when other documents fail: the
 * caller decides whether one bad document refuses the whole file (the CLI does).
 */
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { PolicyIssue } from './errors.ts';
import { policyKey, type TracingPolicy } from './policy-types.ts';
import { checkPolicy, formatPath, type PathSegments, type RawIssue } from './validate-policy.ts';

export interface ParsePoliciesOptions {
  /** Named in every issue, e.g. the file name. Default: '<input>'. */
  readonly source?: string;
}

export interface ParsedPolicies {
  /** The valid documents' policies, in file order. */
  readonly policies: TracingPolicy[];
  readonly errors: PolicyIssue[];
  /** Normalisations (paths, CIDRs) applied to valid values. */
  readonly warnings: PolicyIssue[];
}

/** Aliases beyond this many expansions are refused (a "billion laughs" document). */
const MAX_ALIAS_COUNT = 100;

export function parsePolicies(yamlText: string, options: ParsePoliciesOptions = {}): ParsedPolicies {
  const source = options.source ?? '<input>';
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(yamlText, { lineCounter, prettyErrors: false });
  const result: ParsedPolicies = { policies: [], errors: [], warnings: [] };
  // A document with no content (`---` at the end of a file, a comment-only document) is not a policy.
  const isEmpty = (doc: Document.Parsed): boolean => doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '');
  const documents = (Array.isArray(parsed) ? parsed : []).filter((doc) => !isEmpty(doc) || doc.errors.length > 0);
  const several = documents.length > 1;
  const keys = new Map<string, number>();

  documents.forEach((doc, index) => {
    const position = index + 1;
    const locate = (issue: RawIssue): PolicyIssue => {
      const offset = offsetOf(doc, issue.segments);
      const line = offset === null ? undefined : lineCounter.linePos(offset).line;
      return {
        path: formatPath(issue.segments),
        message: issue.message,
        source,
        ...(several ? { document: position } : {}),
        ...(line === undefined ? {} : { line }),
      };
    };
    if (doc.errors.length > 0) {
      for (const error of doc.errors) {
        result.errors.push({
          path: '',
          message: `YAML: ${error.message.split('\n')[0] ?? error.message}`,
          source,
          ...(several ? { document: position } : {}),
          line: lineCounter.linePos(error.pos[0]).line,
        });
      }
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      result.errors.push({ path: '', message: `YAML: ${(error as Error).message}`, source, ...(several ? { document: position } : {}) });
      return;
    }
    const checked = checkPolicy(value);
    result.errors.push(...checked.errors.map(locate));
    result.warnings.push(...checked.warnings.map(locate));
    if (checked.policy === null) return;
    const key = policyKey(checked.policy);
    const first = keys.get(key);
    if (first !== undefined) {
      result.errors.push(locate({ segments: ['metadata', 'name'], message: `policy ${JSON.stringify(key)} is already defined in document ${first}` }));
      return;
    }
    keys.set(key, position);
    result.policies.push(checked.policy);
  });
  return result;
}

/**
 * Offset of the node at `segments` in the text: the key for a mapping entry (where an unknown key is written),
 * the item for a list entry; the deepest existing ancestor when the path does not exist (a missing field).
 */
function offsetOf(doc: Document.Parsed, segments: PathSegments): number | null {
  let node: unknown = doc.contents;
  let offset: number | null = rangeStart(node);
  for (const segment of segments) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (pair === undefined) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      offset = rangeStart(node) ?? offset;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | null {
  if (typeof node !== 'object' || node === null || !('range' in node)) return null;
  const range = (node as { range?: readonly number[] | null }).range;
  return range?.[0] ?? null;
}
