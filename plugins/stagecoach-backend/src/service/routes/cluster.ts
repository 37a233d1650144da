import { InputError } from '@backstage/errors';
import {
  stagecoachClusterReadPermission,
  stagecoachClusterUpdatePermission,
} from '@stagecoach/plugin-stagecoach-common';
import { readApplyRequest } from '../../manifests/applyRequest';
import { audited } from '../audit';
import type { RouteContext } from './RouteContext';

/**
 * The cluster scope: Kargo's ClusterPromotionTasks and ClusterConfig, shared by every project.
 * Reading needs stagecoach.cluster.read, applying stagecoach.cluster.update: permissions with
 * no resource, which a policy grants to a platform team. Every apply is an auditor event,
 * whose meta says how it applies: `replace` (the set becomes the cluster scope), `prune` (and
 * removes what it leaves out) or `merge` (adds and updates, keeps the rest).
 */
export function clusterRoutes({ router, engine, httpAuth, access, auditor, actorOf, limitParam }: RouteContext): void {
  router.get('/cluster/manifests', async (req, res) => {
    await access.checkCluster(await httpAuth.credentials(req), stagecoachClusterReadPermission);
    res.json(await engine.cluster.get());
  });

  router.put('/cluster/manifests', async (req, res) => {
    const body: unknown = req.body;
    let text: string | undefined;
    if (typeof body === 'string') text = body;
    else if (typeof (body as { manifests?: unknown } | undefined)?.manifests === 'string') {
      text = (body as { manifests: string }).manifests;
    }
    const result = await audited(
      auditor,
      req,
      { eventId: 'cluster-manifests-apply', severityLevel: 'high', meta: { mode: applyMode(req.query) } },
      async () => {
        const credentials = await httpAuth.credentials(req);
        await access.checkCluster(credentials, stagecoachClusterUpdatePermission);
        if (!text?.trim()) {
          throw new InputError('send the cluster manifests as YAML (Content-Type: application/yaml) or as JSON {"manifests": "<yaml>"}');
        }
        return engine.cluster.apply(text, { ...readApplyRequest(req.query, body, { merge: true }), actor: actorOf(credentials) });
      },
      r => ({ clusterPromotionTasks: r.clusterPromotionTasks, clusterConfig: r.clusterConfig, changes: r.changes }),
    );
    res.json(result);
  });

  router.get('/cluster/manifests/history', async (req, res) => {
    await access.checkCluster(await httpAuth.credentials(req), stagecoachClusterReadPermission);
    res.json({ items: await engine.cluster.history(limitParam(req)) });
  });
}

/** How an apply asks to apply, as the audit event says it (the request is checked later: a wrong value fails the event). */
function applyMode(query: Record<string, unknown>): 'merge' | 'prune' | 'replace' {
  if (query.merge === 'true') return 'merge';
  return query.prune === 'true' ? 'prune' : 'replace';
}
