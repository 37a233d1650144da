import type { Config } from '@backstage/config';
import { providers } from './providers';
import { WEBHOOK_PROVIDER_TYPES, WebhookProviderType, WebhookReceiverConfig } from './types';
import { isObject } from './util';

export const RECEIVERS_CONFIG_KEY = 'stagecoach.webhooks.receivers';

const NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** Characters that survive in a URL path segment without encoding. */
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;
const KEYS = new Set(['name', 'type', 'secret']);

/** The problem with receiver configuration, naming the entry and the field; never a secret's value. */
export class WebhookConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid webhook receivers in ${RECEIVERS_CONFIG_KEY}: ${problems.join('; ')}`);
    this.name = 'WebhookConfigError';
  }
}

/**
 * Checks receiver definitions (as read from app-config) and returns them typed. Throws a
 * WebhookConfigError listing every problem: an unknown type, a missing secret, a name that cannot
 * be a URL segment, a name used twice.
 */
export function validateWebhookReceivers(input: unknown): WebhookReceiverConfig[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw new WebhookConfigError(['must be a list of receivers']);
  const problems: string[] = [];
  const seen = new Set<string>();
  const receivers: WebhookReceiverConfig[] = [];

  input.forEach((entry: unknown, i) => {
    if (!isObject(entry)) {
      problems.push(`[${i}] must be an object with name, type and secret`);
      return;
    }
    const name = entry.name;
    const at = typeof name === 'string' && name ? `[${i}] (${name})` : `[${i}]`;
    const before = problems.length;

    if (typeof name !== 'string' || !name) problems.push(`${at}: name is missing`);
    else if (!NAME.test(name)) {
      problems.push(`${at}: name must be letters, digits, '.', '_' or '-' (it is part of the URL), at most 63 characters`);
    } else if (seen.has(name)) problems.push(`${at}: name is used by another receiver`);
    else seen.add(name);

    const type = entry.type;
    if (typeof type !== 'string' || !type) {
      problems.push(`${at}: type is missing; use one of ${WEBHOOK_PROVIDER_TYPES.join(', ')}`);
    } else if (!(WEBHOOK_PROVIDER_TYPES as readonly string[]).includes(type)) {
      problems.push(`${at}: type "${type}" is not supported; use one of ${WEBHOOK_PROVIDER_TYPES.join(', ')}`);
    }

    const secret = entry.secret;
    if (typeof secret !== 'string' || !secret.trim()) {
      problems.push(`${at}: secret is missing or empty (is the environment variable it refers to set?)`);
    } else if (typeof type === 'string' && providers[type as WebhookProviderType]?.secretInPath && !URL_SAFE.test(secret)) {
      problems.push(
        `${at}: the secret of a ${type} receiver is part of the URL, so it may only contain letters, digits, '.', '_', '~' and '-'`,
      );
    }

    const unknown = Object.keys(entry).filter(k => !KEYS.has(k));
    if (unknown.length) problems.push(`${at}: unknown field(s) ${unknown.join(', ')}; a receiver has name, type and secret`);

    if (problems.length === before) {
      receivers.push({ name: name as string, type: type as WebhookProviderType, secret: secret as string });
    }
  });

  if (problems.length) throw new WebhookConfigError(problems);
  return receivers;
}

/** Reads and checks `stagecoach.webhooks.receivers` from Backstage config (none configured: []). */
export function readWebhookReceivers(config: Config): WebhookReceiverConfig[] {
  return validateWebhookReceivers(config.getOptional(RECEIVERS_CONFIG_KEY));
}
