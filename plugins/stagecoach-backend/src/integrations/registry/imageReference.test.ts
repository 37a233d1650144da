import {
  canonicalRegistryHost,
  describeRepository,
  isLoopbackHost,
  parseImageRepository,
} from './imageReference';

describe('parseImageRepository (Docker Hub name normalisation and other hosts)', () => {
  it.each([
    ['nginx', 'registry-1.docker.io', 'library/nginx'],
    ['library/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['docker.io/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['docker.io/library/nginx', 'registry-1.docker.io', 'library/nginx'],
    ['index.docker.io/bitnami/redis', 'registry-1.docker.io', 'bitnami/redis'],
    ['bitnami/redis', 'registry-1.docker.io', 'bitnami/redis'],
    ['ghcr.io/acme/api', 'ghcr.io', 'acme/api'],
    ['GHCR.io/acme/api', 'ghcr.io', 'acme/api'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000', 'app'],
    ['localhost/team/app', 'localhost', 'team/app'],
    [
      'registry.example.com:5000/team/sub/app',
      'registry.example.com:5000',
      'team/sub/app',
    ],
    ['[::1]:5000/app', '[::1]:5000', 'app'],
  ])('%s -> %s %s', (name, registry, repository) => {
    expect(parseImageRepository(name)).toEqual({ registry, repository });
  });

  it('refuses tags, digests and empty names with a message that says why', () => {
    expect(() => parseImageRepository('nginx:1.25')).toThrow(
      /names a tag or digest/,
    );
    expect(() => parseImageRepository('ghcr.io/acme/api@sha256:abc')).toThrow(
      /names a tag or digest/,
    );
    expect(() => parseImageRepository('')).toThrow(/not an image repository/);
    expect(() => parseImageRepository('ghcr.io//api')).toThrow(
      /not an image repository/,
    );
  });

  it('describes repositories by their public names', () => {
    expect(describeRepository(parseImageRepository('nginx'))).toBe(
      'docker.io/library/nginx',
    );
    expect(describeRepository(parseImageRepository('ghcr.io/acme/api'))).toBe(
      'ghcr.io/acme/api',
    );
  });

  it('canonicalises configured host names', () => {
    expect(canonicalRegistryHost('docker.io')).toBe('registry-1.docker.io');
    expect(canonicalRegistryHost('https://GHCR.io/')).toBe('ghcr.io');
  });

  it('knows loopback hosts', () => {
    expect(
      [
        '127.0.0.1:5000',
        'localhost',
        'localhost:80',
        '[::1]:5000',
        '127.1.2.3',
      ].map(isLoopbackHost),
    ).toEqual([true, true, true, true, true]);
    expect(
      ['ghcr.io', '10.0.0.1:5000', 'localhost.example.com'].map(isLoopbackHost),
    ).toEqual([false, false, false]);
  });
});
