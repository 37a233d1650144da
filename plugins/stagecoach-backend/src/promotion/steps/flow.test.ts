import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { composeOutput } from './compose-output';
import { fail } from './fail';
import { setMetadata } from './set-metadata';
import type { MetadataWriter } from './types';

describe('compose-output, set-metadata and fail', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(() => work.cleanup());

  it('compose-output: its outputs are exactly the configured values', async () => {
    const values = { prURL: 'https://git.example.com/acme/app/pull/7', replicas: 3, image: { tag: 'v1' } };
    expect(await runStep(composeOutput, values, { workDir: work.dir })).toEqual({
      status: 'Succeeded',
      message: 'outputs: prURL, replicas, image',
      outputs: values,
    });
    await expect(runStep(composeOutput, {}, { workDir: work.dir })).rejects.toThrow('needs at least one value');
    await expect(runStep(composeOutput, ['a'], { workDir: work.dir })).rejects.toThrow(/Expected object/);
  });

  it('set-metadata: writes each update through the metadata store, in order', async () => {
    const written: [string, string, Record<string, unknown>][] = [];
    const metadata: MetadataWriter = {
      set: async (kind, name, values) => {
        written.push([kind, name, values]);
      },
    };
    const result = await runStep(
      setMetadata,
      {
        updates: [
          { kind: 'Freight', name: 'f'.repeat(40), values: { approvedBy: 'qa', ticket: 42 } },
          { kind: 'Stage', name: 'prod', values: { lastRelease: { tag: 'v1.2.0' } } },
        ],
      },
      { workDir: work.dir, metadata },
    );
    expect(written).toEqual([
      ['Freight', 'f'.repeat(40), { approvedBy: 'qa', ticket: 42 }],
      ['Stage', 'prod', { lastRelease: { tag: 'v1.2.0' } }],
    ]);
    expect(result).toEqual({
      status: 'Succeeded',
      message: `set metadata on Freight ${'f'.repeat(40)} (approvedBy, ticket); Stage prod (lastRelease)`,
    });
  });

  it('set-metadata: refuses other kinds, empty values and unknown fields', async () => {
    const run = (update: unknown) => runStep(setMetadata, { updates: [update] }, { workDir: work.dir });
    await expect(run({ kind: 'Warehouse', name: 'app', values: { a: 1 } })).rejects.toThrow(
      "config.updates.0.kind: Invalid enum value. Expected 'Stage' | 'Freight', received 'Warehouse'",
    );
    await expect(run({ kind: 'Stage', name: 'dev', values: {} })).rejects.toThrow(
      'config.updates.0.values: needs at least one value',
    );
    await expect(run({ kind: 'Stage', name: 'dev', values: { a: 1 }, namespace: 'x' })).rejects.toThrow(/namespace/);
    await expect(runStep(setMetadata, { updates: [] }, { workDir: work.dir })).rejects.toThrow(
      'needs at least one update',
    );
  });

  it('set-metadata: a store that fails fails the step', async () => {
    const metadata: MetadataWriter = {
      set: async () => {
        throw new Error('database is locked');
      },
    };
    await expect(
      runStep(setMetadata, { updates: [{ kind: 'Stage', name: 'dev', values: { a: 1 } }] }, { workDir: work.dir, metadata }),
    ).rejects.toThrow('database is locked');
  });

  it('fail: fails with the message given, or says a fail step was reached', async () => {
    expect(await runStep(fail, { message: 'prod is frozen until Monday' }, { workDir: work.dir })).toEqual({
      status: 'Failed',
      message: 'prod is frozen until Monday',
    });
    expect(await runStep(fail, {}, { workDir: work.dir })).toEqual({ status: 'Failed', message: 'failed by a fail step' });
    await expect(runStep(fail, { reason: 'x' }, { workDir: work.dir })).rejects.toThrow(/reason/);
  });
});
