import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '@backstage/config';
import { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';

/**
 * Where Stagecoach's Kubernetes clusters come from (app-config `stagecoach.kubernetes`), turned
 * into one `KubeConfig` per cluster. Parsing is separate from the client so that every mistake
 * in the config is reported at startup with its key, before any request is made.
 */

/** A cluster given as plain options: how app-config describes one, and how tests build one. */
export interface ClusterOptions {
  name: string;
  /** The API server: `https://10.0.0.1:6443`. */
  url: string;
  /** A bearer token (a service account's). */
  token?: string;
  /** The API server's CA certificate(s), base64-encoded PEM (as in a kubeconfig's `certificate-authority-data`). */
  caData?: string;
  skipTLSVerify?: boolean;
}

/** One cluster, ready to be talked to, with the words error messages use to say what to check. */
export interface ResolvedCluster {
  name: string;
  url: string;
  kubeConfig: KubeConfig;
  /** Where the URL is configured: `stagecoach.kubernetes.clusters[0].url`. */
  urlHint: string;
  /** Where the credentials are configured: `the token in stagecoach.kubernetes.clusters[0].serviceAccountToken`. */
  credentialsHint: string;
}

export interface ParsedClusters {
  clusters: ResolvedCluster[];
  defaultCluster?: string;
}

/** Where to look when app-config names no cluster (overridable so tests need not touch $HOME). */
export interface ClusterDiscovery {
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  /** Prefix of the service account files (`/var/run/secrets/kubernetes.io/serviceaccount/...`). */
  inClusterPathPrefix?: string;
}

const CONFIG_KEY = 'stagecoach.kubernetes';
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Thrown at startup for a bad `stagecoach.kubernetes`; the message names the key. */
export class KubernetesConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubernetesConfigError';
  }
}

function isBase64Pem(value: string): boolean {
  const text = Buffer.from(value.replace(/\s+/g, ''), 'base64').toString('utf8');
  return text.includes('-----BEGIN CERTIFICATE-----');
}

const clusterSchema = z
  .object({
    name: z.string({ required_error: 'is required' }).min(1, 'must not be empty'),
    url: z
      .string({ required_error: 'is required' })
      .refine(v => /^https?:\/\/[^/\s]+/i.test(v) && URL.canParse(v), 'must be the API server URL, such as https://10.0.0.1:6443'),
    serviceAccountToken: z.string().min(1, 'must not be empty (leave the key out for no token)').optional(),
    caData: z
      .string()
      .refine(isBase64Pem, 'must be the base64 encoding of the PEM CA certificate (as in a kubeconfig certificate-authority-data)')
      .optional(),
    skipTLSVerify: z.boolean().optional(),
  })
  .strict();

const kubernetesSchema = z
  .object({
    clusters: z.array(clusterSchema).optional(),
    kubeconfig: z.string().min(1, 'must be the path of a kubeconfig file').optional(),
    defaultCluster: z.string().min(1).optional(),
  })
  .strict();

function keyOf(pathParts: (string | number)[]): string {
  return pathParts.reduce<string>(
    (key, part) => (typeof part === 'number' ? `${key}[${part}]` : `${key}.${part}`),
    CONFIG_KEY,
  );
}

function issueText(issue: z.ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const hint = issue.keys.includes('token') ? ' (the token key is serviceAccountToken)' : '';
    return `${keyOf(issue.path)}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(k => `"${k}"`).join(', ')}${hint}`;
  }
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return `${keyOf(issue.path)} is required`;
  if (issue.code === 'invalid_type') return `${keyOf(issue.path)} must be a ${issue.expected}, not a ${issue.received}`;
  return `${keyOf(issue.path)} ${issue.message}`;
}

/** A cluster from plain options: a token user, and the CA or skipTLSVerify for TLS. */
export function resolveClusterOptions(options: ClusterOptions, configKey?: string): ResolvedCluster {
  const url = options.url.replace(/\/+$/, '');
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: options.name, server: url, caData: options.caData, skipTLSVerify: options.skipTLSVerify ?? false }],
    users: [{ name: 'stagecoach', token: options.token }],
    contexts: [{ name: options.name, cluster: options.name, user: 'stagecoach' }],
    currentContext: options.name,
  });
  return {
    name: options.name,
    url,
    kubeConfig,
    urlHint: configKey ? `${configKey}.url` : `the URL of cluster "${options.name}"`,
    credentialsHint: configKey
      ? `the token in ${configKey}.serviceAccountToken`
      : `the token of cluster "${options.name}"`,
  };
}

