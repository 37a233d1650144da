import { matchesSubscription, warehousesMatching } from './normalize';
import type { WebhookEvent } from './types';
import { imageKind } from '../../discovery/image/imageKind';

describe('matchesSubscription', () => {
  const git = (...repoURLs: string[]): WebhookEvent => ({ kind: 'git', repoURLs });
  const image = (...repositories: string[]): WebhookEvent => ({ kind: 'image', repositories });
  const chart = (...repoURLs: string[]): WebhookEvent => ({ kind: 'chart', repoURLs });

  it('matches Git subscriptions whatever the spelling of the same repository', () => {
    const event = git('https://github.com/acme/api.git', 'https://github.com/acme/api');
    expect(matchesSubscription(event, { git: { repoURL: 'https://github.com/acme/api' } })).toBe(true);
    expect(matchesSubscription(event, { git: { repoURL: 'https://GITHUB.com/acme/api.git/' } })).toBe(true);
    expect(matchesSubscription(event, { git: { repoURL: 'https://bot:pw@github.com/acme/api.git' } })).toBe(true);
    expect(matchesSubscription(event, { git: { repoURL: 'https://github.com/acme/api-docs' } })).toBe(false);
    expect(matchesSubscription(event, { git: { repoURL: 'https://github.example.com/acme/api' } })).toBe(false);
    expect(matchesSubscription(event, { image: { repoURL: 'github.com/acme/api' } })).toBe(false);
  });

  it('matches Bitbucket Cloud pages against clone URLs', () => {
    const event = git('https://bitbucket.org/acme/api');
    expect(matchesSubscription(event, { git: { repoURL: 'https://jdoe@bitbucket.org/acme/api.git' } })).toBe(true);
  });

  it('matches Docker Hub images however they are written', () => {
    const event = image('docker.io/library/nginx');
    for (const repoURL of ['nginx', 'library/nginx', 'docker.io/nginx', 'registry-1.docker.io/library/nginx']) {
      expect(matchesSubscription(event, { image: { repoURL } })).toBe(true);
    }
    expect(matchesSubscription(event, { image: { repoURL: 'bitnami/nginx' } })).toBe(false);
    expect(matchesSubscription(event, { image: { repoURL: 'ghcr.io/library/nginx' } })).toBe(false);
  });

  it('keeps registries with ports apart from the same path elsewhere', () => {
    const event = image('registry.example.com:5000/team/app');
    expect(matchesSubscription(event, { image: { repoURL: 'registry.example.com:5000/team/app' } })).toBe(true);
    expect(matchesSubscription(event, { image: { repoURL: 'registry.example.com/team/app' } })).toBe(false);
    expect(matchesSubscription(event, { image: { repoURL: 'team/app' } })).toBe(false);
  });

  it('lets an image push wake oci:// chart subscriptions of the same repository', () => {
    const event = image('ghcr.io/acme/charts/api');
    expect(matchesSubscription(event, { chart: { repoURL: 'oci://ghcr.io/acme/charts/api' } })).toBe(true);
    expect(matchesSubscription(event, { chart: { repoURL: 'oci://ghcr.io/acme/charts/web' } })).toBe(false);
    expect(matchesSubscription(event, { chart: { repoURL: 'https://ghcr.io/acme/charts', name: 'api' } })).toBe(false);
  });

  it('matches chart events by repository, or repository and chart name', () => {
    const repoWide = chart('https://charts.example.com/stable/');
    expect(matchesSubscription(repoWide, { chart: { repoURL: 'https://charts.example.com/stable', name: 'api' } })).toBe(
      true,
    );
    const one = chart('https://charts.example.com/stable/api');
    expect(matchesSubscription(one, { chart: { repoURL: 'https://charts.example.com/stable', name: 'api' } })).toBe(true);
    expect(matchesSubscription(one, { chart: { repoURL: 'https://charts.example.com/stable', name: 'web' } })).toBe(false);
    const oci = chart('oci://registry.example.com/charts/app');
    expect(matchesSubscription(oci, { chart: { repoURL: 'oci://registry.example.com/charts/app' } })).toBe(true);
    expect(matchesSubscription(oci, { image: { repoURL: 'registry.example.com/charts/app' } })).toBe(false);
  });

  it('takes the subscriptions of parsed Warehouse manifests as they are', () => {
    const parsed = { image: imageKind.schema.parse({ repoURL: 'nginx' }) };
    expect(matchesSubscription(image('docker.io/library/nginx'), parsed)).toBe(true);
  });

  it('selects the warehouses with a matching subscription', () => {
    const warehouses = [
      { project: 'demo', name: 'api', subscriptions: [{ image: { repoURL: 'ghcr.io/acme/api' } }] },
      {
        project: 'demo',
        name: 'config',
        subscriptions: [{ git: { repoURL: 'https://github.com/acme/config' } }, { image: { repoURL: 'ghcr.io/acme/api' } }],
      },
      { project: 'other', name: 'web', subscriptions: [{ image: { repoURL: 'ghcr.io/acme/web' } }] },
    ];
    expect(warehousesMatching(image('ghcr.io/acme/api'), warehouses)).toEqual(['demo/api', 'demo/config']);
    expect(warehousesMatching(git('https://github.com/acme/config.git'), warehouses)).toEqual(['demo/config']);
    expect(warehousesMatching(git('https://github.com/acme/nothing'), warehouses)).toEqual([]);
  });
});
