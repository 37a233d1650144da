/**
 * Documents a Kargo project's manifests often hold beside Kargo's own (the project's
 * Namespace, Argo CD Applications, RBAC): Stagecoach does not read them, and says so in the
 * apply's warnings instead of refusing the set.
 */

/** Why a kind is not read, for the kinds Kargo users most often keep beside their pipeline. */
const WHY: Record<string, string> = {
  Namespace: 'the project is where the manifests are applied',
  Application: "Argo CD's Applications belong to the cluster: apply them there (argocd-update steps find them by name)",
  ApplicationSet: "Argo CD's ApplicationSets belong to the cluster: apply them there",
  AppProject: "Argo CD's AppProjects belong to the cluster: apply them there",
  Role: "who may do what is Backstage's permission policy",
  RoleBinding: "who may do what is Backstage's permission policy",
  ClusterRole: "who may do what is Backstage's permission policy",
  ClusterRoleBinding: "who may do what is Backstage's permission policy",
  ServiceAccount: "who may do what is Backstage's permission policy",
};

/**
 * The warning for a document of a kind Stagecoach does not read, or undefined when the document
 * is to be read (or refused). A document is skipped when its apiVersion is not Kargo's
 * (`kargo.akuity.io/...`) and its kind is none that Stagecoach reads: a Kargo kind under a
 * wrong apiVersion, or a typo in a Kargo document, is still refused.
 */
export function skippedDocument(
  value: Record<string, unknown>,
  knownKinds: ReadonlySet<string>,
): { resource?: string; message: string } | undefined {
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) return undefined;
  if (apiVersion.startsWith('kargo.akuity.io/') || knownKinds.has(kind)) return undefined;
  const name = typeof metadata === 'object' && metadata !== null ? (metadata as { name?: unknown }).name : undefined;
  const why = WHY[kind] ? `: ${WHY[kind]}` : '';
  return {
    ...(typeof name === 'string' && name ? { resource: `${kind}/${name}` } : {}),
    message: `${apiVersion} ${kind} is not a document Stagecoach reads, so it was skipped${why}`,
  };
}
