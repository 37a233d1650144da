import { ConfigReader } from '@backstage/config';
import { scmCredentialsFromConfig } from './fromIntegrations';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The `integrations` section of an app-config.yaml, as Backstage reads it. */
const config = new ConfigReader({
  integrations: {
    github: [
      { host: 'github.com', token: 'ghp_public' },
      { host: 'ghe.example.com', apiBaseUrl: 'https://ghe.example.com/api/v3', token: 'ghp_enterprise' },
    ],
    gitlab: [{ host: 'gitlab.example.com', apiBaseUrl: 'https://gitlab.example.com/api/v4', token: 'glpat-self' }],
    gitea: [
      { host: 'gitea.example.com', username: 'bot', password: 'gitea-pass' },
      { host: 'forge.example.com', baseUrl: 'https://forge.example.com/git', password: 'gitea-token' },
    ],
    bitbucketCloud: [{ username: 'bb-bot', appPassword: 'app-pass' }],
    bitbucketServer: [{ host: 'bitbucket.example.com', token: 'bbs-token' }],
  },
});

describe('scmCredentialsFromConfig (a Backstage integrations config)', () => {
  const creds = scmCredentialsFromConfig(config);

  it.each([
    ['https://github.com/acme/gitops.git', { username: 'x-access-token', password: 'ghp_public' }],
    ['https://ghe.example.com/acme/gitops.git', { username: 'x-access-token', password: 'ghp_enterprise' }],
    ['https://gitlab.example.com/group/sub/gitops.git', { username: 'oauth2', password: 'glpat-self' }],
    ['https://gitea.example.com/acme/gitops.git', { username: 'bot', password: 'gitea-pass' }],
    ['https://forge.example.com/git/acme/gitops.git', { username: 'oauth2', password: 'gitea-token' }],
    ['https://bitbucket.org/acme/gitops.git', { username: 'bb-bot', password: 'app-pass' }],
    ['https://bitbucket.example.com/scm/PLAT/gitops.git', { username: 'x-token-auth', password: 'bbs-token' }],
  ])('gives git over HTTPS for %s basic credentials', async (url, expected) => {
    expect(await creds.git(url)).toEqual(expected);
  });

  it('refuses to hand out credentials for plain http:// URLs, naming the host and the setting', async () => {
    const refused =
      'the credentials configured for github.com (Backstage integrations) are not sent over plain HTTP (http://github.com): use an https:// URL, or list github.com in stagecoach.git.allowInsecureCredentials';
    await expect(creds.git('http://github.com/acme/gitops.git')).rejects.toThrow(refused);
    await expect(creds.git('http://gitlab.example.com/group/gitops.git')).rejects.toThrow('gitlab.example.com');
    // GitHub Enterprise without apiBaseUrl takes the repository's scheme for its API
    const ghe = scmCredentialsFromConfig(new ConfigReader({ integrations: { github: [{ host: 'ghe.internal', token: 'ghp_1234' }] } }));
    await expect(ghe.api('http://ghe.internal/acme/gitops')).rejects.toThrow('(http://ghe.internal)');
    // a host without credentials is reached anonymously, as before
    expect(await creds.git('http://git.example.com/acme/gitops.git')).toBeUndefined();
  });

  it('hands them out over plain HTTP to hosts listed in stagecoach.git.allowInsecureCredentials (host, or host:port)', async () => {
    const allowing = scmCredentialsFromConfig(
      new ConfigReader({
        integrations: {
          gitea: [
            { host: 'git.internal', username: 'bot', password: 'gitea-pass' },
            { host: 'git.internal:3000', baseUrl: 'http://git.internal:3000', username: 'bot', password: 'other-pass' },
            { host: 'forge.internal:3000', baseUrl: 'http://forge.internal:3000', username: 'bot', password: 'forge-pass' },
          ],
        },
        stagecoach: { git: { allowInsecureCredentials: ['git.internal', 'forge.internal:8080'] } },
      }),
    );
    expect(await allowing.git('http://git.internal/acme/gitops.git')).toEqual({ username: 'bot', password: 'gitea-pass' });
    expect(await allowing.git('http://git.internal:3000/acme/gitops.git')).toEqual({ username: 'bot', password: 'other-pass' });
    expect(await allowing.api('http://git.internal:3000/acme/gitops')).toMatchObject({ apiBaseUrl: 'http://git.internal:3000/api/v1' });
    // listed for another port only
    await expect(allowing.git('http://forge.internal:3000/acme/gitops.git')).rejects.toThrow('forge.internal:3000');
  });

  it('gives no git credentials for hosts without any, or for SSH URLs', async () => {
    expect(await creds.git('https://gitlab.com/acme/gitops.git')).toBeUndefined();
    expect(await creds.git('https://git.example.com/acme/gitops.git')).toBeUndefined();
    expect(await creds.git('git@github.com:acme/gitops.git')).toBeUndefined();
  });

  it.each([
    ['https://github.com/acme/gitops', { provider: 'github', apiBaseUrl: 'https://api.github.com', authorization: 'Bearer ghp_public' }],
    [
      'https://ghe.example.com/acme/gitops',
      { provider: 'github', apiBaseUrl: 'https://ghe.example.com/api/v3', authorization: 'Bearer ghp_enterprise' },
    ],
    [
      'https://gitlab.example.com/group/gitops',
      { provider: 'gitlab', apiBaseUrl: 'https://gitlab.example.com/api/v4', authorization: 'Bearer glpat-self' },
    ],
    [
      'https://gitea.example.com/acme/gitops',
      { provider: 'gitea', apiBaseUrl: 'https://gitea.example.com/api/v1', authorization: basic('bot', 'gitea-pass') },
    ],
    [
      'https://forge.example.com/git/acme/gitops',
      { provider: 'gitea', apiBaseUrl: 'https://forge.example.com/git/api/v1', authorization: 'token gitea-token' },
    ],
    [
      'https://bitbucket.org/acme/gitops',
      { provider: 'bitbucketCloud', apiBaseUrl: 'https://api.bitbucket.org/2.0', authorization: basic('bb-bot', 'app-pass') },
    ],
    [
      'https://bitbucket.example.com/scm/PLAT/gitops.git',
      { provider: 'bitbucketServer', apiBaseUrl: 'https://bitbucket.example.com/rest/api/1.0', authorization: 'Bearer bbs-token' },
    ],
  ])('gives the API of %s with its Authorization header', async (url, expected) => {
    expect(await creds.api(url)).toEqual(expected);
  });

  it('knows public gitlab.com without a token, and nothing of an unconfigured host', async () => {
    expect(await creds.api('https://gitlab.com/acme/gitops')).toEqual({
      provider: 'gitlab',
      apiBaseUrl: 'https://gitlab.com/api/v4',
      authorization: undefined,
    });
    expect(await creds.api('https://git.example.com/acme/gitops')).toBeUndefined();
  });

  it('gives an anonymous default API when the provider is forced for an unconfigured host', async () => {
    expect(await creds.api('https://git.example.com/acme/gitops', 'gitea')).toEqual({
      provider: 'gitea',
      apiBaseUrl: 'https://git.example.com/api/v1',
    });
  });

  it('takes a Bitbucket Cloud token without a username as a bearer token', async () => {
    const tokenOnly = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { bitbucketCloud: [{ token: 'bb-access-token' }] } }),
    );
    expect(await tokenOnly.api('https://bitbucket.org/acme/gitops')).toMatchObject({ authorization: 'Bearer bb-access-token' });
    expect(await tokenOnly.git('https://bitbucket.org/acme/gitops.git')).toEqual({ username: 'x-token-auth', password: 'bb-access-token' });
  });
});
