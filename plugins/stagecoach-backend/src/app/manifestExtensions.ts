import { builtinSubscriptionKinds } from '../discovery/kinds';
import { discoveryManifestExtension } from '../discovery/manifestExtension';
import type { SubscriptionKinds } from '../discovery/SubscriptionKinds';
import type { ManifestExtension } from '../manifests/ManifestExtension';
import { promotionManifestExtension } from '../promotion/manifestExtension';
import { builtinSteps, StepDefinition } from '../promotion/steps';
import type { ModuleProviderSchemas } from '../verification/analysisTemplate';
import type { JobSettings } from '../verification/jobSettings';
import { verificationManifestExtension } from '../verification/manifestExtension';

/**
 * What the features add to the manifests a project applies, in the order they complete a
 * stage. Defaults (the built-in steps, Kargo's job settings, no providers from modules) are
 * for tests and tools; the engine passes its own.
 */
export function manifestExtensions(
  options: {
    /** What a Warehouse may subscribe to (default: the built-in kinds). */
    kinds?: SubscriptionKinds;
    steps?: ReadonlyMap<string, StepDefinition>;
    jobs?: JobSettings;
    /** The config schemas of the verification providers modules add, by name. */
    providers?: ModuleProviderSchemas;
  } = {},
): ManifestExtension[] {
  return [
    discoveryManifestExtension(options.kinds ?? builtinSubscriptionKinds),
    verificationManifestExtension(options.jobs ?? {}, options.providers),
    promotionManifestExtension(options.steps ?? builtinSteps),
  ];
}
