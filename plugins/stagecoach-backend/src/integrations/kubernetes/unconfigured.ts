import { KubeApiError, KubeClusters } from './types';

/** What the engine has when no Kubernetes cluster is configured: every use says how to configure one. */
export const unconfiguredClusters: KubeClusters = {
  client(cluster?: string) {
    throw new KubeApiError(
      `no Kubernetes cluster${cluster ? ` named "${cluster}"` : ''} is configured: ` +
        'set stagecoach.kubernetes.clusters in app-config (or stagecoach.kubernetes.kubeconfig) to reach Argo CD and run job metrics',
    );
  },
  names: () => [],
};
