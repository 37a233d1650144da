import type { z } from 'zod';
import type {
  StagecoachHttpRequest,
  StagecoachHttpResponse,
  StagecoachLogger,
} from '../shared';

/**
 * What freight holds of one subscription: any JSON object that names the subscription's
 * source by `repoURL` (discovery checks that it is the subscription's own).
 *
 * @public
 */
export interface SubscriptionArtifact {
  repoURL: string;
}

/**
 * What a subscriber found out cheaply: a digest of the source's current state. When it is
 * the same as last time, discovery stops there and writes nothing.
 *
 * @public
 */
export interface SubscriptionProbe {
  hash: string;
  /** Whatever the subscriber wants to reuse in `discover` (the version list it fetched). */
  state?: unknown;
}

/**
 * What a subscription selects now.
 *
 * @public
 */
export interface SubscriptionDiscovery<Artifact extends SubscriptionArtifact> {
  /** The artifact freight is made of: the best one the subscription selects. Undefined when nothing matches. */
  latest?: Artifact;
  /**
   * What the warehouse's status shows for the subscription, best first (at most 100 are
   * kept). Freight assembled by hand picks from these, so each one is a whole artifact.
   */
  listed: Artifact[];
}

/**
 * A kind's artifact source, built once when the backend starts. Each call may take at most
 * two minutes; discovery then gives up on it and shows an error on the warehouse.
 *
 * @public
 */
export interface SubscriptionKindSubscriber<
  Sub extends SubscriptionArtifact,
  Artifact extends SubscriptionArtifact,
> {
  /** A cheap look at the source: a digest of what is there now. */
  probe(sub: Sub): Promise<SubscriptionProbe>;
  /** What the subscription selects, given what the probe found. */
  discover(
    sub: Sub,
    probe: SubscriptionProbe,
  ): Promise<SubscriptionDiscovery<Artifact>>;
}

/**
 * What a module's subscriber is given. It holds what code outside the Stagecoach backend may
 * use safely: the registry client and the Git credentials stay with the built-in kinds.
 *
 * @public
 */
export interface SubscriptionKindContext {
  /** The backend's log. Messages are plain text and must not carry secrets. */
  logger: StagecoachLogger;
  /** A folder of the kind's own for caches; it exists before the first probe. */
  cacheDir: string;
  /**
   * Sends an HTTP request through the egress policy (app-config `stagecoach.egress`). A
   * request the policy refuses, a network failure or a timeout throws an Error whose message
   * names the request but never its header values.
   */
  request(request: StagecoachHttpRequest): Promise<StagecoachHttpResponse>;
}

/**
 * What a webhook or a Backstage event said changed: a kind of source (`git`, `image`,
 * `chart`) and which ones (Git and chart URLs, or normalized image repositories such as
 * `ghcr.io/acme/api`).
 *
 * @public
 */
export interface SubscriptionChange {
  kind: string;
  repoURLs?: readonly string[];
  repositories?: readonly string[];
}

/**
 * How a request that assembles freight by hand (`POST /projects/{p}/freight`) names one of
 * the kind's artifacts, in the list under the kind's `field`. The entry's `repoURL` says
 * which subscription it is for; it is then looked for among what that subscription listed.
 *
 * @public
 */
export interface SubscriptionManualArtifacts<
  Artifact extends SubscriptionArtifact,
  Requested extends SubscriptionArtifact,
> {
  /** One entry of the request's list; a problem is a 400 naming the field. */
  requestSchema: z.ZodType<Requested, z.ZodTypeDef, unknown>;
  /** How entries are written, for the message that shows a whole request: `[{"repoURL", "version"}]`. */
  requestShape: string;
  /** The requested artifact in messages: `release 1.4.0 of https://…`. */
  describe(requested: Requested): string;
  /** Whether a listed artifact is the one requested. */
  matches(requested: Requested, artifact: Artifact): boolean;
}

/**
 * A kind of artifact source that Warehouses may subscribe to, beside Kargo's `git`, `image`
 * and `chart`: the key a subscription names, its settings' schema, where freight keeps its
 * artifacts, how they are discovered, named and shown. The schema is checked when manifests
 * are applied (a problem is a 400 naming the field).
 *
 * @public
 */
export interface SubscriptionKind<
  Sub extends SubscriptionArtifact = any,
  Artifact extends SubscriptionArtifact = any,
  Requested extends SubscriptionArtifact = any,
> {
  /** Its key in a Warehouse's subscription (`- releaseFeed: {...}`): a lower camel-case word. */
  name: string;
  description: string;
  /** The subscription's settings; `repoURL` names the source. */
  schema: z.ZodType<Sub, z.ZodTypeDef, unknown>;
  /**
   * The field its artifacts go in, of freight (the REST API's Freight, the promotion step's
   * `freight.artifacts`) and of a request that assembles freight by hand: a lower camel-case
   * plural, such as `releases`.
   */
  field: string;
  /**
   * The `${{ }}` function over a freight's artifacts of the kind, such as `releaseFrom`:
   * `releaseFrom(repoURL)` is the artifact from that subscription (an error when the freight
   * has none). Promotion steps and `freightCreationCriteria` may call it. It ends in `From`.
   */
  expressionFunction: string;
  /** The source, built once from the context. */
  subscriber(
    ctx: SubscriptionKindContext,
  ): SubscriptionKindSubscriber<Sub, Artifact>;
  /**
   * The artifact's part of the freight ID: the same artifact always gives the same text, so
   * finding it again makes no new freight. Changing it changes the IDs of stored freight.
   */
  reference(artifact: Artifact): string;
  /** How the UI shows an artifact: a short label (`payments:1.4.0`) and a longer detail. */
  label(artifact: Artifact): { label: string; detail: string };
  /** Why the subscription selects nothing, for the warehouse's status; default: nothing in its repoURL matches. */
  describeNoMatch?(sub: Sub): string;
  /**
   * Whether a change a webhook or a Backstage event announced concerns the subscription: its
   * discovery then runs at once. Default: none does, and the subscription is discovered on
   * the warehouse's interval and when it is refreshed.
   */
  matchesChange?(change: SubscriptionChange, sub: Sub): boolean;
  /** Freight assembled by hand: how a request names one of its artifacts. */
  manual: SubscriptionManualArtifacts<Artifact, Requested>;
}

/**
 * Returns the kind as given; it lets TypeScript infer the types from the schema.
 *
 * @public
 */
export function createSubscriptionKind<
  Sub extends SubscriptionArtifact,
  Artifact extends SubscriptionArtifact,
  Requested extends SubscriptionArtifact,
>(
  kind: SubscriptionKind<Sub, Artifact, Requested>,
): SubscriptionKind<Sub, Artifact, Requested> {
  return kind;
}
