import type { IncomingHttpHeaders } from 'node:http';

/**
 * What a webhook said changed. Repository strings are as the sender named them (Git and chart
 * URLs without credentials); image repositories are normalized (`docker.io/library/nginx`,
 * `ghcr.io/acme/api`, `registry.example.com:5000/team/app`).
 */
export type WebhookEvent =
  | { kind: 'git'; repoURLs: string[] }
  | { kind: 'image'; repositories: string[] }
  | { kind: 'chart'; repoURLs: string[] };

/** A well-formed delivery that asks for nothing (a ping, a pull, an event type we do not act on). */
export interface IgnoredEvent {
  kind: 'ignored';
  reason: string;
}

export type ParseResult = WebhookEvent | IgnoredEvent;

export const WEBHOOK_PROVIDER_TYPES = [
  'github',
  'gitlab',
  'gitea',
  'bitbucket',
  'dockerhub',
  'harbor',
  'quay',
  'distribution',
  'generic',
] as const;

export type WebhookProviderType = (typeof WEBHOOK_PROVIDER_TYPES)[number];

/** One entry of `stagecoach.webhooks.receivers`. */
export interface WebhookReceiverConfig {
  /** URL-safe; the receiver answers at `POST /api/stagecoach/webhooks/<name>`. */
  name: string;
  type: WebhookProviderType;
  secret: string;
}

/** What a provider sees of a request when it checks the sender. */
export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  /** The request body exactly as received: signatures are computed over these bytes. */
  rawBody: Buffer;
  /** The last path segment of `POST /webhooks/<name>/<secret>`, for senders that cannot sign. */
  pathSecret?: string;
}

/** One module per sender type (providers/<type>.ts). */
export interface WebhookProvider {
  /** Human-readable name used in messages, e.g. "GitHub". */
  title: string;
  /** Whether the secret travels in the URL path (senders that neither sign nor send headers). */
  secretInPath: boolean;
  /** True when the request carries the receiver's secret or a valid signature made with it. */
  verify(req: WebhookRequest, secret: string): boolean;
  /**
   * What changed, from the parsed JSON body. Throws WebhookPayloadError when the body is not
   * what this sender sends.
   */
  parse(headers: IncomingHttpHeaders, body: unknown): ParseResult;
}

/** The body does not have the shape the sender documents: answered with 400 and the message. */
export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookPayloadError';
  }
}

export function ignored(reason: string): IgnoredEvent {
  return { kind: 'ignored', reason };
}
