import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Kubernetes API server on 127.0.0.1 for the import's tests: the read side of the real wire
 * protocol, for cluster-scoped and namespaced resources of any group, as kube-apiserver
 * answers it (the idea of plugins/stagecoach-backend/src/__testUtils__/kubeApi.ts, which
 * serves the backend's own namespaced reads and writes):
 *
 *   GET /apis/{group}/{version}/{plural}[/{name}]                       cluster-scoped
 *   GET /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}]       namespaced
 *   GET /api/v1/namespaces/{ns}/{plural}[/{name}]                       the core group
 *
 * Lists take `labelSelector` (key, key=value, key!=value) and `limit` with `continue`
 * tokens; `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1` answers
 * objects' metadata only, as Kubernetes does. A type that is not served answers 404 with a
 * Status naming no object (a CRD that is not installed); errors are `Status` objects; a bearer
 * token is required when one is set. Objects get what the API server adds: uid,
 * resourceVersion, generation, creationTimestamp, managedFields.
 */

export interface KubeType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  clusterScoped?: boolean;
}

export type Obj = Record<string, any> & { metadata: Record<string, any> };

export interface KubeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

export interface KubeApiServer {
  url: string;
  requests: KubeRequest[];
  /** Stores an object as a client's create would leave it (server fields added); returns a copy. */
  put(type: KubeType, object: Obj): Obj;
  /** Requests of this type (any verb, any namespace) answer 403, as RBAC would refuse them. */
  deny(type: Pick<KubeType, 'group' | 'plural'>): void;
  /** Undoes `deny`. */
  allow(type: Pick<KubeType, 'group' | 'plural'>): void;
  close(): Promise<void>;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v));
const key = (t: Pick<KubeType, 'group' | 'plural'>) => `${t.group}/${t.plural}`;
const qualified = (t: Pick<KubeType, 'group' | 'plural'>) =>
  t.group ? `${t.plural}.${t.group}` : t.plural;

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function status(e: ApiError) {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: e.message,
    reason: e.reason,
    details: e.details,
    code: e.code,
  };
}

function labelMatcher(
  selector: string,
): (labels: Record<string, string>) => boolean {
  const terms = selector
    .split(',')
    .map(t => t.trim())
    .filter(Boolean)
    .map(term => {
      const m = /^([\w./-]+)\s*(!=|==|=)?\s*([\w./-]*)$/.exec(term);
      if (!m)
        throw new ApiError(
          400,
          'BadRequest',
          `unable to parse requirement: found '${term}'`,
        );
      const [, k, op, v] = m;
      if (!op) return (l: Record<string, string>) => k in l;
      return op === '!='
        ? (l: Record<string, string>) => l[k] !== v
        : (l: Record<string, string>) => l[k] === v;
    });
  return labels => terms.every(t => t(labels));
}

interface Route {
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
}

function route(pathname: string): Route | undefined {
  const s = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (s[0] === 'api' && s.length >= 2)
    [group, version, rest] = ['', s[1], s.slice(2)];
  else if (s[0] === 'apis' && s.length >= 3)
    [group, version, rest] = [s[1], s[2], s.slice(3)];
  else return undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest.length <= 4)
    return {
      group,
      version,
      plural: rest[2],
      namespace: rest[1],
      name: rest[3],
    };
  if (rest.length >= 1 && rest.length <= 2 && rest[0] !== 'namespaces')
    return { group, version, plural: rest[0], name: rest[1] };
  return undefined;
}

