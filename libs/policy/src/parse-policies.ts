/**
 * YAML or JSON text → validated policies. YAML: a file may hold several documents (`---`). JSON: one policy object,
 * or an array of them (each element is a document). Either way each document is validated on its own and every
 * problem of every document is returned with the field path, the document's position (when the file has several),
 * and the line and column. JSON is read by the YAML parser too (JSON is YAML's flow style), so both forms get the
 * same messages and positions; JSON syntax is checked by JSON.parse first, so a comma too many, which YAML would
 * accept, is refused where JSON refuses it. Policies of valid documents are returned even when other documents
 * fail: the caller decides whether one bad document refuses the whole file (the CLI does).
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

/** A JSON text starts with an object or an array; YAML policies start with a key or `---`. */
export function isJsonText(text: string): boolean {
  const first = /\S/.exec(text)?.[0];
  return first === '{' || first === '[';
}

/** One policy document: its value, the node its positions are read from, and its errors of syntax. */
interface PolicyDocument {
  readonly value: unknown;
  readonly node: unknown;
  readonly syntaxErrors: readonly { readonly message: string; readonly offset: number }[];
}

/** JSON.parse's message without the position it appends (reported as line and column instead). */
function jsonSyntaxError(text: string, error: SyntaxError): { message: string; offset: number } {
  const position = /at position (\d+)/.exec(error.message);
  const offset = position === null ? text.length : Number(position[1]);
  const message = error.message.replace(/ in JSON at position \d+.*$/s, '').replace(/^JSON\.parse: /, '');
  return { message: `JSON: ${message}`, offset };
}

function documentsOf(text: string, lineCounter: LineCounter): PolicyDocument[] | { message: string; offset: number } {
  const json = isJsonText(text);
  if (json) {
    try {
      JSON.parse(text);
    } catch (error) {
      if (error instanceof SyntaxError) return jsonSyntaxError(text, error);
      throw error;
    }
  }
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  // A document with no content (`---` at the end of a file, a comment-only document) is not a policy.
  const isEmpty = (doc: Document.Parsed): boolean => doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && doc.contents.source === '');
  const documents: PolicyDocument[] = [];
  for (const doc of (Array.isArray(parsed) ? parsed : []).filter((d) => !isEmpty(d) || d.errors.length > 0)) {
    const syntaxErrors = doc.errors.map((error) => ({ message: `${json ? 'JSON' : 'YAML'}: ${error.message.split('\n')[0] ?? error.message}`, offset: error.pos[0] }));
    if (syntaxErrors.length > 0) {
      documents.push({ value: undefined, node: doc.contents, syntaxErrors });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      documents.push({ value: undefined, node: doc.contents, syntaxErrors: [{ message: `YAML: ${(error as Error).message}`, offset: -1 }] });
      continue;
    }
    // A JSON array of policies: each element is a document.
    if (json && Array.isArray(value) && isSeq(doc.contents)) {
      const items = doc.contents.items;
      value.forEach((element, index) => documents.push({ value: element, node: items[index], syntaxErrors: [] }));
      continue;
    }
    documents.push({ value, node: doc.contents, syntaxErrors: [] });
  }
  return documents;
}

export function parsePolicies(text: string, options: ParsePoliciesOptions = {}): ParsedPolicies {
  const source = options.source ?? '<input>';
  const lineCounter = new LineCounter();
  const result: ParsedPolicies = { policies: [], errors: [], warnings: [] };
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const documents = documentsOf(text, lineCounter);
  if (!Array.isArray(documents)) {
    // JSON.parse refused it: the YAML parser has not run, so count lines here.
    const before = text.slice(0, documents.offset).split('\n');
    result.errors.push({ path: '', message: documents.message, source, line: before.length, column: (before.at(-1)?.length ?? 0) + 1 });
    return result;
  }
  const several = documents.length > 1;
  const keys = new Map<string, number>();

  documents.forEach((doc, index) => {
    const documentNumber = index + 1;
    const at = several ? { document: documentNumber } : {};
    for (const error of doc.syntaxErrors) {
      result.errors.push({ path: '', message: error.message, source, ...at, ...(error.offset < 0 ? {} : position(error.offset)) });
    }
    if (doc.syntaxErrors.length > 0) return;
    const locate = (issue: RawIssue): PolicyIssue => {
      const offset = offsetOf(doc.node, issue.segments);
      return { path: formatPath(issue.segments), message: issue.message, source, ...at, ...(offset === null ? {} : position(offset)) };
    };
    const checked = checkPolicy(doc.value);
    result.errors.push(...checked.errors.map(locate));
    result.warnings.push(...checked.warnings.map(locate));
    if (checked.policy === null) return;
    const key = policyKey(checked.policy);
    const first = keys.get(key);
    if (first !== undefined) {
      result.errors.push(locate({ segments: ['metadata', 'name'], message: `policy ${JSON.stringify(key)} is already defined in document ${first}` }));
      return;
    }
    keys.set(key, documentNumber);
    result.policies.push(checked.policy);
  });
  return result;
}

/**
 * Offset of the node at `segments` in the text: the key for a mapping entry (where an unknown key is written),
 * the item for a list entry; the deepest existing ancestor when the path does not exist (a missing field).
 */
function offsetOf(root: unknown, segments: PathSegments): number | null {
  let node: unknown = root;
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
