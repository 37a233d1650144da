/**
 * What a subscriber found out cheaply: a digest of the source's current state. When it is
 * the same as last time, discovery stops there and writes nothing.
 */
export interface Probe {
  hash: string;
  /** Whatever the subscriber wants to reuse in discover() (e.g. the tag list it fetched). */
  state?: unknown;
}

/** What a subscription selects now. */
export interface Discovery<Artifact> {
  /**
   * The artifact freight is made of: the best one the subscription selects, complete (an
   * image with its digest). Undefined when nothing matches.
   */
  latest?: Artifact;
  /**
   * What the warehouse's status shows for the subscription: best first, at most
   * discoveryLimit entries. Entries may be less complete than `latest` (an image tag whose
   * digest was not looked up): showing them must cost no extra requests.
   */
  listed: Array<Record<string, unknown>>;
}

/**
 * Whose subscription a subscriber is working for: the project, and that project's credentials
 * for the sources it reaches. A subscriber asks for them per request and never keeps them.
 */
export interface SubscriptionContext {
  project: string;
  /**
   * Basic credentials for a source of the project: `git` (a repository URL), `helm` (a chart
   * repository URL, https:// or oci://), `image` (an image repository name). The project's own
   * (a Secret in its manifests) first, then the backend's (Backstage integrations for git);
   * undefined: anonymous, or whatever the registry client has configured for the host.
   */
  credentials(
    type: 'git' | 'helm' | 'image',
    url: string,
  ): Promise<{ username: string; password: string; /** A project credential's name for messages (never a value). */ from?: string } | undefined>;
}

/** One kind of artifact source (git, image, chart): a module behind this interface. */
export interface Subscriber<Sub, Artifact> {
  /** Cheap look at the source: a digest of what is there now. */
  probe(sub: Sub, context?: SubscriptionContext): Promise<Probe>;
  /** What the subscription selects, given what the probe found. */
  discover(sub: Sub, probe: Probe, context?: SubscriptionContext): Promise<Discovery<Artifact>>;
  /**
   * Completes one entry of `listed` into an artifact freight can be made of, exactly as
   * `latest` would be (an image tag with its digest), for freight assembled by hand.
   * Undefined when the source no longer has it. Subscribers whose listed entries are
   * complete need not implement it.
   */
  resolve?(sub: Sub, listed: Record<string, unknown>, context?: SubscriptionContext): Promise<Artifact | undefined>;
}
