import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { KubeApiServer, startKubeApi } from '../../__testUtils__/kubeApi';
import { kubeClustersFromConfig, kubeClustersFromOptions } from './KubeClusters';
import { APPLICATIONS, JOBS, KubeApiError, KubeClient, KubeObject, PODS, WatchEventType } from './types';

const TOKEN = 'sa-token-0123456789abcdef';

function app(name: string, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: 'argocd', labels },
    spec: { source: { repoURL: 'https://git.example.com/apps.git', targetRevision: 'main', helm: { parameters: [] } } },
  };
}

async function failure(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KubeApiError);
    return e as KubeApiError;
  }
  throw new Error('expected the call to fail');
}

describe('KubeClusters (loopback Kubernetes API)', () => {
  let api: KubeApiServer;
  let kube: KubeClient;

  beforeEach(async () => {
    api = await startKubeApi({ token: TOKEN });
    kube = kubeClustersFromOptions([{ name: 'prod', url: api.url, token: TOKEN, skipTLSVerify: true }]).client();
  });
  afterEach(() => api.close());

  it('creates, reads, lists and deletes an Application; a missing one is undefined', async () => {
    const created = await kube.create(APPLICATIONS, 'argocd', app('guestbook'));
    expect(created.metadata).toMatchObject({ name: 'guestbook', namespace: 'argocd', uid: expect.any(String), resourceVersion: expect.any(String) });
    expect(kube.cluster).toBe('prod');

    const read = await kube.get(APPLICATIONS, 'argocd', 'guestbook');
    expect(read?.spec).toEqual(app('guestbook').spec);
    expect(typeof read?.metadata.creationTimestamp).toBe('string');
    expect(await kube.get(APPLICATIONS, 'argocd', 'nope')).toBeUndefined();

    const list = await kube.list(APPLICATIONS, 'argocd');
    expect(list.items.map(i => i.metadata.name)).toEqual(['guestbook']);
    expect(list.resourceVersion).toBe(api.resourceVersion());

    await kube.delete(APPLICATIONS, 'argocd', 'guestbook');
    expect(api.get(APPLICATIONS, 'argocd', 'guestbook')).toBeUndefined();
    await expect(kube.delete(APPLICATIONS, 'argocd', 'guestbook')).resolves.toBeUndefined();
    // the bearer token went with every request
    expect(api.requests.every(r => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('refuses to create an object that exists (409 AlreadyExists)', async () => {
    await kube.create(APPLICATIONS, 'argocd', app('guestbook'));
    const e = await failure(kube.create(APPLICATIONS, 'argocd', app('guestbook')));
    expect(e).toMatchObject({ status: 409, reason: 'AlreadyExists' });
    expect(e.message).toContain('applications.argoproj.io "guestbook" in namespace "argocd" already exists');
  });

  it('merge-patches (RFC 7386) with the merge-patch content type: null removes a field', async () => {
    await kube.create(APPLICATIONS, 'argocd', {
      ...app('guestbook'),
      metadata: { name: 'guestbook', annotations: { keep: 'yes', drop: 'me' } },
    });
    const patched = await kube.mergePatch(APPLICATIONS, 'argocd', 'guestbook', {
      metadata: { annotations: { drop: null, 'argocd.argoproj.io/refresh': 'hard' } },
      spec: { source: { targetRevision: 'abc123' } },
    });
    expect(patched.metadata.annotations).toEqual({ keep: 'yes', 'argocd.argoproj.io/refresh': 'hard' });
    expect((patched.spec as any).source).toEqual({ repoURL: 'https://git.example.com/apps.git', targetRevision: 'abc123', helm: { parameters: [] } });
    expect(api.get(APPLICATIONS, 'argocd', 'guestbook')?.spec.source.targetRevision).toBe('abc123');
    const patch = api.requests.find(r => r.method === 'PATCH')!;
    expect(patch.headers['content-type']).toBe('application/merge-patch+json');
  });

  it('replaces with optimistic concurrency: a stale resourceVersion is a 409 Conflict', async () => {
    await kube.create(APPLICATIONS, 'argocd', app('guestbook'));
    const read = (await kube.get(APPLICATIONS, 'argocd', 'guestbook'))!;
    // Argo CD writes status in between
    api.update(APPLICATIONS, 'argocd', 'guestbook', o => {
      o.status = { sync: { status: 'Synced' } };
    });
    const stale = { ...read, spec: { ...(read.spec as object), project: 'other' } };
    const e = await failure(kube.replace(APPLICATIONS, 'argocd', 'guestbook', stale));
    expect(e).toMatchObject({ status: 409, reason: 'Conflict' });
    expect(e.message).toContain('applications.argoproj.io "guestbook" in namespace "argocd" was changed by someone else since it was read');

    const fresh = (await kube.get(APPLICATIONS, 'argocd', 'guestbook'))!;
    const replaced = await kube.replace(APPLICATIONS, 'argocd', 'guestbook', { ...fresh, spec: { ...(fresh.spec as object), project: 'other' } });
    expect((replaced.spec as any).project).toBe('other');
    expect(Number(replaced.metadata.resourceVersion)).toBeGreaterThan(Number(fresh.metadata.resourceVersion));
  });

  it('lists by label selector (=, !=, exists, !exists, in)', async () => {
    api.put(APPLICATIONS, app('a', { team: 'x', tier: 'web' }));
    api.put(APPLICATIONS, app('b', { team: 'y', tier: 'db' }));
    api.put(APPLICATIONS, app('c', { team: 'z' }));
    const names = async (labelSelector: string) =>
      (await kube.list(APPLICATIONS, 'argocd', { labelSelector })).items.map(i => i.metadata.name).sort();
    expect(await names('team=x')).toEqual(['a']);
    expect(await names('team!=x')).toEqual(['b', 'c']);
    expect(await names('tier')).toEqual(['a', 'b']);
    expect(await names('!tier')).toEqual(['c']);
    expect(await names('team in (x,z)')).toEqual(['a', 'c']);
    expect(await names('team in (x,y),tier=db')).toEqual(['b']);
  });

  it('watches one object until told to stop, and replays what happened since a resourceVersion', async () => {
    api.put(APPLICATIONS, app('guestbook'));
    api.put(APPLICATIONS, app('other'));
    const { resourceVersion } = await kube.list(APPLICATIONS, 'argocd');

    api.update(APPLICATIONS, 'argocd', 'guestbook', o => void (o.status = { health: { status: 'Progressing' } }));
    api.update(APPLICATIONS, 'argocd', 'other', o => void (o.status = { health: { status: 'Degraded' } }));

    const seen: Array<[WatchEventType, string, string | undefined]> = [];
    const done = kube.watch(
      APPLICATIONS,
      'argocd',
      { fieldSelector: 'metadata.name=guestbook', resourceVersion },
      (type, o: any) => {
        seen.push([type, o.metadata.name, o.status?.health?.status]);
        if (o.status?.health?.status === 'Progressing') {
          // while the watch is open, Argo CD finishes the rollout
          setImmediate(() => api.update(APPLICATIONS, 'argocd', 'guestbook', x => void (x.status = { health: { status: 'Healthy' } })));
        }
        return o.status?.health?.status === 'Healthy';
      },
    );
    await expect(done).resolves.toBe(true);
    expect(seen).toEqual([
      ['MODIFIED', 'guestbook', 'Progressing'],
      ['MODIFIED', 'guestbook', 'Healthy'],
    ]);
    expect(api.requests.at(-1)?.query.get('watch')).toBe('true');
  });

  it('ends a watch when the signal aborts, and reports events of a label-selected set', async () => {
    const controller = new AbortController();
    const events: string[] = [];
    const done = kube.watch(APPLICATIONS, 'argocd', { labelSelector: 'team=x' }, (type, o) => {
      events.push(`${type} ${o.metadata.name}`);
      if (events.length === 2) controller.abort();
    }, controller.signal);
    // wait until the server has the watch open, then change things
    while (api.watchCount() === 0) await new Promise(r => setImmediate(r));
    api.put(APPLICATIONS, app('ignored', { team: 'y' }));
    api.put(APPLICATIONS, app('a', { team: 'x' }));
    api.update(APPLICATIONS, 'argocd', 'a', o => void (o.metadata.labels = { team: 'y' }));
    await expect(done).resolves.toBe(false);
    expect(events).toEqual(['ADDED a', 'DELETED a']);
  });

  it('says when a watch starts from a resourceVersion the server no longer has (410)', async () => {
    api.put(APPLICATIONS, app('guestbook'));
    const rv = api.resourceVersion();
    api.update(APPLICATIONS, 'argocd', 'guestbook', o => void (o.spec.project = 'p'));
    api.compactHistory();
    const e = await failure(kube.watch(APPLICATIONS, 'argocd', { resourceVersion: rv }, () => true));
    expect(e).toMatchObject({ status: 410 });
    expect(e.message).toContain("list again and watch from the list's resourceVersion");
  });

  it("reads a pod's log, keeping its end", async () => {
    api.put(PODS, { metadata: { name: 'check-abcde', namespace: 'verify' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } });
    const log = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join('');
    api.setPodLog('verify', 'check-abcde', log);
    expect(await kube.podLog('verify', 'check-abcde')).toBe(log);
    const end = await kube.podLog('verify', 'check-abcde', { limitBytes: 16 });
    expect(end).toBe('line 98\nline 99\n');
    const request = api.requests.at(-1)!;
    expect(request.path).toBe('/api/v1/namespaces/verify/pods/check-abcde/log');
  });

  it('says which Argo CD resource is missing when its CRD is not installed', async () => {
    const bare = await startKubeApi({ resources: [JOBS, PODS] });
    try {
      const client = kubeClustersFromOptions([{ name: 'edge', url: bare.url, skipTLSVerify: true }]).client('edge');
      const e = await failure(client.list(APPLICATIONS, 'argocd'));
      expect(e.status).toBe(404);
      expect(e.message).toContain(`Argo CD's Application resource (applications.argoproj.io) is not installed in Kubernetes cluster "edge"`);
      // a get of one Application says the same rather than "not found"
      expect((await failure(client.get(APPLICATIONS, 'argocd', 'guestbook'))).message).toContain('is not installed');
    } finally {
      await bare.close();
    }
  });

  it('rejected credentials (401) say what to check, never the token', async () => {
    const wrong = kubeClustersFromOptions([{ name: 'prod', url: api.url, token: 'wrong-token-value', skipTLSVerify: true }]).client();
    const e = await failure(wrong.get(APPLICATIONS, 'argocd', 'guestbook'));
    expect(e).toMatchObject({ status: 401, reason: 'Unauthorized' });
    expect(e.message).toContain(`Kubernetes cluster "prod" (${api.url}) rejected Stagecoach's credentials`);
    expect(e.message).toContain('check the token of cluster "prod"');
    expect(e.message).not.toContain('wrong-token-value');
    expect(e.stack).not.toContain('wrong-token-value');
  });

  it('forbidden requests (403) name the verb, resource and namespace, and the RBAC rule to grant', async () => {
    api.put(APPLICATIONS, app('guestbook'));
    api.deny({ verb: 'patch', group: 'argoproj.io', resource: 'applications', namespace: 'argocd' });
    const e = await failure(kube.mergePatch(APPLICATIONS, 'argocd', 'guestbook', { spec: {} }));
    expect(e).toMatchObject({ status: 403, reason: 'Forbidden' });
    expect(e.message).toContain('Kubernetes cluster "prod" forbids Stagecoach to patch applications.argoproj.io "guestbook" in namespace "argocd"');
    expect(e.message).toContain('apiGroups: ["argoproj.io"], resources: ["applications"], verbs: ["patch"]');
    expect(e.message).not.toContain(TOKEN);

    api.deny({ verb: 'get', resource: 'pods/log', namespace: 'verify' });
    api.put(PODS, { metadata: { name: 'p', namespace: 'verify' } });
    const logError = await failure(kube.podLog('verify', 'p'));
    expect(logError.message).toContain('resources: ["pods/log"], verbs: ["get"]');
  });

  it('a server that cannot be reached is named with its URL and the config key to check', async () => {
    const closed = await startKubeApi();
    await closed.close();
    const clusters = kubeClustersFromConfig(
      new ConfigReader({
        stagecoach: { kubernetes: { clusters: [{ name: 'prod', url: closed.url, skipTLSVerify: true, serviceAccountToken: TOKEN }] } },
      }),
    );
    const e = await failure(clusters.client('prod').get(JOBS, 'verify', 'x'));
    expect(e.status).toBeUndefined();
    expect(e.message).toContain(`Cannot reach Kubernetes cluster "prod" at ${closed.url} (ECONNREFUSED)`);
    expect(e.message).toContain('check stagecoach.kubernetes.clusters[0].url');
    expect(e.message).not.toContain(TOKEN);
  });

  it('a server that does not answer times out with the same advice', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>(r => silent.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const client = kubeClustersFromOptions([{ name: 'slow', url, skipTLSVerify: true }], { timeoutMs: 200 }).client();
      const e = await failure(client.list(JOBS, 'verify'));
      expect(e.message).toContain(`Kubernetes cluster "slow" at ${url} did not answer within 0.2s`);
    } finally {
      silent.closeAllConnections();
      await new Promise(r => silent.close(r));
    }
  });

  it('over TLS, trusts the API server whose CA is given as caData, and says what to do when none is', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-kube-tls-'));
    const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const pem = fs.readFileSync(cert, 'utf8');
    const secure = await startKubeApi({ tls: { key: fs.readFileSync(key, 'utf8'), cert: pem }, token: TOKEN });
    try {
      secure.put(JOBS, { metadata: { name: 'j', namespace: 'verify' } });
      const caData = Buffer.from(pem).toString('base64');
      const config = new ConfigReader({
        stagecoach: { kubernetes: { clusters: [{ name: 'prod', url: secure.url, caData, serviceAccountToken: TOKEN }] } },
      });
      const trusted = kubeClustersFromConfig(config).client();
      expect((await trusted.get(JOBS, 'verify', 'j'))?.metadata.name).toBe('j');

      const untrusted = kubeClustersFromOptions([{ name: 'prod', url: secure.url, token: TOKEN }]).client();
      const e = await failure(untrusted.get(JOBS, 'verify', 'j'));
      expect(e.message).toContain(`Kubernetes cluster "prod" at ${secure.url} failed TLS verification`);
      expect(e.message).toContain("give the API server's CA certificate (caData)");
    } finally {
      await secure.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unknown cluster name lists the known ones', () => {
    const clusters = kubeClustersFromOptions([
      { name: 'prod', url: api.url, skipTLSVerify: true },
      { name: 'staging', url: api.url, skipTLSVerify: true },
    ], { defaultCluster: 'staging' });
    expect(clusters.names()).toEqual(['staging', 'prod']);
    expect(clusters.client().cluster).toBe('staging');
    expect(() => clusters.client('dev')).toThrow('no Kubernetes cluster named "dev" is configured (known: staging, prod)');
  });
});

describe('stagecoach.kubernetes configuration', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-kube-'));
  const nothing = { env: {}, homeDir: tmp, inClusterPathPrefix: tmp };
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const parse = (kubernetes: unknown) =>
    kubeClustersFromConfig(new ConfigReader({ stagecoach: { kubernetes } } as any), nothing);

  it.each([
    [{ clusters: [{ url: 'https://k8s:6443' }] }, 'stagecoach.kubernetes.clusters[0].name is required'],
    [{ clusters: [{ name: 'a', url: 'k8s:6443' }] }, 'stagecoach.kubernetes.clusters[0].url must be the API server URL'],
    [{ clusters: [{ name: 'a', url: 'https://k8s', token: 'x' }] }, 'stagecoach.kubernetes.clusters[0]: unknown key "token" (the token key is serviceAccountToken)'],
    [{ clusters: [{ name: 'a', url: 'http://k8s:8080' }] }, 'stagecoach.kubernetes.clusters[0].url is plain http://'],
    [{ clusters: [{ name: 'a', url: 'https://k8s', caData: 'bm90IGEgY2VydA==' }] }, 'stagecoach.kubernetes.clusters[0].caData must be the base64 encoding of the PEM CA certificate'],
    [{ clusters: [{ name: 'a', url: 'https://k8s', skipTLSVerify: 'yes' }] }, 'stagecoach.kubernetes.clusters[0].skipTLSVerify must be a boolean'],
    [{ clusters: [{ name: 'a', url: 'https://k8s' }, { name: 'a', url: 'https://k9s' }] }, 'two clusters are named "a"'],
    [{ clusters: [{ name: 'a', url: 'https://k8s' }], defaultCluster: 'b' }, 'stagecoach.kubernetes.defaultCluster is "b", which is not a configured cluster (known: a)'],
    [{ kubeconfig: path.join(tmp, 'missing') }, `stagecoach.kubernetes.kubeconfig: cannot read kubeconfig "${path.join(tmp, 'missing')}": no such file`],
  ])('%j is refused: %s', (kubernetes, message) => {
    expect(() => parse(kubernetes)).toThrow(message);
  });

  it('never repeats a token in a configuration error', () => {
    let message = '';
    try {
      parse({ clusters: [{ name: 'a', url: 'nope', serviceAccountToken: TOKEN }] });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('stagecoach.kubernetes.clusters[0].url');
    expect(message).not.toContain(TOKEN);
  });

  it('with nothing configured and no kubeconfig or service account, every use says how to configure a cluster', () => {
    const clusters = parse(undefined);
    expect(clusters.names()).toEqual([]);
    expect(() => clusters.client()).toThrow('set stagecoach.kubernetes.clusters in app-config');
  });

  it('with nothing configured, the contexts of KUBECONFIG are the clusters, its current context the default', async () => {
    const api = await startKubeApi({ token: TOKEN });
    try {
      const file = path.join(tmp, 'kubeconfig');
      fs.writeFileSync(
        file,
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: kind-local',
          'clusters:',
          `- name: local\n  cluster:\n    server: ${api.url}\n    insecure-skip-tls-verify: true`,
          'users:',
          `- name: me\n  user:\n    token: ${TOKEN}`,
          'contexts:',
          '- name: other\n  context:\n    cluster: local\n    user: me',
          '- name: kind-local\n  context:\n    cluster: local\n    user: me',
        ].join('\n'),
      );
      const clusters = kubeClustersFromConfig(new ConfigReader({}), { ...nothing, env: { KUBECONFIG: file } });
      expect(clusters.names()).toEqual(['kind-local', 'other']);
      api.put(JOBS, { metadata: { name: 'j', namespace: 'verify' } });
      expect((await clusters.client().get(JOBS, 'verify', 'j'))?.metadata.name).toBe('j');
      expect(clusters.client().cluster).toBe('kind-local');
    } finally {
      await api.close();
    }
  });

  it('configured clusters come before kubeconfig contexts, and the first is the default', () => {
    const file = path.join(tmp, 'kubeconfig2');
    fs.writeFileSync(
      file,
      'apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: c\n  cluster:\n    server: https://dev:6443\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: dev\n  context:\n    cluster: c\n    user: u\n',
    );
    const clusters = parse({ clusters: [{ name: 'prod', url: 'https://prod:6443' }], kubeconfig: file });
    expect(clusters.names()).toEqual(['prod', 'dev']);
  });
});
