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
