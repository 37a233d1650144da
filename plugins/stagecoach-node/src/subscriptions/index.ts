export { createSubscriptionKind } from './types';
export type {
  SubscriptionArtifact,
  SubscriptionChange,
  SubscriptionDiscovery,
  SubscriptionKind,
  SubscriptionKindContext,
  SubscriptionKindSubscriber,
  SubscriptionManualArtifacts,
  SubscriptionProbe,
} from './types';
