import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ProjectCredentials } from '../../credentials/ProjectCredentials';
import { RegistryClient, RegistryClientOptions } from '../../integrations/registry';
import type { CredentialDefinition } from '../../manifests/secrets';
import type { CredentialStore, StoredCredential } from '../../store/CredentialStore';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { startTestRegistry, TestRegistry } from '../../__testUtils__/registry';
import { RegistryProxy, startRegistryProxy } from '../../__testUtils__/registryProxy';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { ociDownload } from './oci-download';
import { ociPush } from './oci-push';
import type { StepContext } from './types';

/*
 * oci-download and oci-push with a project's credentials (its image and helm credential
 * Secrets, sealed and chosen as the engine does) before stagecoach.registries'. A real
 * docker-registry holds the artifacts; in front of it, the test proxy demands a bearer token
 * that its /token realm hands out only for one username and password (docker-registry's own
 * htpasswd auth needs bcrypt hashes, and no htpasswd tool or bcrypt library is installed).
 */

jest.setTimeout(60_000);

const PROJECT = 'shop';
const GOOD = { username: 'ci', password: 'pull-secret' };

/** A project's credentials as the engine keeps them: sealed with a key, chosen by credentials/matching.ts. */
function projectCredentials(definitions: CredentialDefinition[]): ProjectCredentials {
  let rows: StoredCredential[] = [];
  const store = {
    ofType: async (project: string, type: string) => rows.filter(r => r.project === project && r.type === type),
    list: async (project: string) => rows.filter(r => r.project === project),
  } as unknown as CredentialStore;
  const credentials = new ProjectCredentials({ store, encryptionKey: randomBytes(32).toString('base64') });
  rows = credentials.seal(PROJECT, definitions).map(r => ({ ...r, updatedAt: new Date().toISOString() }));
  return credentials;
}

describe('oci-download and oci-push with project credentials (real registry behind a token-demanding proxy)', () => {
  let registry: TestRegistry;
  let proxy: RegistryProxy;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const clients: RegistryClient[] = [];
  const client = (options: RegistryClientOptions = {}) => {
    const c = new RegistryClient(options);
    clients.push(c);
    return c;
  };
  /** The step with the project's credentials, as the promotion runner gives them (PromotionRunner.registryCredentialsFor). */
  const withProject = (definitions: CredentialDefinition[], over: Partial<StepContext> = {}) => {
    const credentials = projectCredentials(definitions);
    const asked: string[] = [];
    const ctx: Partial<StepContext> = {
      workDir: work.dir,
      egress: LOOPBACK_ALLOWED,
      registry: client(),
      project: PROJECT,
      registryCredentials: repository => {
        asked.push(repository);
        return credentials.forRegistry(PROJECT, repository);
      },
      ...over,
    };
    return { ctx, asked };
  };

  beforeAll(async () => {
    registry = await startTestRegistry();
    await registry.pushHelmChart('charts/app', 'app', '1.2.3');
    proxy = await startRegistryProxy({ target: registry.url, auth: GOOD });
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.close();
  });
  beforeEach(async () => {
    work = await tempWorkDir();
    proxy.reset();
  });
  afterEach(async () => {
    clients.splice(0).forEach(c => c.close());
    await work.cleanup();
  });

  const download = (ctx: Partial<StepContext>, imageRef = `oci://${proxy.host}/charts/app:1.2.3`) =>
    runStep(ociDownload, { imageRef, outPath: 'app.tgz', allowOverwrite: true }, ctx as Partial<StepContext> & { workDir: string });

  it("downloads with the project's helm Secret for the oci:// chart: the token realm gets its credentials", async () => {
    const { ctx, asked } = withProject([
      { name: 'charts', type: 'helm', repoURL: `oci://${proxy.host}/charts/app`, ...GOOD },
      { name: 'elsewhere', type: 'image', repoURL: 'ghcr.io/acme/app', username: 'x', password: 'y' },
    ]);
    expect(await download(ctx)).toMatchObject({ status: 'Succeeded' });
    expect(asked).toEqual([`${proxy.host}/charts/app`]);
    expect(proxy.requests.filter(r => r.kind === 'token').map(r => r.status)).toEqual([200]);
    expect((await fs.stat(path.join(work.dir, 'app.tgz'))).size).toBeGreaterThan(0);
  });

  it('prefers the image Secret to the helm one; one the registry refuses is named in the failure, never its values', async () => {
    const { ctx } = withProject([
      { name: 'chart-pull', type: 'helm', repoURL: `oci://${proxy.host}/charts/app`, ...GOOD },
      { name: 'registry-pull', type: 'image', repoURL: `^${proxy.host.replace(/\./g, '\\.')}/charts/`, repoURLIsRegex: true, username: 'ci', password: 'stale-token' },
    ]);
    const failed = download(ctx);
    await expect(failed).rejects.toThrow(
      `registry answered 401 for ${proxy.host}/charts/app: check the credential Secret/registry-pull of project "shop", which was sent`,
    );
    await expect(failed).rejects.not.toThrow(/stale-token|pull-secret/);
  });

  it("uses the project's Secret before stagecoach.registries, and stagecoach.registries when the project has none", async () => {
    const configured = (password: string) => client({ credentials: host => (host === proxy.host ? { username: 'ci', password } : undefined) });
    // app-config's credentials are wrong: the project's right ones are sent instead
    const own = withProject([{ name: 'charts', type: 'helm', repoURL: `oci://${proxy.host}/charts/app`, ...GOOD }], {
      registry: configured('wrong'),
    });
    expect(await download(own.ctx)).toMatchObject({ status: 'Succeeded' });
    // no Secret for this repository: app-config's
    const none = withProject([], { registry: configured(GOOD.password) });
    expect(await download(none.ctx)).toMatchObject({ status: 'Succeeded' });
    const wrong = withProject([], { registry: configured('wrong') });
    await expect(download(wrong.ctx)).rejects.toThrow(`registry answered 401 for ${proxy.host}/charts/app: check the credentials for ${proxy.host}`);
  });

  it('says where credentials come from when none were sent: stagecoach.registries and the project\'s credential Secrets', async () => {
    const { ctx } = withProject([]);
    await expect(download(ctx)).rejects.toThrow(
      `registry answered 401 for ${proxy.host}/charts/app: check the credentials for ${proxy.host} (none are configured for it in stagecoach.registries, nor in a credential Secret of the project: see docs/credentials.md)`,
    );
  });

  it("oci-push reads the source with its Secret and asks for the destination's: a chart copied from the guarded registry", async () => {
    const { ctx, asked } = withProject([
      { name: 'source', type: 'helm', repoURL: `oci://${proxy.host}/charts/app`, ...GOOD },
      { name: 'destination', type: 'image', repoURL: `${registry.host}/promoted/app`, username: 'push', password: 'push-secret' },
    ]);
    const result = await runStep(
      ociPush,
      { srcRef: `oci://${proxy.host}/charts/app:1.2.3`, destRef: `${registry.host}/promoted/app:1.2.3` },
      ctx as Partial<StepContext> & { workDir: string },
    );
    expect(result).toMatchObject({ status: 'Succeeded', outputs: { image: `${registry.host}/promoted/app:1.2.3` } });
    expect(asked).toEqual([`${proxy.host}/charts/app`, `${registry.host}/promoted/app`]);
    expect(proxy.requests.some(r => r.kind === 'token' && r.status === 200)).toBe(true);
    // the destination (no auth of its own) holds the chart
    const listed = await client().listTags({ registry: registry.host, repository: 'promoted/app' });
    expect(listed).toEqual(['1.2.3']);
  });
});
