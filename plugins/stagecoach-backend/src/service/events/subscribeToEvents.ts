import type { IncomingHttpHeaders } from 'node:http';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import type { EventParams, EventsService } from '@backstage/plugin-events-node';
import { providers } from '../webhooks/providers';
import { describeEvent } from '../webhooks/router';
import { ignored, ParseResult, WebhookEvent, WebhookPayloadError, WebhookProviderType } from '../webhooks/types';

/*
 * Inbound: Git pushes that reach Backstage through its events system instead of a Stagecoach
 * webhook receiver. Backstage's events backend receives a sender's webhook at
 * POST /api/events/http/<topic> and publishes the parsed body with the request's headers as
 * `metadata`; the modules @backstage/plugin-events-backend-module-<sender> verify the delivery
 * at that ingress and route it to a sub-topic:
 *
 *   github            ->  github.<X-GitHub-Event header>            github.push, github.package
 *   gitlab            ->  gitlab.<payload event_name>               gitlab.push, gitlab.tag_push
 *   bitbucketCloud    ->  bitbucketCloud.<X-Event-Key header>       bitbucketCloud.repo:push
 *   bitbucketServer   ->  bitbucketServer.<X-Event-Key header>      bitbucketServer.repo:refs_changed
 *   gitea             (not routed: every Gitea event arrives on `gitea`)
 *
 * Trust: nothing is verified here. An event on the events service is taken as verified by
 * whatever published it, normally the sender's events module, which checks the signature or
 * token against its own secret (events.modules.<sender>.webhookSecret) before publishing. A
 * topic declared only in `events.http.topics`, with no validator, accepts anyone's POST: list
 * such topics here only if that is acceptable. What an unverified event can do is bounded
 * anyway: it starts discovery of the warehouses subscribed to the repositories it names, and
 * discovery reads those repositories itself, so freight is only ever made of artifacts that
 * exist.
 */

/** The senders whose events this reads: the first segment of a topic, and its parser. */
const TOPIC_SENDERS: Record<string, { type: WebhookProviderType; eventHeader?: string }> = {
  github: { type: 'github', eventHeader: 'x-github-event' },
  // GitLab's parser reads the event's kind from the payload; its router names sub-topics after it too
  gitlab: { type: 'gitlab' },
  gitea: { type: 'gitea', eventHeader: 'x-gitea-event' },
  bitbucketCloud: { type: 'bitbucket', eventHeader: 'x-event-key' },
  bitbucketServer: { type: 'bitbucket', eventHeader: 'x-event-key' },
};

/** The topics subscribed to when `stagecoach.events.topics` is not set. */
export const DEFAULT_EVENT_TOPICS: readonly string[] = [
  'github.push',
  'github.package',
  'github.registry_package',
  'gitlab.push',
  'gitlab.tag_push',
  'gitea',
  'bitbucketCloud.repo:push',
  'bitbucketServer.repo:refs_changed',
  'bitbucketServer.mirror:repo_synchronized',
];

export const EVENTS_CONFIG_KEY = 'stagecoach.events';

/** The subscriber's ID; the events service scopes it to the plugin (`stagecoach.refresh-warehouses`). */
export const EVENTS_SUBSCRIBER_ID = 'refresh-warehouses';

export interface EventsSettings {
  /** Subscribe to `topics`, and publish Stagecoach's own events on the `stagecoach` topic. */
  enabled: boolean;
  topics: string[];
}

