import type { ManifestExtension } from '../manifests/ManifestExtension';
import { staticPathProblems } from './staticPaths';
import { StepDefinition, validateStepConfig } from './steps';

/**
 * What promotion adds to the manifests: every step a stage's promotion template or a
 * PromotionTask names is one the engine runs, and its config is what that step accepts.
 *
 * @param steps the steps promotions run (the built-in ones, and those modules added)
 */
export function promotionManifestExtension(
  steps: ReadonlyMap<string, StepDefinition>,
): ManifestExtension {
  return {
    checkStep: ({ uses, config }) => [...validateStepConfig(uses, config, steps), ...staticPathProblems(uses, config)],
  };
}
