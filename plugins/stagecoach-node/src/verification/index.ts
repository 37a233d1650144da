export { createVerificationProvider } from './types';
export type {
  VerificationMeasurement,
  VerificationProvider,
  VerificationProviderContext,
  VerificationProviderMetric,
} from './types';
