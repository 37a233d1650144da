import type { ArgoCdApp } from '@stagecoach/plugin-stagecoach-common';
import type { KubeClusters } from '../kubernetes/types';
import { findApps } from './applications';
import { toArgoCdApp } from './health';
import { argoCdNamespaces, ArgoCdSettings } from './types';

/** A catalog entity's Argo CD annotations (the community Argo CD plugin's). */
export interface EntityArgoCdAnnotations {
  /** `argocd/app-name` */
  appName?: string;
  /** `argocd/app-selector`: `k=v,k2=v2` */
  appSelector?: string;
  /** `argocd/app-namespace` */
  appNamespace?: string;
}

/**
 * The Argo CD apps a catalog entity names, as the API shows them beside the stages: each
 * with the stage of `project` that drives it (its authorized-stage annotation), if any. A
 * problem (cluster unreachable, app missing, bad selector, a namespace app-config does not
 * list) is an `appsError` in words, never an error of the whole page.
 */
export async function entityApps(
  kube: KubeClusters,
  settings: ArgoCdSettings,
  project: string,
  stages: ReadonlySet<string>,
  annotations: EntityArgoCdAnnotations,
): Promise<{ apps?: Array<ArgoCdApp & { stage?: string }>; appsError?: string }> {
  const { appName, appSelector } = annotations;
  if (!appName && !appSelector) return {};
  const namespace = annotations.appNamespace || undefined;
  // anyone who can edit a catalog entity writes its annotations: they may name only the namespaces app-config lists
  const readable = argoCdNamespaces(settings);
  if (namespace && !readable.includes(namespace)) {
    return {
      appsError:
        `the argocd/app-namespace annotation names namespace "${namespace}", which Stagecoach does not read Argo CD Applications from: ` +
        `app-config stagecoach.argocd.namespaces allows ${readable.join(', ')}`,
    };
  }
  try {
    let target;
    if (appName) target = { name: appName, namespace };
    else {
      const matchLabels = parseEqualitySelector(appSelector!);
      if (typeof matchLabels === 'string') return { appsError: matchLabels };
      target = { selector: { matchLabels }, namespace };
    }
    const found = await findApps(kube, settings, target);
    const apps = found.apps.map(app => {
      const view = toArgoCdApp(app, found.cluster, settings);
      const stage = (view.authorizedStages ?? [])
        .map(entry => entry.split(':'))
        .find(([p, s]) => p === project && stages.has(s))?.[1];
      return { ...view, ...(stage ? { stage } : {}) };
    });
    if (apps.length === 0) {
      return { apps, appsError: appName ? `${found.what} does not exist` : `no ${found.what}` };
    }
    return { apps };
  } catch (e) {
    return { appsError: e instanceof Error ? e.message : String(e) };
  }
}

/** `app=guestbook,env=prod` into labels, or a message saying what is wrong with it. */
function parseEqualitySelector(text: string): Record<string, string> | string {
  const labels: Record<string, string> = {};
  for (const part of text.split(',').map(p => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9./_-]+)\s*==?\s*([A-Za-z0-9._-]*)$/.exec(part);
    if (!m) return `the argocd/app-selector annotation "${text}" must be key=value pairs separated by commas`;
    labels[m[1]] = m[2];
  }
  if (Object.keys(labels).length === 0) return 'the argocd/app-selector annotation is empty';
  return labels;
}
