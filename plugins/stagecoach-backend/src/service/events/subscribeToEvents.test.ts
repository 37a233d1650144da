import { ConfigReader } from '@backstage/config';
import { mockServices } from '@backstage/backend-test-utils';
import {
  bitbucketCloudPush,
  bitbucketDataCenterPush,
  giteaPush,
  githubPackagePublished,
  githubPing,
  githubPush,
  gitlabMergeRequest,
  gitlabPush,
} from '../webhooks/__fixtures__/payloads';
import { warehousesMatching } from '../webhooks/normalize';
import type { WebhookEvent } from '../webhooks/types';
import { DEFAULT_EVENT_TOPICS, EventsConfigError, parseEvent, readEventsSettings, subscribeToEvents } from '.';

const config = (events?: object) => new ConfigReader(events ? { stagecoach: { events } } : {});

describe('readEventsSettings', () => {
  it('is on by default, with the push topics of the GitHub, GitLab, Gitea and Bitbucket events modules', () => {
    expect(readEventsSettings(config())).toEqual({ enabled: true, topics: [...DEFAULT_EVENT_TOPICS] });
    expect(DEFAULT_EVENT_TOPICS).toEqual(
      expect.arrayContaining(['github.push', 'gitlab.push', 'gitea', 'bitbucketCloud.repo:push', 'bitbucketServer.repo:refs_changed']),
    );
  });

  it('can be turned off, or limited to some topics', () => {
    expect(readEventsSettings(config({ enabled: false, topics: ['github.push'] }))).toEqual({ enabled: false, topics: [] });
    expect(readEventsSettings(config({ topics: ['github.push', 'gitlab', 'github.push'] }))).toEqual({
      enabled: true,
      topics: ['github.push', 'gitlab'],
    });
    expect(readEventsSettings(config({ topics: [] }))).toEqual({ enabled: true, topics: [] });
  });

  it('refuses topics of senders it cannot read, naming them', () => {
    expect(() => readEventsSettings(config({ topics: ['github.push', 'azureDevOps.git.push', 'githubx'] }))).toThrow(
      EventsConfigError,
    );
    expect(() => readEventsSettings(config({ topics: ['azureDevOps.git.push'] }))).toThrow(
      /"azureDevOps.git.push" is not a topic Stagecoach can read.*github, gitlab, gitea, bitbucketCloud, bitbucketServer/,
    );
    expect(() => readEventsSettings(config({ topics: 'github.push' }))).toThrow();
  });
});

describe('parseEvent', () => {
  it('reads each sender with its webhook receiver parser', () => {
    expect(parseEvent({ topic: 'github.push', eventPayload: githubPush, metadata: { 'x-github-event': 'push' } })).toEqual({
      kind: 'git',
      repoURLs: ['https://github.com/acme/api.git', 'https://github.com/acme/api'],
    });
    expect(parseEvent({ topic: 'github.package', eventPayload: githubPackagePublished })).toEqual({
      kind: 'image',
      repositories: ['ghcr.io/acme/api'],
    });
    expect(parseEvent({ topic: 'gitlab.push', eventPayload: gitlabPush })).toMatchObject({
      kind: 'git',
      repoURLs: expect.arrayContaining(['https://gitlab.example.com/acme/platform/api.git']),
    });
    expect(parseEvent({ topic: 'gitea', eventPayload: giteaPush, metadata: { 'X-Gitea-Event': 'push' } })).toMatchObject({
      kind: 'git',
      repoURLs: expect.arrayContaining(['https://gitea.example.com/acme/api.git']),
    });
    expect(parseEvent({ topic: 'bitbucketCloud.repo:push', eventPayload: bitbucketCloudPush })).toMatchObject({
      kind: 'git',
      repoURLs: expect.arrayContaining(['https://bitbucket.org/acme/api']),
    });
    expect(
      parseEvent({ topic: 'bitbucketServer.repo:refs_changed', eventPayload: bitbucketDataCenterPush }),
    ).toMatchObject({ kind: 'git', repoURLs: expect.arrayContaining(['https://bitbucket.example.com/scm/plat/api.git']) });
  });

  it('takes the event type from the topic when an event lost its metadata crossing the event bus', () => {
    expect(parseEvent({ topic: 'github.push', eventPayload: githubPush })).toMatchObject({ kind: 'git' });
    // metadata, when present, is what the sender said
    expect(
      parseEvent({ topic: 'github.push', eventPayload: githubPing, metadata: { 'x-github-event': 'ping' } }),
    ).toMatchObject({ kind: 'ignored' });
  });

  it('ignores what does not change a repository, and events it cannot place', () => {
    expect(parseEvent({ topic: 'github', eventPayload: githubPing, metadata: { 'x-github-event': 'ping' } })).toMatchObject({
      kind: 'ignored',
    });
    expect(parseEvent({ topic: 'gitlab', eventPayload: gitlabMergeRequest })).toMatchObject({ kind: 'ignored' });
    expect(parseEvent({ topic: 'catalog.entity', eventPayload: {} })).toMatchObject({ kind: 'ignored' });
  });

  it('throws the parser’s error for a payload the sender does not send', () => {
    expect(() => parseEvent({ topic: 'github.push', eventPayload: { repository: {} } })).toThrow(
      /repository.clone_url or repository.html_url/,
    );
    // Gitea has no router: without metadata the event type is unknown
    expect(() => parseEvent({ topic: 'gitea', eventPayload: giteaPush })).toThrow(/X-Gitea-Event/);
  });
});

