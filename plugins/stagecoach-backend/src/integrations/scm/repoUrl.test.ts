import {
  bitbucketServerRepo,
  defaultApiBaseUrl,
  gitlabProjectPath,
  guessProvider,
  ownerAndRepo,
  parseRepoURL,
} from './repoUrl';

describe('parseRepoURL', () => {
  it.each([
    ['https://github.com/acme/gitops.git', 'https://github.com/acme/gitops'],
    ['https://github.com/acme/gitops', 'https://github.com/acme/gitops'],
    ['https://github.com/acme/gitops/', 'https://github.com/acme/gitops'],
    ['https://ci-bot:s3cret@github.com/acme/gitops.git', 'https://github.com/acme/gitops'],
    ['http://127.0.0.1:8080/acme/gitops.git', 'http://127.0.0.1:8080/acme/gitops'],
    ['git@github.com:acme/gitops.git', 'https://github.com/acme/gitops'],
    ['ssh://git@gitlab.example.com:2222/group/sub/project.git', 'https://gitlab.example.com/group/sub/project'],
  ])('%s is the repository %s', (input, webURL) => {
    expect(parseRepoURL(input).webURL).toBe(webURL);
  });

  it('gives owner and repository', () => {
    expect(ownerAndRepo(parseRepoURL('https://gitea.example.com/gitea/acme/gitops.git'))).toEqual({ owner: 'acme', repo: 'gitops' });
  });

  it('refuses what is not a repository URL, without echoing credentials', () => {
    expect(() => parseRepoURL('not a url')).toThrow('repoURL "not a url" is not a URL of a Git repository');
    expect(() => parseRepoURL('https://github.com/acme')).toThrow(
      'repoURL "https://github.com/acme" names no repository (expected <host>/<owner>/<repository>)',
    );
    expect(() => parseRepoURL('ftp://bot:hunter22@example.com/a/b')).toThrow(
      'repoURL "ftp://***@example.com/a/b" must be an https (or ssh) URL of a Git repository',
    );
  });
});

describe('gitlabProjectPath', () => {
  it('keeps groups and subgroups', () => {
    expect(gitlabProjectPath(parseRepoURL('https://gitlab.com/acme/platform/gitops.git'), 'https://gitlab.com/api/v4')).toBe(
      'acme/platform/gitops',
    );
  });

  it('drops the relative URL root a self-managed GitLab is served under', () => {
    expect(
      gitlabProjectPath(parseRepoURL('https://example.com/gitlab/acme/gitops.git'), 'https://example.com/gitlab/api/v4'),
    ).toBe('acme/gitops');
  });

  it('drops the page part of a browser URL', () => {
    expect(gitlabProjectPath(parseRepoURL('https://gitlab.com/acme/gitops/-/tree/main'), 'https://gitlab.com/api/v4')).toBe('acme/gitops');
  });
});

describe('bitbucketServerRepo', () => {
  it.each([
    ['https://bitbucket.example.com/scm/PLAT/gitops.git', { project: 'PLAT', slug: 'gitops' }],
    ['https://bitbucket.example.com/context/scm/PLAT/gitops.git', { project: 'PLAT', slug: 'gitops' }],
    ['https://bitbucket.example.com/projects/PLAT/repos/gitops/browse', { project: 'PLAT', slug: 'gitops' }],
    ['https://bitbucket.example.com/users/jdoe/repos/sandbox/browse', { project: '~jdoe', slug: 'sandbox' }],
    ['https://bitbucket.example.com/scm/~jdoe/sandbox.git', { project: '~jdoe', slug: 'sandbox' }],
  ])('%s', (url, expected) => {
    expect(bitbucketServerRepo(parseRepoURL(url))).toEqual(expected);
  });
});

describe('guessProvider and defaultApiBaseUrl', () => {
  it.each([
    ['github.com', 'github', 'https://api.github.com'],
    ['octo.ghe.com', 'github', 'https://api.octo.ghe.com'],
    ['github.example.com', 'github', 'https://github.example.com/api/v3'],
    ['gitlab.com', 'gitlab', 'https://gitlab.com/api/v4'],
    ['gitlab.internal:8443', 'gitlab', 'https://gitlab.internal:8443/api/v4'],
    ['bitbucket.org', 'bitbucketCloud', 'https://api.bitbucket.org/2.0'],
    ['bitbucket.example.com', 'bitbucketServer', 'https://bitbucket.example.com/rest/api/1.0'],
    ['gitea.example.com', 'gitea', 'https://gitea.example.com/api/v1'],
    ['codeberg.org', 'gitea', 'https://codeberg.org/api/v1'],
  ] as const)('%s is %s at %s', (host, kind, api) => {
    expect(guessProvider(host)).toBe(kind);
    expect(defaultApiBaseUrl(kind, parseRepoURL(`https://${host}/a/b`))).toBe(api);
  });

  it('does not guess for a host named after nothing it knows', () => {
    expect(guessProvider('git.example.com')).toBeUndefined();
  });
});