/** A problem with `stagecoach.events`, naming the key and the value. */
export class EventsConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid ${EVENTS_CONFIG_KEY} configuration: ${problems.join('; ')}`);
    this.name = 'EventsConfigError';
  }
}

/** The sender of a topic (`github.push` -> github), or undefined for a topic this cannot read. */
function senderOf(topic: string): { type: WebhookProviderType; eventHeader?: string; subTopic?: string } | undefined {
  const dot = topic.indexOf('.');
  const first = dot < 0 ? topic : topic.slice(0, dot);
  const sender = Object.prototype.hasOwnProperty.call(TOPIC_SENDERS, first) ? TOPIC_SENDERS[first] : undefined;
  if (!sender) return undefined;
  const subTopic = dot < 0 ? undefined : topic.slice(dot + 1);
  return { ...sender, subTopic: subTopic || undefined };
}

/**
 * Reads `stagecoach.events`: `enabled` (default true) and `topics` (default DEFAULT_EVENT_TOPICS).
 * Throws an EventsConfigError for a topic whose sender this cannot read.
 */
export function readEventsSettings(config: Config): EventsSettings {
  const enabled = config.getOptionalBoolean(`${EVENTS_CONFIG_KEY}.enabled`) ?? true;
  if (!enabled) return { enabled, topics: [] };
  const topics = config.getOptionalStringArray(`${EVENTS_CONFIG_KEY}.topics`) ?? [...DEFAULT_EVENT_TOPICS];
  const problems = topics
    .filter(t => !senderOf(t.trim()))
    .map(
      t =>
        `topics: "${t}" is not a topic Stagecoach can read; it must be, or start with "<sender>.", where the sender is one of ${Object.keys(
          TOPIC_SENDERS,
        ).join(', ')}`,
    );
  if (problems.length) throw new EventsConfigError(problems);
  return { enabled, topics: [...new Set(topics.map(t => t.trim()))] };
}

/**
 * What an event from the events service says changed, read by the same parser as the webhook
 * receiver of its sender, with the event's metadata as the request headers. Events that crossed
 * Backstage's event bus between backend instances carry no metadata: the header a sender's
 * router took the sub-topic from (`X-GitHub-Event`, `X-Event-Key`) is then recovered from the
 * topic. Throws WebhookPayloadError when the payload is not what the sender sends.
 */
export function parseEvent(params: EventParams): ParseResult {
  const sender = senderOf(params.topic);
  if (!sender) return ignored(`events on topic "${params.topic}" are not read by Stagecoach`);
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(params.metadata ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = value;
  }
  if (sender.eventHeader && sender.subTopic && headers[sender.eventHeader] === undefined) {
    headers[sender.eventHeader] = sender.subTopic;
  }
  return providers[sender.type].parse(headers, params.eventPayload);
}

export interface SubscribeToEventsOptions {
  events: EventsService;
  /** From readEventsSettings; none: no subscription. */
  topics: string[];
  logger: LoggerService;
  /**
   * Refreshes the warehouses that subscribe to what the event names, as a webhook receiver does,
   * and says which ones (`project/name`).
   */
  onEvent(event: WebhookEvent, context: { topic: string; type: WebhookProviderType }): Promise<{ warehouses: string[] }>;
}

/**
 * Subscribes to the topics: each event is parsed as its sender's webhook would be, and what it
 * names is refreshed through `onEvent`. Nothing is thrown back at the publisher: an event that
 * cannot be read, or a refresh that fails, is logged. With several backend instances behind an
 * event bus, each event reaches one of them, which is enough: the refresh is recorded in the
 * shared database.
 */
export async function subscribeToEvents(options: SubscribeToEventsOptions): Promise<void> {
  const { events, topics, logger, onEvent } = options;
  if (!topics.length) return;

  async function handle(params: EventParams): Promise<void> {
    const { topic } = params;
    const type = senderOf(topic)?.type;
    try {
      const parsed = parseEvent(params);
      if (parsed.kind === 'ignored') {
        logger.debug(`events topic ${topic}: ignored: ${parsed.reason}`);
        return;
      }
      const { warehouses } = await onEvent(parsed, { topic, type: type! });
      logger.info(
        `events topic ${topic}: ${describeEvent(parsed)} changed; refreshing ${warehouses.length} warehouse(s)${
          warehouses.length ? `: ${warehouses.join(', ')}` : ''
        }`,
      );
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof WebhookPayloadError) logger.warn(`events topic ${topic}: could not read the event: ${message}`);
      else logger.error(`events topic ${topic}: could not refresh the warehouses the event names: ${message}`);
    }
  }

  await events.subscribe({ id: EVENTS_SUBSCRIBER_ID, topics, onEvent: handle });
  logger.info(`refreshing warehouses on Backstage events of topics ${topics.join(', ')}`);
}
