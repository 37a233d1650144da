import { chartKind } from './chart/chartKind';
import { gitKind } from './git/gitKind';
import { imageKind } from './image/imageKind';
import type { SubscriptionKind } from './SubscriptionKind';
import { SubscriptionKinds } from './SubscriptionKinds';

/**
 * The subscription kinds Stagecoach comes with: Kargo's git, image and chart. Their order is
 * the order of a freight's artifact fields (commits, images, charts) and of messages. A new
 * kind is a folder beside these and one entry here.
 */
export const builtinKinds: readonly SubscriptionKind[] = [
  gitKind,
  imageKind,
  chartKind,
];

/** The built-in kinds as a registry: for tests and tools that run without an engine. */
export const builtinSubscriptionKinds = new SubscriptionKinds(builtinKinds);
