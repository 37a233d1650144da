import type { ManifestExtension } from '../manifests/ManifestExtension';
import { promotionManifestExtension } from '../promotion/manifestExtension';
import { builtinSteps, StepDefinition } from '../promotion/steps';
import type { JobSettings } from '../verification/jobSettings';
import { verificationManifestExtension } from '../verification/manifestExtension';

/**
 * What the features add to the manifests a project applies, in the order they complete a
 * stage. Defaults (the built-in steps, Kargo's job settings) are for tests and tools; the
 * engine passes its own.
 */
export function manifestExtensions(
  options: {
    steps?: ReadonlyMap<string, StepDefinition>;
    jobs?: JobSettings;
  } = {},
): ManifestExtension[] {
  return [
    verificationManifestExtension(options.jobs ?? {}),
    promotionManifestExtension(options.steps ?? builtinSteps),
  ];
}
