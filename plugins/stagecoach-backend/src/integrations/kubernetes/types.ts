/**
 * The part of the Kubernetes API Stagecoach uses (Argo CD Applications, Jobs, Pods and
 * their logs), behind one small interface. The implementation (`KubeClusters.ts`) is built on
 * `@kubernetes/client-node`; tests run it against a loopback server speaking the same wire
 * protocol (`__testUtils__/kubeApi.ts`).
 */

export interface KubeObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
  generateName?: string;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: KubeObjectMeta;
  [key: string]: unknown;
}

/** A namespaced resource type, addressed by group, version and plural. */
export interface ResourceType {
  /** '' for the core group (pods). */
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const APPLICATIONS: ResourceType = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications', kind: 'Application' };
export const JOBS: ResourceType = { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' };
export const PODS: ResourceType = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };
export const EVENTS: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event' };

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchOptions {
  labelSelector?: string;
  /** `metadata.name=guestbook` */
  fieldSelector?: string;
  /** Start after this version (from a get or list); events since are replayed. */
  resourceVersion?: string;
  /** The server ends the watch after this long. */
  timeoutSeconds?: number;
}

/**
 * One cluster's API. Errors are KubeApiError with a message that names the cluster, the
 * resource and what to do; a missing object is `undefined` from get, not an error.
 */
export interface KubeClient {
  /** The cluster's name (from app-config, or the kubeconfig's current context). */
  readonly cluster: string;
  get<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, name: string): Promise<T | undefined>;
  list<T extends KubeObject = KubeObject>(
    type: ResourceType,
    namespace: string,
    options?: { labelSelector?: string },
  ): Promise<{ items: T[]; resourceVersion?: string }>;
  create<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, body: KubeObject): Promise<T>;
  /** JSON merge patch (RFC 7386): `null` removes a field. */
  mergePatch<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, name: string, patch: object): Promise<T>;
  /** Replaces the object; its metadata.resourceVersion makes this fail with status 409 if it changed since. */
  replace<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, name: string, body: KubeObject): Promise<T>;
  /** Deletes; an object already gone is fine. Background propagation removes a Job's pods too. */
  delete(type: ResourceType, namespace: string, name: string, options?: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' }): Promise<void>;
  /**
   * Watches until `onEvent` returns true, the server ends the stream, or `signal` aborts.
   * Resolves true when onEvent returned true.
   */
  watch<T extends KubeObject = KubeObject>(
    type: ResourceType,
    namespace: string,
    options: WatchOptions,
    onEvent: (type: WatchEventType, object: T) => boolean | void,
    signal?: AbortSignal,
  ): Promise<boolean>;
  /** A pod's log (at most `limitBytes`, default 64 KiB, the end kept). */
  podLog(namespace: string, pod: string, options?: { container?: string; limitBytes?: number }): Promise<string>;
}

/** The clusters Stagecoach may talk to. */
export interface KubeClusters {
  /** The named cluster, or the default one; throws KubeApiError naming the known clusters if unknown. */
  client(cluster?: string): KubeClient;
  /** The configured cluster names, the default first. Empty when none is configured. */
  names(): string[];
}

/** A failed Kubernetes API call, in words: cluster, verb, resource, and what to do about it. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    /** HTTP status, or undefined when the server could not be reached. */
    readonly status?: number,
    /** The API's `reason` (NotFound, Forbidden, Conflict, ...). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}
