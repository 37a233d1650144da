import type { WebhookProvider, WebhookProviderType } from '../types';
import { bitbucket } from './bitbucket';
import { distribution } from './distribution';
import { dockerhub } from './dockerhub';
import { generic } from './generic';
import { gitea } from './gitea';
import { github } from './github';
import { gitlab } from './gitlab';
import { harbor } from './harbor';
import { quay } from './quay';

/** Every sender type a receiver can be configured with. */
export const providers: Record<WebhookProviderType, WebhookProvider> = {
  github,
  gitlab,
  gitea,
  bitbucket,
  dockerhub,
  harbor,
  quay,
  distribution,
  generic,
};
