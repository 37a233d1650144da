/** Argo CD, reached through its Application resources in the Kubernetes API. */
import type { Config } from '@backstage/config';

/** Where Applications live and how to link to them (app-config `stagecoach.argocd`). */
export interface ArgoCdSettings {
  /** The namespace Applications are in unless a step or annotation names another (default `argocd`). */
  namespace: string;
  /**
   * The namespaces a catalog entity's `argocd/app-namespace` annotation may name
   * (app-config `stagecoach.argocd.namespaces`; default: `namespace` alone).
   */
  namespaces?: string[];
  /** Argo CD's UI, for links: `https://argocd.example.com` (optional). */
  url?: string;
}

export const DEFAULT_ARGOCD_SETTINGS: ArgoCdSettings = { namespace: 'argocd' };

/** Argo CD's settings in app-config (`stagecoach.argocd`). */
export function readArgoCdSettings(config: Config): ArgoCdSettings {
  return {
    namespace: config.getOptionalString('stagecoach.argocd.namespace') ?? DEFAULT_ARGOCD_SETTINGS.namespace,
    url: config.getOptionalString('stagecoach.argocd.url')?.replace(/\/+$/, ''),
    namespaces: config.getOptionalStringArray('stagecoach.argocd.namespaces'),
  };
}

/** Every namespace Argo CD's Applications are read from: the default one and those annotations may name. */
export function argoCdNamespaces(settings: ArgoCdSettings): string[] {
  return [...new Set([settings.namespace, ...(settings.namespaces ?? [])])];
}

export interface ArgoCdAppRef {
  name: string;
  namespace: string;
  /** The cluster (app-config `stagecoach.kubernetes.clusters[].name`); the default one when absent. */
  cluster?: string;
}

/**
 * What a successful argocd-update leaves for the stage's health: the apps it drove and the
 * revisions it asked for, one per source of the app ('' where it did not ask for one).
 * Stage health re-checks these until the stage is promoted again.
 */
export interface ArgoCdHealthCheck {
  kind: 'argocd';
  apps: Array<ArgoCdAppRef & { desiredRevisions: string[] }>;
}

export type HealthCheck = ArgoCdHealthCheck;
