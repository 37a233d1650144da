import type { Config } from '@backstage/config';
import {
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  Watch,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { redactSecrets } from '../../util/secrets';
import type { Logger } from '../../util/types';
import { ClusterDiscovery, ClusterOptions, parseKubernetesConfig, resolveClusterOptions, ResolvedCluster } from './config';
import {
  KubeApiError,
  KubeClient,
  KubeClusters,
  KubeObject,
  PODS,
  ResourceType,
  WatchEventType,
  WatchOptions,
} from './types';
import { unconfiguredClusters } from './unconfigured';

/**
 * KubeClusters on `@kubernetes/client-node`: KubeConfig does authentication and TLS (tokens,
 * client certificates, exec plugins, CA data, in-cluster service accounts); CustomObjectsApi
 * does the requests for every namespaced resource; CoreV1Api fetches pod logs; Watch streams
 * watch events. Every failure becomes a KubeApiError that names the cluster, what was asked
 * and what to check.
 */

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Pod logs are read from their last lines (the API has no "last N bytes"); this bounds how many. */
const LOG_TAIL_LINES = 5000;
/** ... and this bounds what the server sends for them, so a pod with huge lines cannot exhaust memory. */
const LOG_READ_LIMIT_BYTES = 4 * 1024 * 1024;
const DEFAULT_LOG_BYTES = 64 * 1024;

interface Operation {
  verb: 'get' | 'list' | 'create' | 'patch' | 'update' | 'delete' | 'watch';
  type: ResourceType;
  namespace: string;
  name?: string;
  /** A subresource (`log`), for RBAC wording: `pods/log`. */
  subresource?: string;
}

/** `applications.argoproj.io`, `pods`: how kubectl and RBAC name a resource. */
function resourceName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

function describe(op: Operation): string {
  const what = op.subresource ? `the ${op.subresource} of ${resourceName(op.type)}` : resourceName(op.type);
  return `${what}${op.name ? ` "${op.name}"` : ''} in namespace "${op.namespace}"`;
}

/** A Kubernetes `Status` (the body of every API error), as far as it was parseable. */
interface ApiStatus {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string; group?: string };
}

function parseStatus(body: unknown): ApiStatus {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return { message: body.trim().slice(0, 300) || undefined };
    }
  }
  if (value && typeof value === 'object' && (value as { kind?: unknown }).kind === 'Status') return value as ApiStatus;
  return {};
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; errno?: unknown; cause?: unknown };
  if (typeof err?.code === 'string') return err.code;
  if (typeof err?.errno === 'string') return err.errno;
  return err?.cause ? errorCode(err.cause) : undefined;
}

/**
 * Per-request options for the generated API classes. The library's own `setHeaderOptions`
 * helper only sets a header; we also need a timeout (it sets none) and the core-group path, so
 * one middleware does all three. It is passed per call and appended: the generated code calls
 * `reverse()` on the configuration's middleware array in place, so a shared array of several
 * middlewares would flip order on every request.
 */
function requestOptions(timeoutMs: number, contentType?: string): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre(ctx: RequestContext) {
      // CustomObjectsApi knows only /apis/{group}/{version}/...; the core group (pods, events)
      // lives at /api/{version}/... An empty group renders as /apis//, which no real group can.
      ctx.setUrl(ctx.getUrl().replace('/apis//', '/api/'));
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      // Patch endpoints default to JSON Patch (RFC 6902); a merge patch needs its content type
      // set after the request factory wrote the default.
      if (contentType) ctx.setHeaderParam('Content-Type', contentType);
      return new Observable(Promise.resolve(ctx));
    },
    post: response => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/** Keeps the last `limit` bytes of `text`, starting at a character boundary. */
function tailBytes(text: string, limit: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= limit) return text;
  let start = buf.length - limit;
  while (start < buf.length && (buf[start] & 0xc0) === 0x80) start++;
  return buf.subarray(start).toString('utf8');
}

class ClusterClient implements KubeClient {
  readonly cluster: string;
  private readonly objects: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(
    private readonly target: ResolvedCluster,
    private readonly timeoutMs: number,
  ) {
    this.cluster = target.name;
    this.objects = target.kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = target.kubeConfig.makeApiClient(CoreV1Api);
  }

