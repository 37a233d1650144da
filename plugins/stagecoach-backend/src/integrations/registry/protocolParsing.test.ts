import { parseAuthChallenge } from './authChallenge';
import { ConfigReader, JsonObject } from '@backstage/config';
import {
  readRegistryHostSettings,
  registryAccessFromSettings,
} from './credentials';
import { nextPageURL } from './linkHeader';
import { readImageConfig, readManifest } from './manifests';
import { parsePlatform, selectPlatformManifest } from './platform';

describe('WWW-Authenticate challenges', () => {
  it('reads a bearer challenge with quoted values containing commas', () => {
    expect(
      parseAuthChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:a/b:pull,push',
      },
    });
  });
  it('reads basic and unquoted challenges, and nothing from nothing', () => {
    expect(parseAuthChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    expect(
      parseAuthChallenge(['bearer realm=https://r/token, service=s']),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://r/token', service: 's' },
    });
    expect(parseAuthChallenge(undefined)).toBeUndefined();
  });
});

describe('Link pagination', () => {
  const here = new URL('https://ghcr.io/v2/acme/api/tags/list?n=100');
  it('follows rel="next", relative or absolute', () => {
    expect(
      nextPageURL('</v2/acme/api/tags/list?last=b&n=100>; rel="next"', here)
        ?.href,
    ).toBe('https://ghcr.io/v2/acme/api/tags/list?last=b&n=100');
    expect(
      nextPageURL('<https://ghcr.io/v2/x?last=c>; rel=next', here)?.href,
    ).toBe('https://ghcr.io/v2/x?last=c');
    expect(
      nextPageURL('</prev>; rel="prev", </next>; rel="next"', here)?.pathname,
    ).toBe('/next');
  });
  it('ignores other relations', () => {
    expect(nextPageURL('</x>; rel="nextish"', here)).toBeUndefined();
    expect(nextPageURL(undefined, here)).toBeUndefined();
  });
});

