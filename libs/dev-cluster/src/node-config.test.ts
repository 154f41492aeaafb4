import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NODE_BRIDGE, NODE_IP, PAUSE_IMAGE, POD_SUBNET, renderCniConfig, renderContainerdConfig, renderKubeletConfig } from './node-config.ts';

test("the kubelet is configured for this machine's hybrid cgroups and withheld CAP_SYS_RESOURCE, and keeps imported images", () => {
  const config = JSON.parse(renderKubeletConfig({ containerdSocket: '/s/c.sock', clientCaFile: '/p/ca.crt', port: 10250, healthzPort: 10248, podLogsDir: '/n/pod-logs' })) as Record<string, unknown>;
  assert.equal(config['failCgroupV1'], false);
  assert.equal(config['cgroupDriver'], 'cgroupfs');
  assert.equal(config['oomScoreAdj'], 0);
  assert.equal(config['containerRuntimeEndpoint'], 'unix:///s/c.sock');
  assert.equal(config['imageGCHighThresholdPercent'], 100);
  assert.equal(config['address'], NODE_IP);
});

test('containerd restricts oom_score_adj, uses runc and the local pause image; the CNI bridge serves the pod subnet with the node as gateway', () => {
  const toml = renderContainerdConfig({ rootDir: '/n/root', stateDir: '/n/state', socket: '/n/c.sock', cniConfDir: '/n/net.d' });
  assert.match(toml, /restrict_oom_score_adj = true/);
  assert.match(toml, new RegExp(`sandbox_image = "${PAUSE_IMAGE}"`));
  assert.match(toml, /default_runtime_name = "runc"/);
  const cni = JSON.parse(renderCniConfig({ ipamDataDir: '/n/ipam' })) as { plugins: Array<{ type: string; bridge?: string; ipam?: { ranges: Array<Array<{ subnet: string; gateway: string }>> } }> };
  const bridge = cni.plugins.find((plugin) => plugin.type === 'bridge');
  assert.equal(bridge?.bridge, NODE_BRIDGE);
  assert.deepEqual(bridge?.ipam?.ranges, [[{ subnet: POD_SUBNET, gateway: NODE_IP }]]);
});