/** @param served the resource types this API server knows; any other answers 404 like a missing CRD */
export async function startKubeApi(options: {
  served: KubeType[];
  token?: string;
}): Promise<KubeApiServer> {
  const types = new Map(options.served.map(t => [key(t), t]));
  const store = new Map<string, Obj[]>();
  const denied = new Set<string>();
  const requests: KubeRequest[] = [];
  let counter = 0;

  const put = (type: KubeType, object: Obj): Obj => {
    const o = clone(object);
    o.apiVersion ??= type.group
      ? `${type.group}/${type.version}`
      : type.version;
    o.kind ??= type.kind;
    o.metadata = {
      ...o.metadata,
      uid: randomUUID(),
      resourceVersion: String(++counter),
      generation: 1,
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      managedFields: [
        {
          manager: 'kubectl-client-side-apply',
          operation: 'Update',
          apiVersion: o.apiVersion,
          time: new Date().toISOString(),
        },
      ],
    };
    const list = store.get(key(type)) ?? [];
    store.set(key(type), [
      ...list.filter(
        x =>
          !(
            x.metadata.name === o.metadata.name &&
            x.metadata.namespace === o.metadata.namespace
          ),
      ),
      o,
    ]);
    return clone(o);
  };

  const answer = (
    req: KubeRequest,
    r: Route,
  ): { body: unknown; contentType: string } => {
    const type = types.get(key(r));
    if (
      !type ||
      type.version !== r.version ||
      !!type.clusterScoped !== (r.namespace === undefined)
    ) {
      throw new ApiError(
        404,
        'NotFound',
        'the server could not find the requested resource',
      );
    }
    if (denied.has(key(type))) {
      const where = r.namespace
        ? ` in the namespace "${r.namespace}"`
        : ' at the cluster scope';
      throw new ApiError(
        403,
        'Forbidden',
        `${qualified(type)}${
          r.name ? ` "${r.name}"` : ''
        } is forbidden: User "jane" cannot ${
          r.name ? 'get' : 'list'
        } resource "${type.plural}" in API group "${type.group}"${where}`,
        { name: r.name, group: type.group, kind: type.plural },
      );
    }
    const all = (store.get(key(type)) ?? []).filter(
      o => o.metadata.namespace === r.namespace,
    );
    if (r.name) {
      const found = all.find(o => o.metadata.name === r.name);
      if (!found)
        throw new ApiError(
          404,
          'NotFound',
          `${qualified(type)} "${r.name}" not found`,
          { name: r.name, group: type.group, kind: type.plural },
        );
      return { body: found, contentType: 'application/json' };
    }
    const matches = labelMatcher(req.query.get('labelSelector') ?? '');
    const items = all
      .filter(o => matches(o.metadata.labels ?? {}))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const from = req.query.get('continue')
      ? Number(Buffer.from(req.query.get('continue')!, 'base64url').toString())
      : 0;
    const limit = Number(req.query.get('limit') ?? 0) || items.length;
    const page = items.slice(from, from + limit);
    const more = from + limit < items.length;
    const listMeta = {
      resourceVersion: String(counter),
      ...(more
        ? {
            continue: Buffer.from(String(from + limit)).toString('base64url'),
            remainingItemCount: items.length - from - limit,
          }
        : {}),
    };
    const apiVersion = type.group
      ? `${type.group}/${type.version}`
      : type.version;
    if ((req.headers.accept ?? '').includes('as=PartialObjectMetadataList')) {
      return {
        body: {
          kind: 'PartialObjectMetadataList',
          apiVersion: 'meta.k8s.io/v1',
          metadata: listMeta,
          items: page.map(o => ({
            kind: 'PartialObjectMetadata',
            apiVersion: 'meta.k8s.io/v1',
            metadata: o.metadata,
          })),
        },
        contentType:
          'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
      };
    }
    // built-in types' list items carry no kind and apiVersion; custom resources' do
    const shown =
      type.group === ''
        ? page.map(({ kind: _k, apiVersion: _a, ...o }) => o)
        : page;
    return {
      body: {
        apiVersion,
        kind: `${type.kind}List`,
        metadata: listMeta,
        items: shown,
      },
      contentType: 'application/json',
    };
  };

  const server = http.createServer((incoming, res) => {
    const url = new URL(incoming.url ?? '/', 'http://localhost');
    const req: KubeRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
    };
    requests.push(req);
    try {
      if (
        options.token !== undefined &&
        incoming.headers.authorization !== `Bearer ${options.token}`
      )
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const r = route(url.pathname);
      if (!r)
        throw new ApiError(
          404,
          'NotFound',
          'the server could not find the requested resource',
        );
      if (req.method !== 'GET')
        throw new ApiError(
          405,
          'MethodNotAllowed',
          'this test server only reads',
        );
      const { body, contentType } = answer(req, r);
      res.writeHead(200, { 'Content-Type': contentType });
      res.end(JSON.stringify(body));
    } catch (e) {
      const err =
        e instanceof ApiError
          ? e
          : new ApiError(
              500,
              'InternalError',
              `kubeApi test server bug: ${(e as Error).stack}`,
            );
      res.writeHead(err.code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status(err)));
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    put,
    deny: t => denied.add(key(t)),
    allow: t => denied.delete(key(t)),
    close: async () => {
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    },
  };
}
