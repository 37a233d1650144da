import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  createSubscriptionKind,
  SubscriptionKind,
} from '@stagecoach/plugin-stagecoach-node';
import { RegistryClient } from '../integrations/registry/RegistryClient';
import { builtinKinds } from './kinds';
import { moduleKind, SubscriptionKindRegistry } from './moduleKinds';
import { SubscriptionKinds } from './SubscriptionKinds';

interface Release {
  repoURL: string;
  version: string;
}

/** A kind whose source answers what the test sets. */
function feedKind(
  answer: () => unknown,
  overrides: Partial<SubscriptionKind> = {},
): SubscriptionKind {
  return createSubscriptionKind<{ repoURL: string }, Release, Release>({
    name: 'feed',
    description: 'a test feed',
    schema: z.object({ repoURL: z.string() }).strict(),
    field: 'feeds',
    expressionFunction: 'feedFrom',
    subscriber: () => ({
      probe: async () => ({ hash: 'h' }),
      discover: async () => answer() as any,
    }),
    reference: r => r.version,
    label: r => ({ label: r.version, detail: `feed ${r.version}` }),
    manual: {
      requestSchema: z.object({ repoURL: z.string(), version: z.string() }),
      requestShape: '[{"repoURL", "version"}]',
      describe: r => `feed ${r.version}`,
      matches: (r, a) => a.version === r.version,
    },
    ...overrides,
  });
}

const sub = { repoURL: 'https://feeds.example/a' };

describe("a module's subscription kind as the engine uses it", () => {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-kind-'));
  });
  afterAll(() => fs.rm(cacheDir, { recursive: true, force: true }));

  const subscriberOf = (kind: SubscriptionKind) =>
    moduleKind(kind).subscriber({
      cacheDir,
      registry: new RegistryClient(),
    });

  it('keeps copies of its artifacts, and gives the subscriber a cache folder of its own', async () => {
    const latest = { repoURL: sub.repoURL, version: '2' };
    const subscriber = subscriberOf(
      feedKind(() => ({ latest, listed: [latest] })),
    );
    const probe = await subscriber.probe(sub);
    const found = await subscriber.discover(sub, probe);
    expect(found).toEqual({ latest, listed: [latest] });
    expect(found.latest).not.toBe(latest);
    expect(
      (await fs.stat(path.join(cacheDir, 'kinds', 'feed'))).isDirectory(),
    ).toBe(true);
  });

  it("refuses artifacts that are not the subscription's, too large or missing a listing", async () => {
    const discover = (answer: unknown) =>
      subscriberOf(feedKind(() => answer)).discover(sub, { hash: 'h' });
    await expect(
      discover({
        latest: { repoURL: 'https://elsewhere', version: '1' },
        listed: [],
      }),
    ).rejects.toThrow(
      "the feed subscription's discovery returned an artifact whose repoURL is not the subscription's",
    );
    await expect(
      discover({
        latest: { repoURL: sub.repoURL, notes: 'x'.repeat(20_000) },
        listed: [],
      }),
    ).rejects.toThrow('an artifact larger than 16384 bytes');
    await expect(discover({ latest: undefined })).rejects.toThrow(
      'returned no listed artifacts',
    );
  });

  it('names its artifacts in the freight ID after its kind, and offers its expression function', () => {
    const kind = moduleKind(feedKind(() => undefined));
    const release = { repoURL: sub.repoURL, version: '3' };
    expect(kind.reference(release)).toBe('feed:3');
    const { feedFrom } = kind.expressionFunctions([release], 'freight x');
    expect(feedFrom(sub.repoURL)).toEqual(release);
    expect(() => feedFrom('https://other')).toThrow(
      'freight x has no feed artifact from https://other',
    );
  });
});

describe('the registry of subscription kinds', () => {
  const registry = () => new SubscriptionKindRegistry(builtinKinds);

  it('gives the engine the built-in kinds, then the modules’ in the order they were added', () => {
    const r = registry();
    r.extensionPoint.addKinds(feedKind(() => undefined));
    const kinds = new SubscriptionKinds(r.seal());
    expect(kinds.all.map(k => k.name)).toEqual([
      'git',
      'image',
      'chart',
      'feed',
    ]);
    expect(() => r.extensionPoint.addKinds(feedKind(() => undefined))).toThrow(
      "subscription kinds can only be added while the backend starts, from a module's init",
    );
  });

  it('refuses a kind whose names are not what manifests and expressions can write', () => {
    const r = registry();
    expect(() =>
      r.add([feedKind(() => undefined, { name: 'release-feed' })]),
    ).toThrow(
      'cannot add the subscription kind "release-feed": its name "release-feed" is not a lower camel-case word',
    );
    expect(() =>
      r.add([feedKind(() => undefined, { field: 'origin' })]),
    ).toThrow('its field "origin" is one Freight has already');
    expect(() =>
      r.add([feedKind(() => undefined, { expressionFunction: 'quote' })]),
    ).toThrow(
      'its expressionFunction "quote" is not a lower camel-case word ending in From',
    );
  });

  it('refuses, all or none, two kinds of one call that claim one field', () => {
    const r = registry();
    expect(() =>
      r.add([
        feedKind(() => undefined),
        feedKind(() => undefined, {
          name: 'other',
          description: 'another feed',
          expressionFunction: 'otherFrom',
        }),
      ]),
    ).toThrow(
      'cannot add the subscription kind "other" (another feed): a kind added by the same call, "feed" (a test feed), already claims the freight field "feeds"; give one of them another one',
    );
    expect(r.seal()).toHaveLength(builtinKinds.length);
  });

  it('refuses a kind whose expression function a built-in kind has', () => {
    expect(() =>
      registry().add([
        feedKind(() => undefined, { expressionFunction: 'commitFrom' }),
      ]),
    ).toThrow(
      'cannot add the subscription kind "feed" (a test feed): the built-in kind "git" already claims the expression function "commitFrom"',
    );
  });
});