describe('subscribeToEvents', () => {
  const warehouses = [
    { project: 'demo', name: 'api', subscriptions: [{ git: { repoURL: 'https://github.com/acme/api' } }] },
    { project: 'demo', name: 'web', subscriptions: [{ git: { repoURL: 'https://github.com/acme/web.git' } }] },
  ];

  async function subscribed(topics = [...DEFAULT_EVENT_TOPICS], fail?: Error) {
    const events = mockServices.events();
    const logger = mockServices.logger.mock();
    const seen: Array<{ event: WebhookEvent; topic: string; refreshed: string[] }> = [];
    await subscribeToEvents({
      events,
      topics,
      logger,
      onEvent: async (event, { topic }) => {
        if (fail) throw fail;
        const refreshed = warehousesMatching(event, warehouses);
        seen.push({ event, topic, refreshed });
        return { warehouses: refreshed };
      },
    });
    return { events, logger, seen };
  }

  it('refreshes the warehouses subscribed to the pushed repository, and none for another repository', async () => {
    const { events, logger, seen } = await subscribed();
    await events.publish({ topic: 'github.push', eventPayload: githubPush, metadata: { 'x-github-event': 'push' } });
    const elsewhere = { ...githubPush, repository: { ...githubPush.repository, clone_url: 'https://github.com/acme/other.git', html_url: 'https://github.com/acme/other', url: 'https://github.com/acme/other' } };
    await events.publish({ topic: 'github.push', eventPayload: elsewhere, metadata: { 'x-github-event': 'push' } });

    expect(seen.map(s => [s.topic, s.refreshed])).toEqual([
      ['github.push', ['demo/api']],
      ['github.push', []],
    ]);
    expect(logger.info).toHaveBeenCalledWith(expect.stringMatching(/github.push: Git repository .* refreshing 1 warehouse\(s\): demo\/api/));
  });

  it('only listens to its topics', async () => {
    const { events, seen } = await subscribed(['gitlab.push']);
    await events.publish({ topic: 'github.push', eventPayload: githubPush, metadata: { 'x-github-event': 'push' } });
    await events.publish({ topic: 'gitlab.push', eventPayload: gitlabPush });
    expect(seen.map(s => s.topic)).toEqual(['gitlab.push']);
  });

  it('subscribes to nothing without topics', async () => {
    const events = mockServices.events.mock();
    await subscribeToEvents({ events, topics: [], logger: mockServices.logger.mock(), onEvent: jest.fn() });
    expect(events.subscribe).not.toHaveBeenCalled();
  });

  it('logs an event it cannot read, or a refresh that fails, and throws nothing back at the publisher', async () => {
    const bad = await subscribed();
    await expect(bad.events.publish({ topic: 'github.push', eventPayload: 'not json' })).resolves.toBeUndefined();
    expect(bad.seen).toEqual([]);
    expect(bad.logger.warn).toHaveBeenCalledWith(expect.stringMatching(/github.push: could not read the event: expected/));

    const failing = await subscribed(undefined, new Error('database is gone'));
    await expect(failing.events.publish({ topic: 'gitlab.push', eventPayload: gitlabPush })).resolves.toBeUndefined();
    expect(failing.logger.error).toHaveBeenCalledWith(expect.stringMatching(/gitlab.push: .*database is gone/));
  });

  it('passes pings and other non-pushes by, quietly', async () => {
    const { events, logger, seen } = await subscribed(['github', 'gitlab']);
    await events.publish({ topic: 'github', eventPayload: githubPing, metadata: { 'x-github-event': 'ping' } });
    await events.publish({ topic: 'gitlab', eventPayload: gitlabMergeRequest });
    expect(seen).toEqual([]);
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.debug).toHaveBeenCalledTimes(2);
  });
});
