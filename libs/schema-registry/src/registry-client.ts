/**
 * A client of the Confluent-compatible schema registry API: Apicurio Registry's `/apis/ccompat/v7`, Confluent Schema
 * Registry and Karapace all answer it. Only what Stinger's producers and readers need: register a schema under a
 * subject, set a subject's compatibility, fetch a schema by id.
 *
 * Contract: every request carries the configured basic auth and TLS settings (certificates are always verified) and
 * gives up after `timeoutMs`. Failures are SchemaRegistryError with the HTTP status and the registry's error code;
 * 5xx answers, timeouts and refused connections are retriable, 4xx answers are not. A 409 on registration is a
 * SchemaIncompatibleError with the registry's reason in one line.
 */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SchemaRegistryConfig } from '@stinger/config';
import { SchemaIncompatibleError, SchemaRegistryError } from './errors.ts';

/** Compatibility levels of the Confluent API (Apicurio maps them onto its compatibility rule). */
export type CompatibilityLevel = 'BACKWARD' | 'BACKWARD_TRANSITIVE' | 'FORWARD' | 'FORWARD_TRANSITIVE' | 'FULL' | 'FULL_TRANSITIVE' | 'NONE';

export interface SchemaRegistryClient {
  readonly url: string;
  /** Registers `schema` (Avro JSON) under `subject`, or finds it there; resolves to the registry's schema id. */
  registerSchema(subject: string, schema: unknown): Promise<number>;
  /** Sets the compatibility level of `subject` (checked against its earlier versions at each registration). */
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /** The writer schema (parsed Avro JSON) the registry has under `id`; null when it has none (404). */
  schemaById(id: number): Promise<unknown>;
  /** The subjects the registry holds. */
  subjects(): Promise<readonly string[]>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** The body's `message` and `error_code` (the Confluent API's error shape), or the raw text. */
function registryReason(body: unknown): { readonly message: string; readonly errorCode: number | null } {
  if (typeof body === 'object' && body !== null) {
    const { message, error_code: code } = body as { message?: unknown; error_code?: unknown };
    return { message: typeof message === 'string' ? message : JSON.stringify(body), errorCode: typeof code === 'number' ? code : null };
  }
  return { message: String(body), errorCode: null };
}

/** One line: registries put stack-like details and line breaks into their reasons. */
function oneLine(text: string, max = 400): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function createSchemaRegistryClient(config: SchemaRegistryConfig): SchemaRegistryClient {
  const base = new URL(`${config.url}/`);
  const https = base.protocol === 'https:';
  const authorization = config.basicAuth === null ? undefined : `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64')}`;
  const tls = config.tls;

  function call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<Answer> {
    const target = new URL(path, base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const options: RequestOptions & { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean } = {
      method,
      headers: {
        accept: `${CONTENT_TYPE}, application/json`,
        ...(payload ? { 'content-type': CONTENT_TYPE, 'content-length': String(payload.length) } : {}),
        ...(authorization ? { authorization } : {}),
      },
      timeout: config.timeoutMs,
      ...(https ? { rejectUnauthorized: true, ...(tls?.ca ? { ca: tls.ca } : {}), ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}) } : {}),
    };
    return new Promise<Answer>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(target, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(new SchemaRegistryError(`${method} ${target.pathname}: ${error.message}`, { status: null, retriable: true, cause: error })));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text === '' ? null : JSON.parse(text);
          } catch {
            // Not JSON (a proxy's HTML error page): kept as text for the error message.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${config.timeoutMs} ms (STINGER_SCHEMA_REGISTRY_TIMEOUT_MS)`)));
      req.on('error', (error) =>
        reject(new SchemaRegistryError(`schema registry at ${base.origin}: ${method} ${target.pathname} failed: ${error.message}`, { status: null, retriable: true, cause: error })),
      );
      req.end(payload);
    });
  }

  function failure(what: string, answer: Answer): SchemaRegistryError {
    const { message, errorCode } = registryReason(answer.body);
    const hint = answer.status === 401 || answer.status === 403 ? ' (check STINGER_SCHEMA_REGISTRY_USERNAME and _PASSWORD)' : '';
    return new SchemaRegistryError(`schema registry at ${base.origin}: ${what}: HTTP ${answer.status}: ${oneLine(message)}${hint}`, {
      status: answer.status,
      errorCode,
      retriable: answer.status >= 500 || answer.status === 429,
    });
  }

  const subjectPath = (subject: string): string => `subjects/${encodeURIComponent(subject)}`;

  return {
    url: config.url,
    async registerSchema(subject, schema) {
      const answer = await call('POST', `${subjectPath(subject)}/versions`, { schema: JSON.stringify(schema), schemaType: 'AVRO' });
      if (answer.status === 409) {
        const { message, errorCode } = registryReason(answer.body);
        throw new SchemaIncompatibleError(`schema registry refused ${describeSchema(schema)} for subject ${subject}: ${oneLine(message)}`, { subject, errorCode });
      }
      if (answer.status !== 200) throw failure(`register ${describeSchema(schema)} under ${subject}`, answer);
      const id = (answer.body as { id?: unknown } | null)?.id;
      if (typeof id !== 'number' || !Number.isInteger(id)) throw failure(`register under ${subject} answered no id`, answer);
      return id;
    },
    async setCompatibility(subject, level) {
      const answer = await call('PUT', `config/${encodeURIComponent(subject)}`, { compatibility: level });
      if (answer.status !== 200) throw failure(`set ${subject} to ${level}`, answer);
    },
    async schemaById(id) {
      const answer = await call('GET', `schemas/ids/${id}`);
      if (answer.status === 404) return null;
      if (answer.status !== 200) throw failure(`schema ${id}`, answer);
      const text = (answer.body as { schema?: unknown } | null)?.schema;
      if (typeof text !== 'string') throw failure(`schema ${id} answered no schema`, answer);
      try {
        return JSON.parse(text) as unknown;
      } catch (cause) {
        throw new SchemaRegistryError(`schema registry at ${base.origin}: schema ${id} is not JSON: ${(cause as Error).message}`, { status: 200, retriable: false, cause });
      }
    },
    async subjects() {
      const answer = await call('GET', 'subjects');
      if (answer.status !== 200 || !Array.isArray(answer.body)) throw failure('list subjects', answer);
      return answer.body.filter((s): s is string => typeof s === 'string');
    },
  };
}

/** `io.stinger.Event` for a record schema; `schema` otherwise. */
function describeSchema(schema: unknown): string {
  if (typeof schema === 'object' && schema !== null) {
    const { name, namespace } = schema as { name?: unknown; namespace?: unknown };
    if (typeof name === 'string') return typeof namespace === 'string' && !name.includes('.') ? `${namespace}.${name}` : name;
  }
  return 'schema';
}
