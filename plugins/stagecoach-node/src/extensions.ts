import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { PromotionStep } from './steps';

/**
 * Adds promotion steps to the Stagecoach backend.
 *
 * @public
 */
export interface PromotionStepsExtensionPoint {
  /**
   * Makes these steps available to manifests, beside the built-in ones. A name that a
   * built-in step or another module's step already has fails the module's startup.
   */
  addSteps(...steps: PromotionStep<any>[]): void;
}

/**
 * The extension point for promotion steps: a backend module for the `stagecoach` plugin
 * depends on it and calls `addSteps`.
 *
 * @public
 */
export const stagecoachPromotionStepsExtensionPoint =
  createExtensionPoint<PromotionStepsExtensionPoint>({
    id: 'stagecoach.promotion-steps',
  });
