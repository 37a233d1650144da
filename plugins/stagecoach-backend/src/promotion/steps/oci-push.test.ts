import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { startTestRegistry, TestRegistry } from '../../__testUtils__/registry';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { EgressPolicy } from '../../integrations/http/egress';
import { RegistryClient, RegistryRequestEvent } from '../../integrations/registry';
import { StepConfigError } from '../workDir';
import { validateStepConfig } from './index';
import { ociPush, scopedAnnotations } from './oci-push';

jest.setTimeout(60_000);

describe('oci-push step (against two real docker-registries on loopback)', () => {
  let source: TestRegistry;
  let other: TestRegistry;
  let client: RegistryClient;
  let events: RegistryRequestEvent[];
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const run = (config: Record<string, unknown>, egress: EgressPolicy = LOOPBACK_ALLOWED) =>
    runStep(ociPush, config, { workDir: work.dir, egress, registry: client });
  const failure = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected the step to throw');
  };

  beforeAll(async () => {
    [source, other] = await Promise.all([startTestRegistry(), startTestRegistry()]);
    await source.pushImage('team/app', '1.0.0', { created: '2026-01-01T00:00:00Z' });
    await source.pushIndex('team/multi', '2.0.0', [
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    await source.pushHelmChart('charts/app', 'app', '1.2.3');
  });
  afterAll(async () => {
    await Promise.all([source?.close(), other?.close()]);
  });
  beforeEach(async () => {
    work = await tempWorkDir();
    events = [];
    client = new RegistryClient({ onRequest: e => events.push(e) });
  });
  afterEach(async () => {
    client.close();
    await work.cleanup();
  });

  it('copies an image to another repository of the same registry by mounting its blobs; the new tag serves the same manifest', async () => {
    const original = await source.getManifest('team/app', '1.0.0');
    const result = await run({ srcRef: `${source.host}/team/app:1.0.0`, destRef: `${source.host}/stage/dev/app:1.0.0` });
    expect(result).toEqual({
      status: 'Succeeded',
      message: `pushed ${source.host}/team/app:1.0.0 to ${source.host}/stage/dev/app:1.0.0 (${original.digest}): 2 mounted`,
      outputs: { image: `${source.host}/stage/dev/app:1.0.0`, digest: original.digest, tag: '1.0.0' },
    });
    const copy = await source.getManifest('stage/dev/app', '1.0.0');
    expect(copy.digest).toBe(original.digest);
    expect(copy.body.equals(original.body)).toBe(true);
    // no blob went through this side
    expect(events.filter(e => e.kind === 'blob' && e.method === 'GET')).toEqual([]);
  });

  it('copies a multi-platform index across registries, uploading every blob, by digest; the digests match', async () => {
    const original = await source.getManifest('team/multi', '2.0.0');
    const result = await run({ srcRef: `${source.host}/team/multi@${original.digest}`, destRef: `${other.host}/mirror/multi:2.0.0` });
    expect(result.status).toBe('Succeeded');
    expect(result.message).toMatch(/: 4 blobs copied \(\d+ bytes\)$/);
    const copy = await other.getManifest('mirror/multi', '2.0.0');
    expect(copy.digest).toBe(original.digest);
    expect(result.outputs).toEqual({ image: `${other.host}/mirror/multi:2.0.0`, digest: original.digest, tag: '2.0.0' });
    // each platform's image is whole there: pulled by its digest through the client
    for (const m of JSON.parse(copy.body.toString()).manifests) {
      const image = await other.getManifest('mirror/multi', m.digest);
      for (const layer of JSON.parse(image.body.toString()).layers) {
        const blob = await fetch(`${other.url}/v2/mirror/multi/blobs/${layer.digest}`);
        expect(blob.status).toBe(200);
      }
    }
    // a second push finds the blobs there and only stores the manifests
    const again = await run({ srcRef: `${source.host}/team/multi:2.0.0`, destRef: `${other.host}/mirror/multi:latest` });
    expect(again.message).toMatch(/: 4 already there$/);
  });

  it('retags in place (oci:// Helm chart), and sets annotations, which makes a new digest', async () => {
    const chart = await source.getManifest('charts/app', '1.2.3');
    const retag = await run({ srcRef: `oci://${source.host}/charts/app:1.2.3`, destRef: `oci://${source.host}/charts/app:stable` });
    expect(retag.outputs).toEqual({ image: `${source.host}/charts/app:stable`, digest: chart.digest, tag: 'stable' });
    expect(retag.message).not.toContain('blob');

    const annotated = await run({
      srcRef: `${source.host}/charts/app:1.2.3`,
      destRef: `${other.host}/charts/app:1.2.3`,
      annotations: { 'org.opencontainers.image.source': 'https://github.com/acme/app', 'index:ignored': 'x' },
    });
    const copy = await other.getManifest('charts/app', '1.2.3');
    expect(annotated.outputs!.digest).toBe(copy.digest);
    expect(copy.digest).not.toBe(chart.digest);
    expect(JSON.parse(copy.body.toString()).annotations).toEqual({ 'org.opencontainers.image.source': 'https://github.com/acme/app' });
  });

  it('puts index: annotations on the index and the others on each image (whose new digests the index names)', async () => {
    const result = await run({
      imageRef: `${source.host}/team/multi:2.0.0`,
      destRef: `${source.host}/team/multi:annotated`,
      annotations: { 'index:org.opencontainers.image.revision': 'abc123', 'manifest:org.opencontainers.image.description': 'app' },
    });
    const index = await source.getManifest('team/multi', 'annotated');
    expect(result.outputs!.digest).toBe(index.digest);
    const json = JSON.parse(index.body.toString());
    expect(json.annotations).toEqual({ 'org.opencontainers.image.revision': 'abc123' });
    for (const m of json.manifests) {
      const image = await source.getManifest('team/multi', m.digest);
      expect(image.digest).toBe(m.digest);
      expect(JSON.parse(image.body.toString()).annotations).toEqual({ 'org.opencontainers.image.description': 'app' });
    }
  });

  it('fails clearly: a source that is not there, a destRef without a tag, the egress policy', async () => {
    expect((await failure(run({ srcRef: `${source.host}/team/app:9.9.9`, destRef: `${other.host}/x:1` }))).message).toBe(
      `manifest 9.9.9 not found in ${source.host}/team/app`,
    );
    expect((await failure(run({ srcRef: `${source.host}/team/app:1.0.0`, destRef: `${other.host}/x@sha256:${'a'.repeat(64)}` }))).message).toBe(
      `destRef: "${other.host}/x@sha256:${'a'.repeat(64)}" must name a tag and no digest (registry/repository:tag)`,
    );
    const refused = await failure(run({ srcRef: `${source.host}/team/app:1.0.0`, destRef: `${other.host}/x:1` }, new EgressPolicy()));
    expect(refused).toBeInstanceOf(StepConfigError);
    expect(refused.message).toContain('refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)');
  });

  it('reads scoped annotation keys and validates its config', () => {
    expect(scopedAnnotations({ a: '1', 'manifest:b': '2', 'index:c': '3' })).toEqual({ manifest: { a: '1', b: '2' }, index: { c: '3' } });
    expect(validateStepConfig('oci-push', { srcRef: '${{ vars.src }}', destRef: 'r.example.com/a:1' })).toEqual([]);
    expect(validateStepConfig('oci-push', { destRef: 'r.example.com/a:1' })).toEqual([
      { path: ['config', 'srcRef'], message: 'name the artifact to copy (srcRef)' },
    ]);
  });
});
