import type { MetricProvider } from '../types';
import { jobProvider } from './job';
import { prometheusProvider } from './prometheus';
import { webProvider } from './web';

/** The metric providers Stagecoach runs, by the name a metric's `provider` uses. */
export const builtinProviders: ReadonlyMap<string, MetricProvider> = new Map(
  [webProvider, prometheusProvider, jobProvider].map(p => [p.name, p] as const),
);

export { webProvider } from './web';
export { prometheusProvider } from './prometheus';
export {
  moduleProvider,
  moduleProviderSchemas,
  VerificationProviderRegistry,
} from './moduleProviders';
