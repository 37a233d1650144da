export { createWebhookRouter, DEFAULT_MAX_WEBHOOK_BODY_BYTES } from './router';
export type { WebhookRouterOptions } from './router';
export { readWebhookReceivers, validateWebhookReceivers, WebhookConfigError, RECEIVERS_CONFIG_KEY } from './config';
export { matchesSubscription, warehousesMatching } from './normalize';
export { WEBHOOK_PROVIDER_TYPES } from './types';
export type { WebhookEvent, WebhookProviderType, WebhookReceiverConfig } from './types';
