import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChartSubscriber, selectVersions } from './ChartSubscriber';
import { LOOPBACK_ALLOWED, loopbackTlsServer } from '../../__testUtils__/loopbackHttp';
import { staticServer } from '../../__testUtils__/staticServer';

const index = (versions: string[]) =>
  `apiVersion: v1\nentries:\n  app:\n${versions
    .map(v => `    - name: app\n      version: ${v}\n      urls: [app-${v}.tgz]\n`)
    .join('')}  other:\n    - name: other\n      version: 9.9.9\n`;

// these repositories are on loopback, which production's egress policy refuses (see chartEgress.security.test.ts)
const egress = LOOPBACK_ALLOWED;

describe('ChartSubscriber (classic repository served as static files over HTTP)', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof staticServer>>;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'helm-repo-'));
    await fs.mkdir(path.join(dir, 'charts'));
    await fs.writeFile(path.join(dir, 'charts/index.yaml'), index(['1.0.0', '1.2.0', '1.10.0', '2.0.0-rc.1', 'latest']));
    server = await staticServer(dir);
  });
  afterEach(async () => {
    server.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('selects versions by semver constraint, highest first, and revalidates the index with its ETag', async () => {
    const subscriber = new ChartSubscriber({ egress });
    const sub = { repoURL: `${server.url}/charts/`, name: 'app', semverConstraint: '^1.0.0', discoveryLimit: 2 };
    const probe = await subscriber.probe(sub);
    expect(await subscriber.discover(sub, probe)).toEqual({
      latest: { repoURL: sub.repoURL, name: 'app', version: '1.10.0' },
      listed: [
        { repoURL: sub.repoURL, name: 'app', version: '1.10.0' },
        { repoURL: sub.repoURL, name: 'app', version: '1.2.0' },
      ],
    });
    const again = await subscriber.probe(sub);
    expect(again.hash).toBe(probe.hash);
    expect(server.requests.map(r => r.status)).toEqual([200, 304]);

    await fs.writeFile(path.join(dir, 'charts/index.yaml'), index(['1.0.0', '1.11.0']));
    const moved = await subscriber.probe(sub);
    expect(moved.hash).not.toBe(probe.hash);
    expect((await subscriber.discover(sub, moved)).latest?.version).toBe('1.11.0');
  });

  it('says what is wrong: unknown chart, missing repository, unreachable host', async () => {
    const subscriber = new ChartSubscriber({ timeoutMs: 2000, egress });
    await expect(
      subscriber.probe({ repoURL: `${server.url}/charts`, name: 'nope', discoveryLimit: 20 }),
    ).rejects.toThrow(`chart repository ${server.url}/charts has no chart named "nope" (it has: app, other)`);
    await expect(
      subscriber.probe({ repoURL: `${server.url}/missing`, name: 'app', discoveryLimit: 20 }),
    ).rejects.toThrow(/answered 404 for index.yaml: check repoURL/);
    await expect(
      subscriber.probe({ repoURL: 'http://127.0.0.1:1/charts', name: 'app', discoveryLimit: 20 }),
    ).rejects.toThrow(/could not be reached/);
  });

  it('lists oci:// chart versions through the registry', async () => {
    const listOciTags = jest.fn(async () => ['0.1.0', '0.2.0', 'not-semver']);
    const subscriber = new ChartSubscriber({ listOciTags, egress });
    const sub = { repoURL: 'oci://127.0.0.1:5000/charts/app', discoveryLimit: 20 };
    expect(await subscriber.discover(sub, await subscriber.probe(sub))).toEqual({
      latest: { repoURL: sub.repoURL, version: '0.2.0' },
      listed: [
        { repoURL: sub.repoURL, version: '0.2.0' },
        { repoURL: sub.repoURL, version: '0.1.0' },
      ],
    });
    expect(listOciTags).toHaveBeenCalledWith('127.0.0.1:5000/charts/app', { insecureSkipTLSVerify: undefined, egress });
    await subscriber.probe({ ...sub, insecureSkipTLSVerify: true });
    expect(listOciTags).toHaveBeenLastCalledWith('127.0.0.1:5000/charts/app', { insecureSkipTLSVerify: true, egress });
  });

  it("reads a self-signed HTTPS repository's index only with insecureSkipTLSVerify, and never serves that index to a subscription that checks TLS", async () => {
    const tls = await loopbackTlsServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-yaml' }).end(index(['1.0.0', '1.1.0']));
    });
    try {
      const subscriber = new ChartSubscriber({ timeoutMs: 5000, egress });
      const checked = { repoURL: `${tls.url}/charts`, name: 'app', discoveryLimit: 20 };
      await expect(subscriber.probe(checked)).rejects.toThrow(/could not be reached/);
      const insecure = { ...checked, insecureSkipTLSVerify: true };
      expect((await subscriber.discover(insecure, await subscriber.probe(insecure))).latest?.version).toBe('1.1.0');
      await expect(subscriber.probe(checked)).rejects.toThrow(/could not be reached/);
      expect(tls.requests).toHaveLength(1);
    } finally {
      await tls.close();
    }
  });

  it("reads Kargo's constraints: a comma means and", () => {
    expect(selectVersions(['1.0.0', '1.5.0', '2.0.0'], '>=1.0.0, <2.0.0', 10)).toEqual(['1.5.0', '1.0.0']);
    expect(() => selectVersions(['1.0.0'], '>>1.0', 10)).toThrow('semverConstraint ">>1.0" is not a semver constraint');
  });
});
