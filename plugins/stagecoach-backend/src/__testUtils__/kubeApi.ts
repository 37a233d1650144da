import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A Kubernetes API server on 127.0.0.1 for tests: enough of the real wire protocol for what
 * `KubeClient` uses, for any resource type (Argo CD Applications, Jobs, Pods, Events, ...).
 * It keeps objects in memory, one global resourceVersion counter, and answers like
 * kube-apiserver: `Status` objects for errors, 409 for stale writes, chunked watch streams.
 *
 *   GET    /api/v1/namespaces/{ns}/{plural}[/{name}]                 core group
 *   GET    /apis/{group}/{version}/namespaces/{ns}/{plural}[/{name}] any other group
 *   GET    ...?watch=true                                            watch
 *   POST   collection                create (generateName; 409 AlreadyExists)
 *   PUT    item                      replace (409 Conflict on a stale metadata.resourceVersion)
 *   PATCH  item                      application/merge-patch+json or application/json-patch+json
 *   DELETE item                      propagationPolicy Background/Foreground deletes dependents
 *   GET    /api/v1/namespaces/{ns}/pods/{name}/log   text; container, tailLines, limitBytes
 *
 * Simulators (Job controller, Argo CD) drive it through the test hooks: `put`, `update` and
 * `remove` change state directly (no auth, no conflict checks) and notify watchers like a
 * controller's write would; `onWrite` tells them about every write a *client* made over HTTP.
 */

/** A resource type as the server keys it: the version is ignored (one object, any version). */
export interface KubeType {
  group: string;
  version: string;
  plural: string;
  kind?: string;
}

export type Obj = Record<string, any> & { metadata: Record<string, any> };

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** One HTTP request as the server received it. */
export interface KubeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  verb?: Verb;
  /** `applications`, `pods/log`. */
  resource?: string;
  namespace?: string;
  name?: string;
  headers: http.IncomingHttpHeaders;
  body?: unknown;
}

/** A write a client made through the API (not through the test hooks). */
export interface WriteEvent {
  verb: 'create' | 'update' | 'patch' | 'delete';
  type: KubeType;
  namespace: string;
  name: string;
  /** The object after the write; for delete, the object that was deleted. */
  object: Obj;
  /** The object before (update, patch, delete). */
  previous?: Obj;
}

/** A 403 rule: every field given must match the request (resource is `pods/log` for logs). */
export interface DenyRule {
  verb?: Verb;
  group?: string;
  resource?: string;
  namespace?: string;
}

export interface KubeApiOptions {
  /** Require `Authorization: Bearer <token>`; 401 otherwise. */
  token?: string;
  /** Requests to forbid (403), as RBAC would. Also settable later with `deny`. */
  deny?: DenyRule[];
  /** The resource types served (others: 404 "the server could not find the requested resource"); default any. */
  resources?: Array<Pick<KubeType, 'group' | 'plural'>>;
  /** The namespaces that exist (writes elsewhere: 404 namespaces "x" not found); default any. */
  namespaces?: string[];
  /** The clock for creationTimestamp. */
  now?: () => Date;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

/** A failure for `failNext`: a Status with this code, or the connection dropped. */
export type InjectedFailure = { status: number; reason?: string; message?: string } | 'disconnect';

export interface KubeApiServer {
  /** http://127.0.0.1:<port> (https:// with `tls`) */
  url: string;
  /** Every request, in order. */
  requests: KubeRequest[];
  /** Creates or overwrites an object (as a controller would): bumps resourceVersion, notifies watchers. Returns a copy. */
  put(type: KubeType, object: Obj): Obj;
  /** A copy of the object, or undefined. */
  get(type: KubeType, namespace: string, name: string): Obj | undefined;
  /** Copies of a type's objects, in one namespace or all. */
  list(type: KubeType, namespace?: string): Obj[];
  /**
   * Changes an object in place: `fn` edits the copy it gets (or returns a replacement).
   * Bumps resourceVersion and sends MODIFIED to watchers. Throws if the object does not exist.
   */
  update(type: KubeType, namespace: string, name: string, fn: (object: Obj) => Obj | void): Obj;
  /** Deletes (sending DELETED); true if it existed. Dependents are not touched. */
  remove(type: KubeType, namespace: string, name: string): boolean;
  /** Sets what `GET .../pods/{pod}/log` returns (per container, or for the pod's only one). */
  setPodLog(namespace: string, pod: string, text: string, container?: string): void;
  /** Called after each client write, before the response is sent. Returns an unsubscribe function. */
  onWrite(listener: (event: WriteEvent) => void): () => void;
  /** The next request matching `match` fails this way (once). */
  failNext(match: Partial<Pick<KubeRequest, 'method' | 'verb' | 'resource' | 'name'>>, failure: InjectedFailure): void;
  /** Adds a 403 rule. */
  deny(rule: DenyRule): void;
  /** Forgets watch history: a watch from an older resourceVersion then gets 410 Expired. */
  compactHistory(): void;
  /** The current (global) resourceVersion. */
  resourceVersion(): string;
  /** Open watch streams. */
  watchCount(): number;
  close(): Promise<void>;
}

// --- small helpers ------------------------------------------------------------------------

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));
const typeKey = (t: Pick<KubeType, 'group' | 'plural'>) => `${t.group}/${t.plural}`;
const objKey = (ns: string, name: string) => `${ns}/${name}`;
const qualified = (t: Pick<KubeType, 'group' | 'plural'>) => (t.group ? `${t.plural}.${t.group}` : t.plural);

