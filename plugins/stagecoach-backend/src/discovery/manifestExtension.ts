import type { ManifestExtension } from '../manifests/ManifestExtension';
import type { SubscriptionKinds } from './SubscriptionKinds';

/** What discovery adds to the manifests: the subscription kinds a Warehouse may name. */
export function discoveryManifestExtension(
  kinds: SubscriptionKinds,
): ManifestExtension {
  return {
    subscriptionKinds: kinds.all.map(k => ({ name: k.name, schema: k.schema })),
  };
}
