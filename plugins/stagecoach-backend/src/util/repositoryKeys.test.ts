import {
  chartRepositoryKey,
  gitRepositoryKey,
  normalizeImageRepository,
} from './repositoryKeys';

describe('gitRepositoryKey', () => {
  it.each([
    ['https://github.com/acme/api', 'github.com/acme/api'],
    ['https://github.com/acme/api.git', 'github.com/acme/api'],
    ['https://GitHub.com/Acme/API.git/', 'github.com/acme/api'],
    [
      'https://x-access-token:ghs_abc@github.com/acme/api.git',
      'github.com/acme/api',
    ],
    ['http://git.example.com:80/team/app', 'git.example.com/team/app'],
    ['https://git.example.com:443/team/app', 'git.example.com/team/app'],
    ['https://git.example.com:8443/team/app', 'git.example.com:8443/team/app'],
    ['git@github.com:acme/api.git', 'github.com/acme/api'],
    [
      'https://gitlab.example.com/group/sub/app.git?ref=main#readme',
      'gitlab.example.com/group/sub/app',
    ],
  ])('%s -> %s', (input, expected) => {
    expect(gitRepositoryKey(input)).toBe(expected);
  });
});

describe('normalizeImageRepository', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['library/nginx', 'docker.io/library/nginx'],
    ['docker.io/nginx', 'docker.io/library/nginx'],
    ['registry-1.docker.io/library/nginx', 'docker.io/library/nginx'],
    ['index.docker.io/bitnami/redis:7.2', 'docker.io/bitnami/redis'],
    ['bitnami/redis', 'docker.io/bitnami/redis'],
    ['GHCR.io/Acme/API:1.0.0', 'ghcr.io/acme/api'],
    ['ghcr.io/acme/api@sha256:0123abcd', 'ghcr.io/acme/api'],
    [
      'registry.example.com:5000/team/app:1.0',
      'registry.example.com:5000/team/app',
    ],
    ['localhost/team/app', 'localhost/team/app'],
    [
      'oci://registry.example.com/charts/app',
      'registry.example.com/charts/app',
    ],
  ])('%s -> %s', (input, expected) => {
    expect(normalizeImageRepository(input)).toBe(expected);
  });
});

describe('chartRepositoryKey', () => {
  it('keeps the scheme apart for oci and drops index.yaml for http repositories', () => {
    expect(chartRepositoryKey('oci://GHCR.io/acme/charts/api')).toBe(
      'oci://ghcr.io/acme/charts/api',
    );
    expect(
      chartRepositoryKey('https://charts.example.com/stable/index.yaml'),
    ).toBe('charts.example.com/stable');
    expect(chartRepositoryKey('https://charts.example.com/stable/')).toBe(
      'charts.example.com/stable',
    );
  });
});
