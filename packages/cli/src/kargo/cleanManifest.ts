import type { KubeObject } from './kinds';

/** The annotation `kubectl apply` keeps the whole previous object in. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A manifest as it would be written by hand. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
}

/**
 * An object as the cluster holds it, made a manifest again: apiVersion, kind, spec, and of
 * the metadata only what its author wrote (name, labels, annotations but kubectl's copy of the
 * last apply). What the cluster added goes: status, uid, resourceVersion, generation,
 * creationTimestamp, managedFields, ownerReferences, finalizers; and the namespace, which is
 * the project the set is applied to.
 */
export function cleanManifest(
  object: KubeObject,
  type: { group: string; version: string; kind: string },
): Manifest {
  const { name, labels, annotations } = object.metadata;
  const kept = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([key]) => key !== LAST_APPLIED),
  );
  return {
    apiVersion: object.apiVersion ?? `${type.group}/${type.version}`,
    kind: object.kind ?? type.kind,
    metadata: {
      name,
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}),
    },
    ...(object.spec !== undefined ? { spec: object.spec } : {}),
  };
}
