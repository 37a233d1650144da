import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** Where the kubeconfig is looked for: the environment and home directory of the command. */
export interface KubeConfigSource {
  env: Record<string, string | undefined>;
  homeDir?: string;
}

/**
 * The kubeconfig as kubectl reads it: the files in KUBECONFIG (merged, the first one's
 * current context winning), else ~/.kube/config; `context` picks another context than the
 * current one. Throws, in words, when there is none or the context does not exist.
 */
export function loadKubeConfig(
  source: KubeConfigSource,
  context?: string,
): KubeConfig {
  const kc = new KubeConfig();
  const files = (source.env.KUBECONFIG ?? '')
    .split(path.delimiter)
    .filter(Boolean);
  const home = path.join(source.homeDir ?? os.homedir(), '.kube', 'config');
  let from = files;
  if (from.length === 0 && fs.existsSync(home)) from = [home];
  if (from.length === 0) {
    throw new Error(
      `no kubeconfig: set KUBECONFIG or create ${home} (kubectl config view shows what kubectl uses)`,
    );
  }
  from.forEach((file, i) => {
    if (!fs.existsSync(file))
      throw new Error(`cannot read kubeconfig "${file}": no such file`);
    if (i === 0) {
      kc.loadFromFile(file);
      return;
    }
    const more = new KubeConfig();
    more.loadFromFile(file);
    kc.mergeConfig(more, true);
  });
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      const known = kc.getContexts().map(c => c.name);
      throw new Error(
        `no context "${context}" in the kubeconfig: it has ${
          known.length ? known.join(', ') : 'none'
        }`,
      );
    }
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(
      `the kubeconfig's current context "${kc.getCurrentContext()}" names no cluster: pass --context`,
    );
  }
  return kc;
}