  private path(type: ResourceType, namespace: string): string {
    const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`;
  }

  private params(type: ResourceType, namespace: string) {
    return { group: type.group, version: type.version, plural: type.plural, namespace };
  }

  private async call<R>(op: Operation, fn: (options: ConfigurationOptions<ObservableMiddleware>) => Promise<R>, contentType?: string): Promise<R> {
    try {
      return await fn(requestOptions(this.timeoutMs, contentType));
    } catch (e) {
      throw this.translate(e, op);
    }
  }

  /**
   * The same, but a 404 for the object itself is `undefined`. A 404 that names no object
   * means the resource type is not served (its CRD is missing): that stays an error.
   */
  private async callAllowMissing<R>(op: Operation, fn: (options: ConfigurationOptions<ObservableMiddleware>) => Promise<R>): Promise<R | undefined> {
    try {
      return await fn(requestOptions(this.timeoutMs));
    } catch (e) {
      const err = e as { code?: unknown; body?: unknown };
      if (err.code === 404) {
        const s = parseStatus(err.body);
        if (s.details?.name && s.details.kind !== 'namespaces') return undefined;
      }
      throw this.translate(e, op);
    }
  }

  /** The error in words. Never includes request headers (the token) or the response's headers. */
  translate(e: unknown, op: Operation): KubeApiError {
    if (e instanceof KubeApiError) return e;
    const cluster = `Kubernetes cluster "${this.cluster}"`;
    const { url, urlHint, credentialsHint } = this.target;
    const err = e as { code?: unknown; statusCode?: unknown; body?: unknown; name?: string; message?: string };
    // ApiException carries `code`; Watch's errors carry `statusCode`
    let status: number | undefined;
    if (typeof err.code === 'number') status = err.code;
    else if (typeof err.statusCode === 'number') status = err.statusCode;
    const action = `${op.verb} ${describe(op)}`;

    if (status === undefined) {
      const code = errorCode(e);
      if (err.name === 'AbortError' || err.name === 'TimeoutError') {
        return new KubeApiError(
          `${cluster} at ${url} did not answer within ${this.timeoutMs / 1000}s (to ${action}): check ${urlHint} and that the API server is reachable from the Backstage backend`,
        );
      }
      if (code && NETWORK_CODES.has(code)) {
        return new KubeApiError(
          `Cannot reach ${cluster} at ${url} (${code}) to ${action}: check ${urlHint}, and that the API server is up and reachable from the Backstage backend`,
        );
      }
      if (code && TLS_CODE.test(code)) {
        return new KubeApiError(
          `${cluster} at ${url} failed TLS verification (${code}) when asked to ${action}: give the API server's CA certificate (caData) or, for a test cluster only, skipTLSVerify`,
        );
      }
      return new KubeApiError(`${cluster} at ${url}: could not ${action}: ${redactSecrets(err.message ?? String(e))}`);
    }

    const s = parseStatus(err.body);
    const said = s.message ? ` The API server said: ${redactSecrets(s.message)}` : '';
    const rbacResource = op.subresource ? `${op.type.plural}/${op.subresource}` : op.type.plural;
    switch (status) {
      case 401:
        return new KubeApiError(
          `${cluster} (${url}) rejected Stagecoach's credentials (401 Unauthorized) when asked to ${action}: check ${credentialsHint}; it may be wrong, expired or revoked`,
          401,
          'Unauthorized',
        );
      case 403:
        return new KubeApiError(
          `${cluster} forbids Stagecoach to ${action} (403 Forbidden): grant its identity an RBAC Role in namespace "${op.namespace}" ` +
            `with the rule apiGroups: ["${op.type.group}"], resources: ["${rbacResource}"], verbs: ["${op.verb}"] (docs/kubernetes.md lists every rule Stagecoach needs).${said}`,
          403,
          s.reason ?? 'Forbidden',
        );
      case 404: {
        if (s.details?.kind === 'namespaces') {
          return new KubeApiError(`${cluster} has no namespace "${s.details.name ?? op.namespace}" (to ${action}): create it, or configure another`, 404, 'NotFound');
        }
        if (!s.details?.name) {
          // No object named: the resource type itself is not served (its CRD is not installed).
          const what =
            op.type.group === 'argoproj.io' && op.type.plural === 'applications'
              ? "Argo CD's Application resource (applications.argoproj.io)"
              : `The ${op.type.kind} resource (${resourceName(op.type)}/${op.type.version})`;
          return new KubeApiError(
            `${what} is not installed in ${cluster} (${url}): install it there, or point Stagecoach at the cluster that has it (asked to ${action})`,
            404,
            s.reason ?? 'NotFound',
          );
        }
        return new KubeApiError(`${cluster}: ${describe(op)} does not exist (asked to ${op.verb} it)`, 404, 'NotFound');
      }
      case 409:
        if (s.reason === 'AlreadyExists') {
          return new KubeApiError(`${cluster}: ${describe(op)} already exists`, 409, 'AlreadyExists');
        }
        return new KubeApiError(
          `${cluster}: ${describe(op)} was changed by someone else since it was read (409 Conflict): read it again and retry`,
          409,
          s.reason ?? 'Conflict',
        );
      case 410:
        return new KubeApiError(
          `${cluster}: cannot ${action} from that resourceVersion, it is too old (410 Gone): list again and watch from the list's resourceVersion`,
          410,
          s.reason ?? 'Expired',
        );
      case 422:
        return new KubeApiError(`${cluster} rejected ${describe(op)} as invalid (422).${said}`, 422, s.reason ?? 'Invalid');
      default:
        return new KubeApiError(`${cluster} answered ${status} when asked to ${action}.${said}`, status, s.reason);
    }
  }

  async get<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, name: string): Promise<T | undefined> {
    return this.callAllowMissing({ verb: 'get', type, namespace, name }, o =>
      this.objects.getNamespacedCustomObject({ ...this.params(type, namespace), name }, o),
    );
  }

  async list<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, options: { labelSelector?: string } = {}) {
    const list = await this.call({ verb: 'list', type, namespace }, o =>
      this.objects.listNamespacedCustomObject({ ...this.params(type, namespace), labelSelector: options.labelSelector }, o),
    );
    return { items: (list?.items ?? []) as T[], resourceVersion: list?.metadata?.resourceVersion as string | undefined };
  }

  create<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, body: KubeObject): Promise<T> {
    return this.call({ verb: 'create', type, namespace, name: body.metadata?.name }, o =>
      this.objects.createNamespacedCustomObject({ ...this.params(type, namespace), body }, o),
    );
  }

  mergePatch<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, name: string, patch: object): Promise<T> {
    return this.call(
      { verb: 'patch', type, namespace, name },
      o => this.objects.patchNamespacedCustomObject({ ...this.params(type, namespace), name, body: patch }, o),
      PatchStrategy.MergePatch,
    );
  }

  replace<T extends KubeObject = KubeObject>(type: ResourceType, namespace: string, name: string, body: KubeObject): Promise<T> {
    return this.call({ verb: 'update', type, namespace, name }, o =>
      this.objects.replaceNamespacedCustomObject({ ...this.params(type, namespace), name, body }, o),
    );
  }

  async delete(
    type: ResourceType,
    namespace: string,
    name: string,
    options: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<void> {
    // already gone is fine: deleting is how Stagecoach cleans up, and cleanup may run twice
    await this.callAllowMissing({ verb: 'delete', type, namespace, name }, o =>
      this.objects.deleteNamespacedCustomObject(
        { ...this.params(type, namespace), name, propagationPolicy: options.propagationPolicy },
        o,
      ),
    );
  }

  watch<T extends KubeObject = KubeObject>(
    type: ResourceType,
    namespace: string,
    options: WatchOptions,
    onEvent: (type: WatchEventType, object: T) => boolean | void,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const op: Operation = { verb: 'watch', type, namespace };
    return new Promise<boolean>((resolve, reject) => {
      if (signal?.aborted) {
        resolve(false);
        return;
      }
      let settled = false;
      let controller: AbortController | undefined;
      let detach = () => {};
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        detach();
        controller?.abort();
        outcome();
      };
      if (signal) {
        const onAbort = () => finish(() => resolve(false));
        signal.addEventListener('abort', onAbort, { once: true });
        detach = () => signal.removeEventListener('abort', onAbort);
      }

      const query = {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        timeoutSeconds: options.timeoutSeconds,
      };
      new Watch(this.target.kubeConfig)
        .watch(
          this.path(type, namespace),
          query,
          (phase: string, object: any) => {
            if (settled) return;
            if (phase === 'ERROR') {
              // the server ends a watch it cannot serve (410 Expired) with a Status event
              finish(() => reject(this.translate({ code: object?.code ?? 500, body: object }, op)));
              return;
            }
            if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED') return; // BOOKMARK
            try {
              if (onEvent(phase, object as T) === true) finish(() => resolve(true));
            } catch (e) {
              finish(() => reject(e));
            }
          },
          (err: unknown) => {
            if (err && !settled) finish(() => reject(this.translate(err, op)));
            else finish(() => resolve(false));
          },
        )
        .then(
          c => {
            controller = c;
            if (settled) c.abort();
          },
          e => finish(() => reject(this.translate(e, op))),
        );
    });
  }

  async podLog(namespace: string, pod: string, options: { container?: string; limitBytes?: number } = {}): Promise<string> {
    const limit = options.limitBytes ?? DEFAULT_LOG_BYTES;
    const text = await this.call({ verb: 'get', type: PODS, namespace, name: pod, subresource: 'log' }, o =>
      this.core.readNamespacedPodLog(
        { namespace, name: pod, container: options.container, tailLines: LOG_TAIL_LINES, limitBytes: Math.max(limit, LOG_READ_LIMIT_BYTES) },
        o,
      ),
    );
    return tailBytes(typeof text === 'string' ? text : String(text ?? ''), limit);
  }
}