const KNOWN_KINDS: Record<string, string> = {
  '/pods': 'Pod',
  '/events': 'Event',
  '/configmaps': 'ConfigMap',
  'batch/jobs': 'Job',
  'argoproj.io/applications': 'Application',
};

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

function status(code: number, reason: string, message: string, details: Record<string, unknown> = {}) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

const notFound = (t: KubeType, name: string) =>
  new ApiError(404, 'NotFound', `${qualified(t)} "${name}" not found`, { name, group: t.group, kind: t.plural });

// --- label and field selectors ----------------------------------------------------------

type Requirement = (labels: Record<string, string>) => boolean;

/** Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x)`. */
export function parseLabelSelector(selector: string): Requirement[] {
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  return terms
    .map(t => t.trim())
    .filter(Boolean)
    .map(term => {
      const set = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
      if (set) {
        const [, key, op, list] = set;
        const values = list.split(',').map(v => v.trim());
        return op === 'in' ? l => key in l && values.includes(l[key]) : l => !(key in l) || !values.includes(l[key]);
      }
      const equality = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(term);
      if (equality) {
        const [, key, op, value] = equality;
        return op === '!=' ? l => l[key] !== value : l => key in l && l[key] === value;
      }
      const absent = /^!([\w./-]+)$/.exec(term);
      if (absent) return l => !(absent[1] in l);
      const exists = /^([\w./-]+)$/.exec(term);
      if (exists) return l => exists[1] in l;
      throw new ApiError(400, 'BadRequest', `unable to parse requirement: found '${term}', expected: a label selector term`);
    });
}

/** Field selectors on metadata.name and metadata.namespace (`=`, `==`, `!=`), as served for every type. */
function parseFieldSelector(selector: string): (o: Obj) => boolean {
  const tests = selector
    .split(',')
    .filter(Boolean)
    .map(term => {
      const m = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(term.trim());
      if (!m) throw new ApiError(400, 'BadRequest', `"${term}" is not a known field selector: only "metadata.name", "metadata.namespace"`);
      const field = m[1] === 'metadata.name' ? 'name' : 'namespace';
      return (o: Obj) => (m[2] === '!=' ? o.metadata[field] !== m[3] : o.metadata[field] === m[3]);
    });
  return o => tests.every(t => t(o));
}

// --- patches --------------------------------------------------------------------------

