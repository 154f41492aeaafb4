/**
 * IP address, network and host:port text, shared by what the kernel reports (libs/bpf), what policies name
 * (libs/policy) and what the services listen on, so that one address is always written and parsed the same way.
 */

export { formatIpv6 } from './ipv6.ts';
export { mappedNetwork, parseCidr, type ParsedCidr } from './cidr.ts';
export { isLoopbackHost, parseHostPort, type HostPort } from './host-port.ts';
