import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException } from '@kubernetes/client-node';
import { KubeApiError, toKubeApiError } from './custom-objects.ts';

const status = (body: unknown) => JSON.stringify(body);

test('toKubeApiError: an Invalid Status keeps its causes, field by field', () => {
  const answer = new ApiException(
    422,
    'Unprocessable Entity',
    status({
      kind: 'Status',
      message: 'TracingPolicy.stinger.io "p" is invalid: spec.rules[0].action: Unsupported value: "explode"',
      reason: 'Invalid',
      details: { causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "explode"', field: 'spec.rules[0].action' }] },
      code: 422,
    }),
    {},
  );
  const error = toKubeApiError(answer, 'apply TracingPolicy p');
  assert.ok(error instanceof KubeApiError);
  assert.equal(error.status, 422);
  assert.equal(error.reason, 'Invalid');
  assert.equal(error.retriable, false);
  assert.deepEqual(error.causes, [{ field: 'spec.rules[0].action', message: 'Unsupported value: "explode"' }]);
  assert.match(error.message, /^apply TracingPolicy p: TracingPolicy\.stinger\.io "p" is invalid/);
});

test('toKubeApiError: strict decoding names unknown fields only in its message; they become causes', () => {
  const answer = new ApiException(
    400,
    'Bad Request',
    status({ kind: 'Status', reason: 'BadRequest', code: 400, message: 'strict decoding error: unknown field "spec.rules[0].match.colour", unknown field "spec.x"' }),
    {},
  );
  assert.deepEqual(toKubeApiError(answer, 'apply').causes, [
    { field: 'spec.rules[0].match.colour', message: 'unknown field' },
    { field: 'spec.x', message: 'unknown field' },
  ]);
});

test('toKubeApiError: no answer and server trouble are retriable; a plain error has status 0', () => {
  assert.equal(toKubeApiError(new Error('connect ECONNREFUSED 127.0.0.1:6443'), 'list').status, 0);
  assert.equal(toKubeApiError(new Error('connect ECONNREFUSED'), 'list').retriable, true);
  assert.equal(toKubeApiError(new ApiException(503, 'Unavailable', 'not json', {}), 'list').retriable, true);
  assert.equal(toKubeApiError(new ApiException(409, 'Conflict', status({ reason: 'Conflict', message: 'conflict' }), {}), 'status').retriable, true);
  assert.equal(toKubeApiError(new ApiException(404, 'Not Found', status({ reason: 'NotFound', message: 'not found' }), {}), 'get').reason, 'NotFound');
});