/** RFC 7386: objects merge recursively, null removes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return clone(patch);
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new ApiError(422, 'Invalid', `invalid JSON pointer "${path}"`);
  return path.slice(1).split('/').map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 operations: add, remove, replace, move, copy, test. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  let root = clone(doc);
  const parentOf = (path: string) => {
    const parts = pointer(path);
    const last = parts.pop();
    let cur: any = root;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object' || !(p in cur)) throw new ApiError(422, 'Invalid', `path "${path}" does not exist`);
      cur = cur[p];
    }
    return { parent: cur, key: last };
  };
  const read = (path: string) => {
    let cur: any = root;
    for (const p of pointer(path)) {
      if (cur === null || typeof cur !== 'object' || !(p in cur)) throw new ApiError(422, 'Invalid', `path "${path}" does not exist`);
      cur = cur[p];
    }
    return cur;
  };
  const add = (path: string, value: unknown) => {
    if (path === '') {
      root = clone(value);
      return;
    }
    const { parent, key } = parentOf(path);
    if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, clone(value));
    else parent[key!] = clone(value);
  };
  const remove = (path: string) => {
    const { parent, key } = parentOf(path);
    if (parent === null || typeof parent !== 'object' || !(key! in parent)) throw new ApiError(422, 'Invalid', `path "${path}" does not exist`);
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key!];
  };
  for (const op of ops as Array<{ op: string; path: string; value?: unknown; from?: string }>) {
    switch (op.op) {
      case 'add': add(op.path, op.value); break;
      case 'remove': remove(op.path); break;
      case 'replace': remove(op.path); add(op.path, op.value); break;
      case 'move': { const v = read(op.from!); remove(op.from!); add(op.path, v); break; }
      case 'copy': add(op.path, read(op.from!)); break;
      case 'test':
        if (JSON.stringify(read(op.path)) !== JSON.stringify(op.value)) throw new ApiError(422, 'Invalid', `test operation failed at "${op.path}"`);
        break;
      default: throw new ApiError(400, 'BadRequest', `unknown JSON patch operation "${op.op}"`);
    }
  }
  return root;
}

// --- the server -------------------------------------------------------------------------

interface HistoryEntry {
  rv: number;
  key: string;
  namespace: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  previous?: Obj;
}

interface Watcher {
  key: string;
  namespace: string;
  labels: Requirement[];
  fields: (o: Obj) => boolean;
  res: http.ServerResponse;
}

interface Route {
  type: KubeType;
  namespace: string;
  name?: string;
  subresource?: string;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Five characters as the API server appends to generateName (and the Job controller to pod names). */
export function randomSuffix(): string {
  return Array.from({ length: 5 }, () => GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)]).join('');
}