describe('manifests, configs and platforms', () => {
  const d = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
  it('reads images and indexes of both formats and rejects broken ones', () => {
    expect(
      readManifest(
        {
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { digest: d(1) },
        },
        undefined,
      ),
    ).toMatchObject({ kind: 'image' });
    expect(
      readManifest(
        { schemaVersion: 2, config: { digest: d(1) } },
        'application/vnd.docker.distribution.manifest.v2+json',
      ),
    ).toMatchObject({
      kind: 'image',
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(
      readManifest(
        {
          mediaType:
            'application/vnd.docker.distribution.manifest.list.v2+json',
          manifests: [{ digest: d(2) }],
        },
        undefined,
      ),
    ).toMatchObject({
      kind: 'index',
    });
    expect(
      readManifest(
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [{ digest: 'nope' }],
        },
        undefined,
      ),
    ).toBeUndefined();
    expect(readManifest([], undefined)).toBeUndefined();
  });
  it('normalises config build times', () => {
    expect(
      readImageConfig({
        created: '2026-01-02T03:04:05.123456789Z',
        os: 'linux',
      }),
    ).toEqual({
      created: '2026-01-02T03:04:05.123Z',
      os: 'linux',
      architecture: undefined,
      variant: undefined,
    });
    expect(readImageConfig({ created: 'yesterday' })?.created).toBeUndefined();
  });
  it('selects a platform from an index, treating arm64 and arm64/v8 alike and skipping attestations', () => {
    const entries = [
      { digest: d(1), platform: { os: 'unknown', architecture: 'unknown' } },
      { digest: d(2), platform: { os: 'linux', architecture: 'amd64' } },
      {
        digest: d(3),
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
      {
        digest: d(4),
        platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
      },
    ];
    expect(
      selectPlatformManifest(entries, parsePlatform('linux/amd64'))?.digest,
    ).toBe(d(2));
    expect(
      selectPlatformManifest(entries, parsePlatform('linux/arm64'))?.digest,
    ).toBe(d(3));
    expect(
      selectPlatformManifest(entries, parsePlatform('linux/arm64/v8'))?.digest,
    ).toBe(d(3));
    expect(
      selectPlatformManifest(entries, parsePlatform('linux/arm/v7'))?.digest,
    ).toBe(d(4));
    expect(
      selectPlatformManifest(entries, parsePlatform('linux/arm/v6')),
    ).toBeUndefined();
    expect(
      selectPlatformManifest(entries, parsePlatform('windows/amd64')),
    ).toBeUndefined();
    expect(() => parsePlatform('linux')).toThrow(/os\/arch/);
  });
});

describe('registry host settings', () => {
  it('matches hosts as image names are matched and never treats other hosts as plain HTTP', () => {
    const access = registryAccessFromSettings([
      { host: 'docker.io', username: 'u', password: 'p' },
      { host: 'ghcr.io', token: 't' },
      { host: 'registry.internal:5000', plainHTTP: true },
    ]);
    expect(access.credentials('registry-1.docker.io')).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(access.credentials('ghcr.io')).toEqual({ token: 't' });
    expect(access.credentials('quay.io')).toBeUndefined();
    expect(access.plainHTTP('registry.internal:5000')).toBe(true);
    expect(access.plainHTTP('127.0.0.1:5000')).toBe(true);
    expect(access.plainHTTP('ghcr.io')).toBe(false);
  });

  it('limits the request rate of the hosts that ask for it, Docker Hub by any of its names', () => {
    const access = registryAccessFromSettings([
      { host: 'index.docker.io', requestsPerSecond: 5 },
      { host: 'ghcr.io', token: 't' },
    ]);
    expect(access.requestsPerSecond('registry-1.docker.io')).toBe(5);
    expect(access.requestsPerSecond('docker.io')).toBe(5);
    expect(access.requestsPerSecond('ghcr.io')).toBeUndefined();
  });
});

describe('stagecoach.registries in app-config', () => {
  const read = (registries: JsonObject[]) =>
    readRegistryHostSettings(new ConfigReader({ stagecoach: { registries } }));
  it('reads host settings', () => {
    expect(
      read([
        { host: 'ghcr.io', username: 'bot', password: 'pw' },
        { host: 'r.internal', plainHTTP: true },
      ]),
    ).toEqual([
      {
        host: 'ghcr.io',
        username: 'bot',
        password: 'pw',
        token: undefined,
        plainHTTP: undefined,
        requestsPerSecond: undefined,
      },
      {
        host: 'r.internal',
        username: undefined,
        password: undefined,
        token: undefined,
        plainHTTP: true,
        requestsPerSecond: undefined,
      },
    ]);
    expect(readRegistryHostSettings(new ConfigReader({}))).toEqual([]);
  });
  it('refuses half-given credentials, naming the entry and not the secret', () => {
    expect(() => read([{ host: 'ghcr.io', password: 'pw-xyz' }])).toThrow(
      'stagecoach.registries[0] (host ghcr.io): username and password go together',
    );
    expect(() =>
      read([
        {
          host: 'ghcr.io',
          token: 'tok-xyz',
          username: 'u',
          password: 'pw-xyz',
        },
      ]),
    ).toThrow(/either token, or username and password/);
    expect(() =>
      read([
        {
          host: 'ghcr.io',
          token: 'tok-xyz',
          username: 'u',
          password: 'pw-xyz',
        },
      ]),
    ).not.toThrow(/xyz/);
  });
  it('refuses a request rate that is not above 0, naming the entry', () => {
    expect(() => read([{ host: 'docker.io', requestsPerSecond: 0 }])).toThrow(
      'stagecoach.registries[0] (host docker.io): requestsPerSecond must be a number above 0, not 0',
    );
    expect(read([{ host: 'docker.io', requestsPerSecond: 20 }])[0].requestsPerSecond).toBe(20);
  });
});
