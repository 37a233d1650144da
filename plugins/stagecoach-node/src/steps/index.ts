export { StepConfigError } from './StepConfigError';
export { createPromotionStep } from './types';
export type {
  PromotionStep,
  PromotionStepContext,
  PromotionStepFreight,
  PromotionStepHttpRequest,
  PromotionStepHttpResponse,
  PromotionStepLogger,
  PromotionStepResult,
} from './types';