/** Every context of a kubeconfig (one file, or KUBECONFIG's list merged) as a cluster named by the context. */
function kubeconfigClusters(files: string[], where: string): { clusters: ResolvedCluster[]; current?: string } {
  const merged = new KubeConfig();
  files.forEach((file, i) => {
    const kc = i === 0 ? merged : new KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new KubernetesConfigError(
        `${where}: cannot read kubeconfig "${file}": ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      );
    }
    if (i > 0) merged.mergeConfig(kc, true);
  });
  const contexts = merged.getContexts();
  if (contexts.length === 0) {
    throw new KubernetesConfigError(`${where}: kubeconfig ${files.join(', ')} has no contexts: add one, or configure stagecoach.kubernetes.clusters`);
  }
  const clusters = contexts.map(context => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: merged.getClusters(),
      users: merged.getUsers(),
      contexts: merged.getContexts(),
      currentContext: context.name,
    });
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) {
      throw new KubernetesConfigError(
        `${where}: context "${context.name}" of kubeconfig ${files.join(', ')} names cluster "${context.cluster}", which the file does not define`,
      );
    }
    return {
      name: context.name,
      url: cluster.server.replace(/\/+$/, ''),
      kubeConfig,
      urlHint: `the server of cluster "${cluster.name}" (context "${context.name}") in kubeconfig ${files.join(', ')}`,
      credentialsHint: `the credentials of user "${context.user}" (context "${context.name}") in kubeconfig ${files.join(', ')}`,
    };
  });
  const current = merged.getCurrentContext();
  return { clusters, current: contexts.some(c => c.name === current) ? current : undefined };
}

/** The Backstage pod's own service account, as `kubectl` inside a pod would use it. */
function inClusterCluster(pathPrefix: string): ResolvedCluster {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromCluster(pathPrefix);
  return {
    name: 'in-cluster',
    url: kubeConfig.getCurrentCluster()!.server,
    kubeConfig,
    urlHint: 'the KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT environment variables of the Backstage pod',
    credentialsHint: `the service account token mounted at ${SERVICE_ACCOUNT_DIR}/token (is the pod's service account still there?)`,
  };
}

/**
 * Reads `stagecoach.kubernetes`. Nothing configured: KUBECONFIG or ~/.kube/config if there is
 * one, else the pod's service account when running in Kubernetes, else no cluster at all
 * (`clusters` empty).
 */
export function parseKubernetesConfig(config: Config, discovery: ClusterDiscovery = {}): ParsedClusters {
  const raw = config.getOptional(CONFIG_KEY) ?? {};
  const parsed = kubernetesSchema.safeParse(raw);
  if (!parsed.success) {
    throw new KubernetesConfigError(`Invalid Kubernetes configuration: ${parsed.error.issues.map(issueText).join('; ')}`);
  }
  const settings = parsed.data;
  const clusters: ResolvedCluster[] = [];
  let fallbackDefault: string | undefined;

  (settings.clusters ?? []).forEach((c, i) => {
    const key = `${CONFIG_KEY}.clusters[${i}]`;
    if (c.url.startsWith('http:') && !c.skipTLSVerify) {
      // @kubernetes/client-node refuses plain HTTP unless TLS checks are explicitly off
      throw new KubernetesConfigError(`${key}.url is plain http://: use https://, or set ${key}.skipTLSVerify: true for an unencrypted API server`);
    }
    clusters.push(resolveClusterOptions({ name: c.name, url: c.url, token: c.serviceAccountToken, caData: c.caData, skipTLSVerify: c.skipTLSVerify }, key));
  });
  fallbackDefault = clusters[0]?.name;

  if (settings.kubeconfig) {
    const fromFile = kubeconfigClusters([settings.kubeconfig], `${CONFIG_KEY}.kubeconfig`);
    clusters.push(...fromFile.clusters);
    fallbackDefault ??= fromFile.current ?? fromFile.clusters[0].name;
  }

  if (!settings.clusters?.length && !settings.kubeconfig) {
    const env = discovery.env ?? process.env;
    const home = discovery.homeDir ?? os.homedir();
    const files = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
    const homeConfig = path.join(home, '.kube', 'config');
    const prefix = discovery.inClusterPathPrefix ?? '';
    if (files.length > 0) {
      const fromEnv = kubeconfigClusters(files, 'the KUBECONFIG environment variable');
      clusters.push(...fromEnv.clusters);
      fallbackDefault = fromEnv.current ?? fromEnv.clusters[0].name;
    } else if (fs.existsSync(homeConfig)) {
      const fromHome = kubeconfigClusters([homeConfig], homeConfig);
      clusters.push(...fromHome.clusters);
      fallbackDefault = fromHome.current ?? fromHome.clusters[0].name;
    } else if (fs.existsSync(`${prefix}${SERVICE_ACCOUNT_DIR}/token`)) {
      clusters.push(inClusterCluster(prefix));
      fallbackDefault = 'in-cluster';
    }
  }

  const seen = new Set<string>();
  for (const c of clusters) {
    if (seen.has(c.name)) {
      throw new KubernetesConfigError(
        `${CONFIG_KEY}: two clusters are named "${c.name}" (cluster names and kubeconfig context names must all differ)`,
      );
    }
    seen.add(c.name);
  }
  if (settings.defaultCluster && !seen.has(settings.defaultCluster)) {
    throw new KubernetesConfigError(
      `${CONFIG_KEY}.defaultCluster is "${settings.defaultCluster}", which is not a configured cluster ${
        seen.size ? `(known: ${[...seen].join(', ')})` : '(no cluster is configured)'
      }`,
    );
  }
  return { clusters, defaultCluster: settings.defaultCluster ?? fallbackDefault };
}
