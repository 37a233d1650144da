import type { z } from 'zod';
import type { ArtifactFieldNames } from '../expressions/artifactRecords';
import type { ExprFunction } from '../expressions/expressions';
import type { EgressPolicy } from '../integrations/http/egress';
import type { RegistryClient } from '../integrations/registry/RegistryClient';
import type { Logger } from '../util/types';
import type { Subscriber } from './types';

/**
 * One kind of artifact source a Warehouse subscribes to (Kargo's `git`, `image`, `chart`):
 * everything that differs between kinds lives in its module (discovery/<kind>/), and the
 * rest of the engine iterates the registered kinds (SubscriptionKinds). Adding a kind is one
 * folder and one line in discovery/kinds.ts.
 *
 * `Sub` is the subscription's settings, `Artifact` what freight holds of it, `Requested` one
 * artifact of a request that assembles freight by hand.
 */
export interface SubscriptionKind<
  Sub extends { repoURL: string } = any,
  Artifact extends { repoURL: string } = any,
  Requested = any,
> {
  /** Its key in a Warehouse's subscription (`- git: {...}`), and its name in messages. */
  name: string;
  /** The subscription's settings as a Warehouse manifest writes them (Kargo's field names). */
  schema: z.ZodType<Sub, z.ZodTypeDef, unknown>;
  /**
   * The field its artifacts go in: of stored freight, of the API's Freight, and of a
   * request that assembles freight by hand (`commits`, `images`, `charts`).
   */
  field: string;
  /** The source's subscriber, built once by the engine from what it shares. */
  subscriber(deps: SubscriberDeps): Subscriber<Sub, Artifact>;
  /** The subscription after its kind in messages: its repository (a chart: and its name). */
  describe(sub: Sub): string;
  /**
   * Why discovery selected nothing, for the warehouse's status: `<repo> has no tags`. The
   * caller adds that no freight can be made until one is pushed.
   */
  describeNoMatch(sub: Sub): string;
  /**
   * The artifact's part of the freight ID: the same artifact always gives the same text, so
   * finding it again makes no new freight. Changing it changes every stored freight's ID.
   */
  reference(artifact: Artifact): string;
  /**
   * `${{ }}` functions over a freight's artifacts of this kind (`commitFrom`); `owner` names
   * the freight in errors. Each returns the artifact its arguments name, or throws an
   * ExpressionError; a trailing origin argument (`warehouse("x")`) never reaches it
   * (SubscriptionKinds picks the freight it names), and what it returns is read strictly
   * through `artifactFields`.
   */
  expressionFunctions(
    artifacts: readonly Artifact[],
    owner: string,
  ): Record<string, ExprFunction>;
  /**
   * Its artifact's fields as expressions read them: Stagecoach's name → Kargo's Go name
   * (`{ id: 'ID', repoURL: 'RepoURL' }`), so that `commitFrom(x).ID` and `.id` both work and
   * any other name is an error. Without it (a module's kind), the artifact's own fields and
   * their capitalised names.
   */
  artifactFields?: ArtifactFieldNames;
  /** How the UI shows one of its artifacts. */
  label(artifact: Artifact): { label: string; detail: string };
  /** How messages name an entry of the subscription's status listing: `v1.2.0 (abc1234)`. */
  listedLabel(entry: ListedEntry): string;
  /** Whether a change a webhook announced concerns the subscription (its discovery is then run now). */
  matchesChange(change: SourceChange, sub: Sub): boolean;
  /** Freight assembled by hand: how a request names one of its artifacts. */
  manual: ManualArtifacts<Sub, Artifact, Requested>;
}

/** What the engine shares with every kind's subscriber. */
export interface SubscriberDeps {
  /** A folder for discovery's caches (git keeps its blob-less mirrors there). */
  cacheDir: string;
  /** Where sources may be reached (app-config `stagecoach.egress`); default production's. */
  egress?: EgressPolicy;
  /** The one client of every registry: images and oci:// charts share its limits and caches. */
  registry: RegistryClient;
  /** The engine's log (modules' kinds write to it). */
  logger?: Logger;
}

/** One entry of a subscription's status listing (`status.discovered`): perhaps less than an artifact. */
export type ListedEntry = Record<string, unknown>;

/**
 * What a webhook said changed, as service/webhooks reads every sender: a kind of source
 * (`git`, `image`, `chart`) and which ones (Git and chart URLs, or normalized image repositories).
 */
export interface SourceChange {
  kind: string;
  repoURLs?: readonly string[];
  repositories?: readonly string[];
}

/** How a request to assemble freight by hand names an artifact of the kind, and how it is found. */
export interface ManualArtifacts<Sub, Artifact, Requested> {
  /** One entry of the request's `field` list. */
  requestSchema: z.ZodType<Requested, z.ZodTypeDef, unknown>;
  /** How the entries are written, for the message that shows a whole request: `[{"repoURL", "version"}]`. */
  requestShape: string;
  /** The requested artifact in messages: `tag "v1" of https://…`, `chart … version 1.2.0`. */
  describe(requested: Requested): string;
  /** Where it comes from, in messages: its repository (a chart: and `(chart <name>)`). */
  source(requested: Requested): string;
  /** Whether it is meant for this subscription. */
  belongs(requested: Requested, sub: Sub): boolean;
  /**
   * The listed entries it names. `ambiguous` says why it names several different artifacts;
   * `hint` helps when it names none.
   */
  match(
    requested: Requested,
    listed: readonly ListedEntry[],
  ): { entries: ListedEntry[]; ambiguous?: string; hint?: string };
  /** Whether a listed entry is a whole artifact, or needs the subscriber's `resolve`. */
  isComplete(entry: ListedEntry): boolean;
  /** A problem with the artifact a listed entry resolved to, given the request (a tag pushed again since). */
  confirm?(
    requested: Requested,
    artifact: Artifact,
    sub: Sub,
  ): string | undefined;
  /** Added when the source no longer has a listed entry: ` (or not for the subscription's platform)`. */
  goneHint?: string;
}
