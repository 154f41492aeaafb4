// Egress events (DNS names, TLS server names, HTTP hosts read by the agent) against the policy fields dnsName,
// serverName, httpHost, daddr and dport: the conditions the detector compiles and the values its table reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EgressPayload, MatchCondition } from '@stinger/events';
import { sampleEgressPayload, sampleEvent } from '@stinger/testing';
import { compileCondition } from './conditions.ts';
import { fieldValues } from './event-fields.ts';

const egress = (fields: Partial<EgressPayload>) => sampleEvent({ kind: 'egress', payload: sampleEgressPayload(fields) });
const holds = (condition: MatchCondition, event: ReturnType<typeof egress>) => compileCondition(condition)(event);

test('dnsName suffix .onion holds for an onion query and for no other name; equal holds for the name itself', () => {
  const onion = { field: 'dnsName', operator: 'suffix', values: ['.onion'] } as const;
  assert.equal(holds({ ...onion, values: [...onion.values] }, egress({ dns_name: 'abcdefgh.onion', dns_type: 'A' })), true);
  assert.equal(holds({ ...onion, values: [...onion.values] }, egress({ dns_name: 'onion.example' })), false);
  assert.equal(holds({ field: 'dnsName', operator: 'equal', values: ['pool.example'] }, egress({ dns_name: 'pool.example' })), true);
  assert.equal(holds({ field: 'dnsName', operator: 'equal', values: ['pool.example'] }, egress({ dns_name: null, application: 'tls', server_name: 'pool.example' })), false, 'a TLS event carries no DNS name');
});

test('serverName and httpHost read their own fields, compared in lower case; daddr and dport read the egress addresses', () => {
  const tls = egress({ application: 'tls', protocol: 'tcp', dport: 443, daddr: '198.51.100.20', server_name: 'XMR.Pool.Example', alpn: ['h2'] });
  assert.deepEqual(fieldValues(tls, 'serverName'), ['xmr.pool.example']);
  assert.deepEqual(fieldValues(tls, 'dnsName'), []);
  assert.equal(holds({ field: 'serverName', operator: 'suffix', values: ['.pool.example'] }, tls), true);
  assert.equal(holds({ field: 'daddr', operator: 'cidr', values: ['198.51.100.0/24'] }, tls), true);
  assert.equal(holds({ field: 'dport', operator: 'range', values: ['443-443'] }, tls), true);
  const http = egress({ application: 'http', protocol: 'tcp', dport: 80, http_request: 'GET / HTTP/1.1', http_host: 'abc.transfer.sh' });
  assert.deepEqual(fieldValues(http, 'httpHost'), ['abc.transfer.sh']);
  assert.equal(holds({ field: 'httpHost', operator: 'equal', values: ['abc.transfer.sh'] }, http), true);
  assert.equal(holds({ field: 'httpHost', operator: 'not_suffix', values: ['.transfer.sh'] }, http), false);
});
