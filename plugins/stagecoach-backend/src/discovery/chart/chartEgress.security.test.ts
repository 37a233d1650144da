import { DEFAULT_EGRESS_POLICY, EgressPolicy } from '../../integrations/http/egress';
import { RegistryClient } from '../../integrations/registry';
import { Handler, LOOPBACK_ALLOWED, loopbackServer, LoopbackServer } from '../../__testUtils__/loopbackHttp';
import { chartKind } from './chartKind';
import { ChartSubscriber } from './ChartSubscriber';

/*
 * A warehouse's chart repoURL is written by a manifest author: discovery must reach only what
 * the egress policy allows, on every hop (loopback HTTP servers speaking the classic Helm
 * repository protocol: a GET of index.yaml).
 */

const INDEX = 'apiVersion: v1\nentries:\n  app:\n    - name: app\n      version: 1.0.0\n      urls: [app-1.0.0.tgz]\n';

const servers: LoopbackServer[] = [];
async function serve(handler: Handler): Promise<LoopbackServer> {
  const server = await loopbackServer(handler);
  servers.push(server);
  return server;
}
const chartRepository: Handler = (_req, res) => res.writeHead(200, { 'Content-Type': 'application/x-yaml' }).end(INDEX);

afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()));
});

const probe = (subscriber: ChartSubscriber, repoURL: string) =>
  subscriber.probe({ repoURL, name: 'app', discoveryLimit: 20 });

describe('the egress policy of chart discovery (loopback chart repositories)', () => {
  it('refuses a repository on loopback under the default policy: the server is never asked', async () => {
    const repo = await serve(chartRepository);
    await expect(probe(new ChartSubscriber(), repo.url)).rejects.toThrow(
      `request to ${repo.url}/index.yaml refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback) — see stagecoach.egress`,
    );
    await expect(probe(new ChartSubscriber(), `http://localhost:${new URL(repo.url).port}`)).rejects.toThrow(
      'localhost is a denied host (loopback)',
    );
    expect(repo.requests).toEqual([]);
    // allowed explicitly, the same repository is read
    expect((await probe(new ChartSubscriber({ egress: LOOPBACK_ALLOWED }), repo.url)).state).toEqual(['1.0.0']);
  });

  it('refuses the cloud metadata address, written in the URL or behind a name', async () => {
    await expect(probe(new ChartSubscriber({ egress: LOOPBACK_ALLOWED }), 'http://169.254.169.254/latest')).rejects.toThrow(
      'request to http://169.254.169.254/latest/index.yaml refused by the egress policy: 169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata) — see stagecoach.egress',
    );
    const policy = new EgressPolicy({ resolve: async () => [{ address: '169.254.169.254', family: 4 }] });
    await expect(probe(new ChartSubscriber({ egress: policy }), 'http://charts.attacker.test/')).rejects.toThrow(
      'charts.attacker.test resolves to 169.254.169.254, which is in the denied range 169.254.169.254/32 (cloud metadata)',
    );
  });

  it('refuses a redirect to a denied host at that hop: the denied server is never asked', async () => {
    const inner = await serve(chartRepository);
    const innerUrl = `http://localhost:${new URL(inner.url).port}/index.yaml`;
    const outer = await serve((_req, res) => res.writeHead(302, { Location: innerUrl }).end());
    const policy = new EgressPolicy({ allowLoopback: true, deny: [{ host: 'localhost' }] });
    await expect(probe(new ChartSubscriber({ egress: policy }), outer.url)).rejects.toThrow(
      `request to ${innerUrl} (redirected from ${outer.url}/index.yaml) refused by the egress policy: localhost is a denied host (stagecoach.egress.deny[0])`,
    );
    expect(outer.requests).toHaveLength(1);
    expect(inner.requests).toEqual([]);

    const toMetadata = await serve((_req, res) => res.writeHead(301, { Location: 'http://169.254.169.254/index.yaml' }).end());
    await expect(probe(new ChartSubscriber({ egress: LOOPBACK_ALLOWED }), toMetadata.url)).rejects.toThrow(
      '169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)',
    );
  });

  it("sends the repository's credentials to its own origin only: a redirect elsewhere loses them", async () => {
    const elsewhere = await serve(chartRepository);
    const repo = await serve((_req, res) => res.writeHead(302, { Location: `${elsewhere.url}/index.yaml` }).end());
    const subscriber = new ChartSubscriber({ egress: LOOPBACK_ALLOWED });
    const context = { credentials: async () => ({ username: 'ci', password: 's3cret' }) };
    expect((await subscriber.probe({ repoURL: repo.url, name: 'app', discoveryLimit: 20 }, context as any)).state).toEqual(['1.0.0']);
    expect(repo.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('ci:s3cret').toString('base64')}`);
    expect(elsewhere.requests[0].headers.authorization).toBeUndefined();
  });

  it("refuses an oci:// chart's registry on loopback (the kind's subscriber, with the engine's registry client and policy)", async () => {
    const registry = await serve((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"tags":["1.0.0"]}'));
    const host = new URL(registry.url).host;
    const subscriber = chartKind.subscriber({ cacheDir: '/nonexistent', registry: new RegistryClient(), egress: DEFAULT_EGRESS_POLICY });
    await expect(subscriber.probe({ repoURL: `oci://${host}/charts/app`, discoveryLimit: 20 })).rejects.toThrow(
      /refused by the egress policy: 127\.0\.0\.1 is in the denied range 127\.0\.0\.0\/8 \(loopback\) — see stagecoach\.egress/,
    );
    expect(registry.requests).toEqual([]);
    // the engine's policy reaches classic repositories through the kind too
    const classic = await serve(chartRepository);
    await expect(subscriber.probe({ repoURL: classic.url, name: 'app', discoveryLimit: 20 })).rejects.toThrow(
      'refused by the egress policy',
    );
    expect(classic.requests).toEqual([]);
  });
});
