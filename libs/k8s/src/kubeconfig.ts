/**
 * The KubeConfig for the source loadConfig decided on (libs/config: KUBECONFIG, ~/.kube/config, in-cluster, or none),
 * loaded as client-node's `loadFromDefault` loads it (kubeconfig.test.ts compares the two) but from the values
 * loadConfig read and validated, so the environment is read in one place. Null outside a cluster, where
 * loadFromDefault would point at http://localhost:8080: the caller then uses DisabledPodIndex.
 */
import type { StingerConfig } from '@stinger/config';
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(config: Pick<StingerConfig, 'kubeconfig'>): KubeConfig | null {
  const source = config.kubeconfig;
  switch (source.kind) {
    case 'none':
      return null;
    case 'file': {
      const kubeConfig = new KubeConfig();
      const [first, ...rest] = source.paths;
      if (first === undefined) return null;
      kubeConfig.loadFromFile(first);
      for (const path of rest) {
        const more = new KubeConfig();
        more.loadFromFile(path);
        kubeConfig.mergeConfig(more, true);
      }
      return kubeConfig;
    }
    case 'in-cluster': {
      // What client-node's loadFromCluster does, from the values loadConfig validated (its token path and CA are fixed).
      const kubeConfig = new KubeConfig();
      const host = source.host.includes(':') ? `[${source.host}]` : source.host;
      kubeConfig.loadFromClusterAndUser(
        { name: 'inCluster', server: `https://${host}:${source.port}`, caFile: source.caPath, skipTLSVerify: false },
        { name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: source.tokenPath } } },
      );
      return kubeConfig;
    }
  }
}
