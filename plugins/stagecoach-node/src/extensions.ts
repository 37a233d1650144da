import { createExtensionPoint } from '@backstage/backend-plugin-api';
import type { PromotionStep } from './steps';
import type { SubscriptionKind } from './subscriptions';
import type { VerificationProvider } from './verification';

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

/**
 * Adds verification providers to the Stagecoach backend: metrics of AnalysisTemplates may
 * name them under `provider`, beside `web`, `prometheus` and `job`.
 *
 * @public
 */
export interface VerificationProvidersExtensionPoint {
  /**
   * Makes these providers available to AnalysisTemplates, beside the built-in ones. A name
   * that a built-in provider or another module's provider already has fails the module's
   * startup.
   */
  addProviders(...providers: VerificationProvider<any>[]): void;
}

/**
 * The extension point for verification providers: a backend module for the `stagecoach`
 * plugin depends on it and calls `addProviders`.
 *
 * @public
 */
export const stagecoachVerificationProvidersExtensionPoint =
  createExtensionPoint<VerificationProvidersExtensionPoint>({
    id: 'stagecoach.verification-providers',
  });

/**
 * Adds subscription kinds to the Stagecoach backend: Warehouses may subscribe to them beside
 * `git`, `image` and `chart`.
 *
 * @public
 */
export interface SubscriptionKindsExtensionPoint {
  /**
   * Makes these kinds available to Warehouses, beside the built-in ones. A name, freight field
   * or expression function that a built-in kind or another module's kind already has fails the
   * module's startup.
   */
  addKinds(...kinds: SubscriptionKind<any, any, any>[]): void;
}

/**
 * The extension point for subscription kinds: a backend module for the `stagecoach` plugin
 * depends on it and calls `addKinds`.
 *
 * @public
 */
export const stagecoachSubscriptionKindsExtensionPoint =
  createExtensionPoint<SubscriptionKindsExtensionPoint>({
    id: 'stagecoach.subscription-kinds',
  });
