import {
  CustomObjectsApi,
  KubeConfig,
  Observable,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
} from '@kubernetes/client-node';
import { KubeObject, ResourceType, resourceName } from './kinds';

const REQUEST_TIMEOUT_MS = 30_000;
/** Objects asked for per page: a namespace with years of Freight is read in pages. */
const PAGE_SIZE = 250;

/** A read that failed, in words; `status` is the HTTP status when the API server answered. */
export class KubeReadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The resource type is not served at all: its CRD is not installed. */
    readonly notServed = false,
  ) {
    super(message);
    this.name = 'KubeReadError';
  }
}

/** The body of a Kubernetes API error, as far as it could be read. */
interface ApiStatus {
  message?: string;
  reason?: string;
  details?: { name?: string; kind?: string };
}

function parseStatus(body: unknown): ApiStatus {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return {};
    }
  }
  return value &&
    typeof value === 'object' &&
    (value as { kind?: unknown }).kind === 'Status'
    ? (value as ApiStatus)
    : {};
}

function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; cause?: unknown };
  if (typeof err?.code === 'string') return err.code;
  return err?.cause ? errorCode(err.cause) : undefined;
}

/**
 * Options of one request: a timeout; the core group's path (CustomObjectsApi only knows
 * /apis/{group}/...); and, for Secrets, the Accept header that asks the API server for their
 * metadata only, so their values never leave the cluster.
 */
function requestOptions(
  metadataOnly: boolean,
): ConfigurationOptions<ObservableMiddleware> {
  const middleware: ObservableMiddleware = {
    pre(ctx: RequestContext) {
      ctx.setUrl(ctx.getUrl().replace('/apis//', '/api/'));
      ctx.setSignal(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      if (metadataOnly) {
        ctx.setHeaderParam(
          'Accept',
          'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json',
        );
      }
      return new Observable(Promise.resolve(ctx));
    },
    post: response => new Observable(Promise.resolve(response)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' };
}

/**
 * The Kargo installation's cluster, read through `@kubernetes/client-node` (which does the
 * kubeconfig's authentication and TLS). Only lists and gets: the import never writes to it.
 */
export class KargoCluster {
  private readonly api: CustomObjectsApi;
  /** `context "kind-kargo" (https://127.0.0.1:6443)` */
  readonly description: string;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.description = `context "${kubeConfig.getCurrentContext()}" (${
      kubeConfig.getCurrentCluster()?.server
    })`;
  }

  /** Every object of a type (in one namespace unless cluster-scoped), page by page. */
  async list(
    type: ResourceType,
    namespace?: string,
    options: { labelSelector?: string; metadataOnly?: boolean } = {},
  ): Promise<KubeObject[]> {
    const items: KubeObject[] = [];
    let next: string | undefined;
    do {
      const request = {
        group: type.group,
        version: type.version,
        plural: type.plural,
        labelSelector: options.labelSelector,
        limit: PAGE_SIZE,
        _continue: next,
      };
      const page = (await this.call('list', type, namespace, undefined, () =>
        type.clusterScoped
          ? this.api.listClusterCustomObject(
              request,
              requestOptions(!!options.metadataOnly),
            )
          : this.api.listNamespacedCustomObject(
              { ...request, namespace: namespace! },
              requestOptions(!!options.metadataOnly),
            ),
      )) as { items?: KubeObject[]; metadata?: { continue?: string } };
      items.push(...(page.items ?? []));
      next = page.metadata?.continue || undefined;
    } while (next);
    return items;
  }

  /** One cluster-scoped object, or undefined when there is none of that name. */
  async get(type: ResourceType, name: string): Promise<KubeObject | undefined> {
    try {
      return (await this.call('get', type, undefined, name, () =>
        this.api.getClusterCustomObject(
          {
            group: type.group,
            version: type.version,
            plural: type.plural,
            name,
          },
          requestOptions(false),
        ),
      )) as KubeObject;
    } catch (e) {
      if (e instanceof KubeReadError && e.status === 404 && !e.notServed)
        return undefined;
      throw e;
    }
  }

  private async call<R>(
    verb: 'list' | 'get',
    type: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    fn: () => Promise<R>,
  ): Promise<R> {
    try {
      return await fn();
    } catch (e) {
      throw this.translate(e, verb, type, namespace, name);
    }
  }

  /** The failure in words, naming the cluster, what was asked and what to check; never a header or a token. */
  private translate(
    e: unknown,
    verb: string,
    type: ResourceType,
    namespace?: string,
    name?: string,
  ): KubeReadError {
    const what = `${resourceName(type)}${name ? ` "${name}"` : ''}${
      namespace ? ` in namespace "${namespace}"` : ''
    }`;
    const cluster = `the cluster of ${this.description}`;
    const err = e as {
      code?: unknown;
      body?: unknown;
      name?: string;
      message?: string;
    };
    if (typeof err.code !== 'number') {
      if (err.name === 'AbortError' || err.name === 'TimeoutError') {
        return new KubeReadError(
          `${cluster} did not answer within ${
            REQUEST_TIMEOUT_MS / 1000
          }s (to ${verb} ${what})`,
        );
      }
      const code = errorCode(e);
      return new KubeReadError(
        `cannot ${verb} ${what}: ${cluster} cannot be reached${
          code ? ` (${code})` : ''
        }: is the context right, and the API server up?`,
      );
    }
    const status = parseStatus(err.body);
    const said = status.message ? `: ${status.message}` : '';
    switch (err.code) {
      case 401:
        return new KubeReadError(
          `${cluster} rejected the kubeconfig's credentials (401) when asked to ${verb} ${what}: log in again`,
          401,
        );
      case 403:
        return new KubeReadError(
          `you may not ${verb} ${what} (403 Forbidden): the import needs RBAC verbs get and list on ${resourceName(
            type,
          )}${said}`,
          403,
        );
      case 404:
        if (!status.details?.name) {
          return new KubeReadError(
            `${resourceName(type)}/${
              type.version
            } is not served by ${cluster}: its CustomResourceDefinition is not installed`,
            404,
            true,
          );
        }
        return new KubeReadError(`${what} does not exist`, 404);
      default:
        return new KubeReadError(
          `${cluster} answered ${err.code} when asked to ${verb} ${what}${said}`,
          err.code,
        );
    }
  }
}