/** The configured clusters, one cached client each. */
export class ConfiguredKubeClusters implements KubeClusters {
  private readonly clients = new Map<string, ClusterClient>();
  private readonly byName: Map<string, ResolvedCluster>;
  private readonly defaultName: string;
  private readonly timeoutMs: number;

  constructor(
    clusters: ResolvedCluster[],
    options: { defaultCluster?: string; timeoutMs?: number } = {},
  ) {
    if (clusters.length === 0) throw new Error('ConfiguredKubeClusters needs at least one cluster (use unconfiguredClusters for none)');
    this.byName = new Map(clusters.map(c => [c.name, c]));
    this.defaultName = options.defaultCluster ?? clusters[0].name;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  client(cluster?: string): KubeClient {
    const name = cluster ?? this.defaultName;
    const target = this.byName.get(name);
    if (!target) {
      throw new KubeApiError(
        `no Kubernetes cluster named "${name}" is configured (known: ${this.names().join(', ')}): add it to stagecoach.kubernetes.clusters or use one of those`,
      );
    }
    let client = this.clients.get(name);
    if (!client) {
      client = new ClusterClient(target, this.timeoutMs);
      this.clients.set(name, client);
    }
    return client;
  }

  names(): string[] {
    return [this.defaultName, ...[...this.byName.keys()].filter(n => n !== this.defaultName)];
  }
}

/** Clusters from plain options (tests, tools): the first is the default unless `defaultCluster` says otherwise. */
export function kubeClustersFromOptions(
  clusters: ClusterOptions[],
  options: { defaultCluster?: string; timeoutMs?: number } = {},
): KubeClusters {
  return new ConfiguredKubeClusters(clusters.map(c => resolveClusterOptions(c)), options);
}

/**
 * The clusters app-config `stagecoach.kubernetes` describes. With none configured: the
 * kubeconfig in KUBECONFIG or ~/.kube/config, else the pod's service account, else
 * `unconfiguredClusters` (every use says how to configure one). Throws KubernetesConfigError
 * naming the key for a bad configuration.
 */
export function kubeClustersFromConfig(
  config: Config,
  options: ClusterDiscovery & { logger?: Logger; timeoutMs?: number } = {},
): KubeClusters {
  const { clusters, defaultCluster } = parseKubernetesConfig(config, options);
  if (clusters.length === 0) {
    options.logger?.info('No Kubernetes cluster configured (stagecoach.kubernetes): Argo CD steps and job metrics are unavailable');
    return unconfiguredClusters;
  }
  options.logger?.info(
    `Kubernetes clusters: ${clusters.map(c => `${c.name} (${c.url})`).join(', ')}; default ${defaultCluster ?? clusters[0].name}`,
  );
  return new ConfiguredKubeClusters(clusters, { defaultCluster, timeoutMs: options.timeoutMs });
}
