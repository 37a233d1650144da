import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { startTestRegistry, TestRegistry } from '../../__testUtils__/registry';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { EgressPolicy } from '../../integrations/http/egress';
import { RegistryClient } from '../../integrations/registry';
import { StepConfigError } from '../workDir';
import { ociDownload } from './oci-download';
import { validateStepConfig } from './index';

jest.setTimeout(60_000);

const HELM_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

describe('oci-download step (against a real docker-registry on loopback)', () => {
  let registry: TestRegistry;
  let client: RegistryClient;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const run = (config: Record<string, unknown>, egress: EgressPolicy = LOOPBACK_ALLOWED) =>
    runStep(ociDownload, config, { workDir: work.dir, egress, registry: client });
  const inWork = (p: string) => path.join(work.dir, p);
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected the step to throw');
  };

  beforeAll(async () => {
    registry = await startTestRegistry();
    await registry.pushHelmChart('charts/app', 'app', '1.2.3');
    await registry.pushArtifact('bundles/config', 'v1', [
      { mediaType: 'application/vnd.acme.config.v1+yaml', content: Buffer.from('replicas: 3\n') },
      { mediaType: 'text/plain', content: Buffer.from('read me\n') },
    ]);
    await registry.pushArtifact('bundles/single', 'v1', [{ mediaType: 'text/plain', content: Buffer.from('only layer\n') }]);
    await registry.pushArtifact('bundles/huge', 'v1', [
      { mediaType: 'text/plain', content: Buffer.from('small really'), claimedSize: 200 * 2 ** 20 },
    ]);
    await registry.pushIndex('multi', '1.0.0', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64' },
    ]);
  });
  afterAll(async () => {
    await registry?.close();
  });
  beforeEach(async () => {
    work = await tempWorkDir();
    client = new RegistryClient();
  });
  afterEach(async () => {
    client.close();
    await work.cleanup();
  });

  it('downloads a Helm chart pushed as OCI (oci:// and a tag), and the archive is the chart', async () => {
    const result = await run({
      imageRef: `oci://${registry.host}/charts/app:1.2.3`,
      outPath: 'charts/app-1.2.3.tgz',
      mediaType: HELM_LAYER,
    });
    expect(result.status).toBe('Succeeded');
    expect(result.message).toMatch(new RegExp(`^downloaded the ${HELM_LAYER.replace(/[.+]/g, '\\$&')} layer of ${registry.host}/charts/app:1.2.3 \\(sha256:[0-9a-f]{64}\\) to charts/app-1.2.3.tgz \\(\\d+ bytes\\)$`));
    const { stdout } = await promisify(execFile)('tar', ['-xzOf', inWork('charts/app-1.2.3.tgz'), 'app/Chart.yaml']);
    expect(stdout).toContain('version: 1.2.3');
    expect(await fs.readdir(inWork('charts'))).toEqual(['app-1.2.3.tgz']);
  });

  it('takes the only layer when mediaType is not given, and reads by digest', async () => {
    const { digest } = await registry.getManifest('bundles/single', 'v1');
    const result = await run({ imageRef: `${registry.host}/bundles/single@${digest}`, outPath: 'only.txt' });
    expect(result.status).toBe('Succeeded');
    expect(await fs.readFile(inWork('only.txt'), 'utf8')).toBe('only layer\n');
  });

  it('picks the layer of mediaType among several; without it, fails naming the layers', async () => {
    expect(
      (await run({ imageRef: `${registry.host}/bundles/config:v1`, outPath: 'values.yaml', mediaType: 'application/vnd.acme.config.v1+yaml' })).status,
    ).toBe('Succeeded');
    expect(await fs.readFile(inWork('values.yaml'), 'utf8')).toBe('replicas: 3\n');

    const unchosen = await failure(run({ imageRef: `${registry.host}/bundles/config:v1`, outPath: 'x' }));
    expect(unchosen).toBeInstanceOf(StepConfigError);
    expect(unchosen.message).toBe(
      `mediaType: ${registry.host}/bundles/config:v1 has 2 layers; name the one to take with mediaType (its layers: application/vnd.acme.config.v1+yaml (12 bytes), text/plain (8 bytes))`,
    );
    const unmatched = await failure(run({ imageRef: `${registry.host}/bundles/config:v1`, outPath: 'x', mediaType: 'image/png' }));
    expect(unmatched.message).toContain(`has no layer of media type image/png (its layers: application/vnd.acme.config.v1+yaml`);
    await expect(fs.access(inWork('x'))).rejects.toThrow();
  });

  it('refuses a layer larger than 100 MiB before downloading a byte', async () => {
    const e = await failure(run({ imageRef: `${registry.host}/bundles/huge:v1`, outPath: 'huge.txt' }));
    expect(e).toBeInstanceOf(StepConfigError);
    expect(e.message).toMatch(/^blob sha256:[0-9a-f]{64} of 127\.0\.0\.1:\d+\/bundles\/huge is 200\.0 MiB, more than the 100\.0 MiB allowed$/);
    expect(await fs.readdir(work.dir)).toEqual([]);
  });

  it('keeps an existing outPath unless allowOverwrite', async () => {
    await fs.writeFile(inWork('only.txt'), 'mine');
    expect(await run({ imageRef: `${registry.host}/bundles/single:v1`, outPath: 'only.txt' })).toEqual({
      status: 'Failed',
      message: 'outPath "only.txt" already exists; set allowOverwrite: true to replace it',
    });
    expect((await run({ imageRef: `${registry.host}/bundles/single:v1`, outPath: 'only.txt', allowOverwrite: true })).status).toBe('Succeeded');
    expect(await fs.readFile(inWork('only.txt'), 'utf8')).toBe('only layer\n');
  });

  it('names what is missing, an index, a bad reference and a path out of the work directory', async () => {
    expect((await failure(run({ imageRef: `${registry.host}/bundles/single:v9`, outPath: 'a' }))).message).toBe(
      `manifest v9 not found in ${registry.host}/bundles/single`,
    );
    expect((await failure(run({ imageRef: `${registry.host}/multi:1.0.0`, outPath: 'a' }))).message).toBe(
      `imageRef: ${registry.host}/multi:1.0.0 is an index of 2 manifests (linux/amd64, linux/arm64); name one of them by digest`,
    );
    expect((await failure(run({ imageRef: `${registry.host}/bundles/single`, outPath: 'a' }))).message).toBe(
      `imageRef: "${registry.host}/bundles/single" names no tag or digest (registry/repository:tag or registry/repository@sha256:...)`,
    );
    expect((await failure(run({ imageRef: `${registry.host}/bundles/single:v1`, outPath: '../a' }))).message).toMatch(/outPath/);
  });

  it('sends every request through the egress policy (loopback is refused by default)', async () => {
    const e = await failure(run({ imageRef: `${registry.host}/bundles/single:v1`, outPath: 'a' }, new EgressPolicy()));
    expect(e).toBeInstanceOf(StepConfigError);
    expect(e.message).toContain('refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)');
  });

  it('checks the address a registry name resolves to when connecting', async () => {
    // a name the policy does not deny, that resolves to a loopback address
    const resolving = new EgressPolicy({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
    const port = registry.host.split(':')[1];
    const e = await failure(run({ imageRef: `registry.example.test:${port}/bundles/single:v1`, outPath: 'a' }, resolving));
    expect(e.message).toContain('refused by the egress policy: registry.example.test resolves to 127.0.0.1, which is in the denied range 127.0.0.0/8 (loopback)');
  });

  it('validates its config when manifests are applied, leaving expressions for the promotion', () => {
    expect(validateStepConfig('oci-download', { imageRef: '${{ vars.ref }}', outPath: 'a' })).toEqual([]);
    expect(validateStepConfig('oci-download', { outPath: 'a', mediaTyp: 'x' })).toEqual([
      { path: ['config', 'imageRef'], message: expect.any(String) },
      { path: ['config'], message: expect.stringContaining('mediaTyp') },
    ]);
  });
});