function route(pathname: string): Route | undefined {
  const s = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  // /api/v1/namespaces/ns/plural[/name[/sub]]  or  /apis/group/version/namespaces/ns/plural[/name[/sub]]
  let group: string;
  let version: string | undefined;
  let rest: string[];
  if (s[0] === 'api') [group, version, rest] = ['', s[1], s.slice(2)];
  else if (s[0] === 'apis') [group, version, rest] = [s[1], s[2], s.slice(3)];
  else return undefined;
  if (version === undefined) return undefined;
  if (rest[0] !== 'namespaces' || rest.length < 3 || rest.length > 5) return undefined;
  return { type: { group, version, plural: rest[2] }, namespace: rest[1], name: rest[3], subresource: rest[4] };
}

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApiServer> {
  const now = options.now ?? (() => new Date());
  const denyRules: DenyRule[] = [...(options.deny ?? [])];
  const served = options.resources ? new Set(options.resources.map(typeKey)) : undefined;
  const store = new Map<string, Map<string, Obj>>();
  const podLogs = new Map<string, string>();
  const history: HistoryEntry[] = [];
  let historyFloor = 0;
  const watchers = new Set<Watcher>();
  const writeListeners = new Set<(e: WriteEvent) => void>();
  const failures: Array<{ match: Partial<KubeRequest>; failure: InjectedFailure }> = [];
  const requests: KubeRequest[] = [];
  let counter = 0;

  const objects = (key: string) => {
    let m = store.get(key);
    if (!m) store.set(key, (m = new Map()));
    return m;
  };

  /** The event a watcher sees: a label-filtered watch sees objects enter (ADDED) and leave (DELETED) its set. */
  const eventFor = (w: Watcher, e: HistoryEntry): { type: string; object: Obj } | undefined => {
    if (w.key !== e.key || w.namespace !== e.namespace) return undefined;
    const matches = (o?: Obj) => !!o && w.fields(o) && w.labels.every(r => r(o.metadata.labels ?? {}));
    const inSet = matches(e.object);
    if (e.type !== 'MODIFIED') return inSet ? { type: e.type, object: e.object } : undefined;
    const before = matches(e.previous);
    if (inSet) return { type: before ? 'MODIFIED' : 'ADDED', object: e.object };
    return before ? { type: 'DELETED', object: e.object } : undefined;
  };

  const send = (w: Watcher, e: HistoryEntry) => {
    const event = eventFor(w, e);
    if (event && !w.res.writableEnded) w.res.write(`${JSON.stringify(event)}\n`);
  };

  /** Records a change and streams it to matching watchers. */
  const record = (type: KubeType, entry: Omit<HistoryEntry, 'key'>) => {
    const full: HistoryEntry = { ...entry, key: typeKey(type) };
    history.push(full);
    for (const w of watchers) send(w, full);
  };

  const kindOf = (type: KubeType, body?: Obj) => body?.kind ?? type.kind ?? KNOWN_KINDS[typeKey(type)] ?? 'Object';
  const apiVersionOf = (type: KubeType) => (type.group ? `${type.group}/${type.version}` : type.version);

  const stamp = (type: KubeType, o: Obj, namespace: string): Obj => {
    o.apiVersion ??= apiVersionOf(type);
    o.kind ??= kindOf(type, o);
    o.metadata.namespace = namespace;
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    o.metadata.resourceVersion = String(++counter);
    return o;
  };

  // -- the direct (test hook) side --

  const hooks = {
    put(type: KubeType, object: Obj): Obj {
      const namespace = object.metadata.namespace ?? 'default';
      const map = objects(typeKey(type));
      const previous = map.get(objKey(namespace, object.metadata.name));
      const o = stamp(type, clone(object), namespace);
      if (previous) {
        o.metadata.uid = previous.metadata.uid;
        o.metadata.creationTimestamp = previous.metadata.creationTimestamp;
      }
      map.set(objKey(namespace, o.metadata.name), o);
      record(type, { rv: counter, namespace, type: previous ? 'MODIFIED' : 'ADDED', object: clone(o), previous: clone(previous) });
      return clone(o);
    },
    get: (type: KubeType, namespace: string, name: string) => clone(store.get(typeKey(type))?.get(objKey(namespace, name))),
    list: (type: KubeType, namespace?: string) =>
      [...(store.get(typeKey(type))?.values() ?? [])].filter(o => !namespace || o.metadata.namespace === namespace).map(clone),
    update(type: KubeType, namespace: string, name: string, fn: (o: Obj) => Obj | void): Obj {
      const map = objects(typeKey(type));
      const previous = map.get(objKey(namespace, name));
      if (!previous) throw new Error(`kubeApi.update: ${qualified(type)} ${namespace}/${name} does not exist`);
      const draft = clone(previous);
      const next = fn(draft) ?? draft;
      next.metadata = { ...next.metadata, name, namespace, uid: previous.metadata.uid, resourceVersion: String(++counter) };
      map.set(objKey(namespace, name), next);
      record(type, { rv: counter, namespace, type: 'MODIFIED', object: clone(next), previous: clone(previous) });
      return clone(next);
    },
    remove(type: KubeType, namespace: string, name: string): boolean {
      const map = objects(typeKey(type));
      const previous = map.get(objKey(namespace, name));
      if (!previous) return false;
      map.delete(objKey(namespace, name));
      const gone = { ...clone(previous), metadata: { ...previous.metadata, resourceVersion: String(++counter) } };
      record(type, { rv: counter, namespace, type: 'DELETED', object: gone });
      return true;
    },
  };

  // -- the HTTP side --

  const notifyWrite = (e: WriteEvent) => {
    for (const l of writeListeners) l(clone(e));
  };

  const checkType = (type: KubeType) => {
    if (served && !served.has(typeKey(type))) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  };

  const checkNamespace = (namespace: string) => {
    if (options.namespaces && !options.namespaces.includes(namespace)) {
      throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    }
  };

  /** Deletes what the object owns (ownerReferences), and for a Job its pods (label job-name), recursively. */
  const deleteDependents = (owner: Obj, ownerType: KubeType) => {
    for (const [key, map] of store) {
      const [group, plural] = key.split('/');
      for (const o of [...map.values()]) {
        if (o.metadata.namespace !== owner.metadata.namespace) continue;
        const owned = (o.metadata.ownerReferences ?? []).some((r: { uid?: string }) => r.uid === owner.metadata.uid);
        const jobPod = typeKey(ownerType) === 'batch/jobs' && key === '/pods' && o.metadata.labels?.['job-name'] === owner.metadata.name;
        if (owned || jobPod) {
          const type = { group, version: 'v1', plural };
          hooks.remove(type, o.metadata.namespace, o.metadata.name);
          deleteDependents(o, type);
        }
      }
    }
  };

  const conflict = (type: KubeType, name: string) =>
    new ApiError(409, 'Conflict',
      `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: type.group, kind: type.plural });

  /** A client's replace or patch: identity fields stay, resourceVersion moves on, watchers and onWrite hear of it. */
  const write = (verb: 'update' | 'patch', type: KubeType, namespace: string, name: string, current: Obj, next: Obj) => {
    next.metadata = {
      ...next.metadata,
      name,
      namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      resourceVersion: String(++counter),
    };
    next.apiVersion ??= current.apiVersion;
    next.kind ??= current.kind;
    objects(typeKey(type)).set(objKey(namespace, name), next);
    record(type, { rv: counter, namespace, type: 'MODIFIED', object: clone(next), previous: clone(current) });
    const result = clone(next);
    notifyWrite({ verb, type, namespace, name, object: result, previous: clone(current) });
    return result;
  };

  const startWatch = (req: KubeRequest, type: KubeType, namespace: string, res: http.ServerResponse) => {
    const w: Watcher = {
      key: typeKey(type),
      namespace,
      labels: parseLabelSelector(req.query.get('labelSelector') ?? ''),
      fields: parseFieldSelector(req.query.get('fieldSelector') ?? ''),
      res,
    };
    const from = req.query.get('resourceVersion');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    if (from && from !== '0') {
      if (Number(from) < historyFloor) {
        res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${counter})`) })}\n`);
        return;
      }
      for (const e of history) if (e.rv > Number(from)) send(w, e);
    } else {
      // no resourceVersion: the current state first, as synthetic ADDED events
      for (const o of objects(w.key).values()) {
        if (o.metadata.namespace === namespace) send(w, { rv: counter, key: w.key, namespace, type: 'ADDED', object: clone(o) });
      }
    }
    watchers.add(w);
    const end = () => {
      watchers.delete(w);
      if (!res.writableEnded) res.end();
    };
    res.on('close', () => watchers.delete(w));
    const timeout = Number(req.query.get('timeoutSeconds') ?? 0);
    if (timeout > 0) setTimeout(end, timeout * 1000).unref();
  };

  const handle = (req: KubeRequest, r: Route, res: http.ServerResponse): unknown => {
    const { type, namespace, name } = r;
    checkType(type);
    const map = objects(typeKey(type));
    const current = name ? map.get(objKey(namespace, name)) : undefined;
    const body = req.body as Obj | undefined;

    if (r.subresource === 'log' && type.plural === 'pods' && req.method === 'GET') {
      if (!current) throw notFound(type, name!);
      const containers: string[] = (current.spec?.containers ?? []).map((c: { name: string }) => c.name);
      let container = req.query.get('container') ?? undefined;
      if (!container && containers.length > 1) {
        throw new ApiError(400, 'BadRequest', `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`);
      }
      if (container && containers.length && !containers.includes(container)) {
        throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
      }
      container ??= containers[0];
      let text = podLogs.get(`${namespace}/${name}/${container ?? ''}`) ?? podLogs.get(`${namespace}/${name}/`) ?? '';
      const tail = req.query.get('tailLines');
      if (tail) {
        const lines = text.split(/(?<=\n)/);
        text = lines.slice(Math.max(0, lines.length - Number(tail))).join('');
      }
      const limit = req.query.get('limitBytes');
      if (limit) text = Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(text);
      return undefined;
    }
    if (r.subresource) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');

    switch (req.verb) {
      case 'get':
        if (!current) throw notFound(type, name!);
        return current;
      case 'list': {
        const labels = parseLabelSelector(req.query.get('labelSelector') ?? '');
        const fields = parseFieldSelector(req.query.get('fieldSelector') ?? '');
        const items = [...map.values()].filter(
          o => o.metadata.namespace === namespace && fields(o) && labels.every(l => l(o.metadata.labels ?? {})),
        );
        return { apiVersion: apiVersionOf(type), kind: `${kindOf(type, items[0])}List`, metadata: { resourceVersion: String(counter) }, items };
      }
      case 'watch':
        startWatch(req, type, namespace, res);
        return undefined;
      case 'create': {
        checkNamespace(namespace);
        if (!body?.metadata || typeof body.metadata !== 'object') throw new ApiError(400, 'BadRequest', 'the request body must be an object with metadata');
        if (body.metadata.namespace && body.metadata.namespace !== namespace) {
          throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
        }
        const o = clone(body);
        if (!o.metadata.name && o.metadata.generateName) {
          do o.metadata.name = `${o.metadata.generateName}${randomSuffix()}`;
          while (map.has(objKey(namespace, o.metadata.name)));
        }
        if (!o.metadata.name) throw new ApiError(422, 'Invalid', `${kindOf(type, o)} "" is invalid: metadata.name: Required value: name or generateName is required`);
        if (map.has(objKey(namespace, o.metadata.name))) {
          throw new ApiError(409, 'AlreadyExists', `${qualified(type)} "${o.metadata.name}" already exists`, { name: o.metadata.name, group: type.group, kind: type.plural });
        }
        delete o.metadata.resourceVersion;
        delete o.metadata.uid;
        delete o.metadata.creationTimestamp;
        const created = hooks.put(type, { ...o, metadata: { ...o.metadata, namespace } });
        notifyWrite({ verb: 'create', type, namespace, name: created.metadata.name, object: created });
        return created;
      }
      case 'update': {
        if (!current) throw notFound(type, name!);
        if (!body?.metadata) throw new ApiError(400, 'BadRequest', 'the request body must be an object with metadata');
        if (body.metadata.name !== name) {
          throw new ApiError(400, 'BadRequest', `the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
        }
        if (!body.metadata.resourceVersion) {
          throw new ApiError(422, 'Invalid', `${kindOf(type, current)} "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`);
        }
        if (body.metadata.resourceVersion !== current.metadata.resourceVersion) throw conflict(type, name!);
        return write('update', type, namespace, name!, current, clone(body));
      }
      case 'patch': {
        if (!current) throw notFound(type, name!);
        const contentType = String(req.headers['content-type'] ?? '').split(';')[0].trim();
        let next: Obj;
        if (contentType === 'application/merge-patch+json') next = mergePatch(current, body) as Obj;
        else if (contentType === 'application/json-patch+json') next = jsonPatch(current, body) as Obj;
        else {
          throw new ApiError(415, 'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json (got "${contentType}")`);
        }
        const patchedRv = next.metadata?.resourceVersion;
        if (patchedRv && patchedRv !== current.metadata.resourceVersion) throw conflict(type, name!);
        return write('patch', type, namespace, name!, current, next);
      }
      case 'delete': {
        if (!current) throw notFound(type, name!);
        const policy = req.query.get('propagationPolicy') ?? (body as { propagationPolicy?: string } | undefined)?.propagationPolicy;
        hooks.remove(type, namespace, name!);
        if (policy === 'Background' || policy === 'Foreground') deleteDependents(current, type);
        notifyWrite({ verb: 'delete', type, namespace, name: name!, object: clone(current), previous: clone(current) });
        return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: type.group, kind: type.plural, uid: current.metadata.uid } };
      }
      default:
        throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  };

  const verbOf = (method: string, r: Route, query: URLSearchParams): Verb | undefined => {
    if (method === 'GET') {
      if (r.name) return 'get';
      return ['true', '1'].includes(query.get('watch') ?? '') ? 'watch' : 'list';
    }
    return ({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, Verb>)[method];
  };

  const serve: http.RequestListener = async (incoming, res) => {
    const chunks: Buffer[] = [];
    for await (const c of incoming) chunks.push(c as Buffer);
    const url = new URL(incoming.url ?? '/', 'http://localhost');
    const r = route(url.pathname);
    const text = Buffer.concat(chunks).toString('utf8');
    const req: KubeRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: incoming.headers,
      ...(r
        ? {
            verb: verbOf(incoming.method ?? 'GET', r, url.searchParams),
            resource: r.subresource ? `${r.type.plural}/${r.subresource}` : r.type.plural,
            namespace: r.namespace,
            name: r.name,
          }
        : {}),
    };
    requests.push(req);
    const fail = (e: ApiError) => {
      res.writeHead(e.code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(status(e.code, e.reason, e.message, e.details)));
    };
    try {
      if (text) {
        try {
          req.body = JSON.parse(text);
        } catch {
          throw new ApiError(400, 'BadRequest', 'the request body is not JSON');
        }
      }
      if (options.token !== undefined && incoming.headers.authorization !== `Bearer ${options.token}`) {
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      const injected = failures.findIndex(f =>
        Object.entries(f.match).every(([k, v]) => (req as unknown as Record<string, unknown>)[k] === v),
      );
      if (injected >= 0) {
        const [{ failure }] = failures.splice(injected, 1);
        if (failure === 'disconnect') {
          incoming.socket.destroy();
          return;
        }
        throw new ApiError(failure.status, failure.reason ?? 'InternalError', failure.message ?? `injected failure ${failure.status}`);
      }
      if (!r || !req.verb) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      const denied = denyRules.some(
        d =>
          (!d.verb || d.verb === req.verb) &&
          (d.group === undefined || d.group === r.type.group) &&
          (!d.resource || d.resource === req.resource) &&
          (!d.namespace || d.namespace === r.namespace),
      );
      if (denied) {
        const what = r.name ? `${qualified(r.type)} "${r.name}"` : qualified(r.type);
        throw new ApiError(403, 'Forbidden',
          `${what} is forbidden: User "system:serviceaccount:backstage:stagecoach" cannot ${req.verb} resource "${req.resource}" in API group "${r.type.group}" in the namespace "${r.namespace}"`,
          { name: r.name, group: r.type.group, kind: r.type.plural });
      }
      const out = handle(req, r, res);
      if (out !== undefined) {
        res.writeHead(req.verb === 'create' ? 201 : 200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(out));
      }
    } catch (e) {
      if (e instanceof ApiError) fail(e);
      else fail(new ApiError(500, 'InternalError', `kubeApi test server bug: ${(e as Error).stack}`));
    }
  };
  const server = options.tls ? https.createServer(options.tls, serve) : http.createServer(serve);

  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    ...hooks,
    setPodLog(namespace, pod, text, container) {
      podLogs.set(`${namespace}/${pod}/${container ?? ''}`, text);
    },
    onWrite(listener) {
      writeListeners.add(listener);
      return () => writeListeners.delete(listener);
    },
    failNext(match, failure) {
      failures.push({ match, failure });
    },
    deny(rule) {
      denyRules.push(rule);
    },
    compactHistory() {
      history.length = 0;
      historyFloor = counter;
    },
    resourceVersion: () => String(counter),
    watchCount: () => watchers.size,
    async close() {
      for (const w of watchers) w.res.end();
      watchers.clear();
      server.closeAllConnections();
      await new Promise(resolve => server.close(resolve));
    },
  };
}
