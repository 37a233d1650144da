import { builtinSubscriptionKinds } from '../../discovery/kinds';
import type { SubscriptionKinds } from '../../discovery/SubscriptionKinds';
import type { Subscription } from '../../manifests/schemas';
import type { WebhookEvent } from './types';

/**
 * Whether a warehouse subscription is about what the event says changed. Each subscription
 * kind decides for its own (discovery/<kind>/): git events match git subscriptions of the same
 * repository; image events match image subscriptions of the same repository, and `oci://`
 * chart subscriptions of it (registries host Helm charts as OCI artifacts); chart events match
 * chart subscriptions whose repository is the one named, or `<repository>/<chart name>`.
 */
export function matchesSubscription(
  event: WebhookEvent,
  subscription: Subscription,
  kinds: SubscriptionKinds = builtinSubscriptionKinds,
): boolean {
  return kinds.matchesChange(event, subscription);
}

/** The warehouses (as `project/name`) with at least one subscription the event matches. */
export function warehousesMatching(
  event: WebhookEvent,
  warehouses: Iterable<{
    project: string;
    name: string;
    subscriptions: readonly Subscription[];
  }>,
  kinds: SubscriptionKinds = builtinSubscriptionKinds,
): string[] {
  const refs: string[] = [];
  for (const w of warehouses) {
    if (w.subscriptions.some(s => matchesSubscription(event, s, kinds)))
      refs.push(`${w.project}/${w.name}`);
  }
  return refs;
}
