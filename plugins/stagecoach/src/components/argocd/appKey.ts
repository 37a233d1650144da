import type { ArgoCdApp } from '@stagecoach/plugin-stagecoach-common';

/** The same Argo CD app, whichever list it came from. */
export function appKey(app: Pick<ArgoCdApp, 'cluster' | 'namespace' | 'name'>) {
  return `${app.cluster ?? ''}/${app.namespace}/${app.name}`;
}
