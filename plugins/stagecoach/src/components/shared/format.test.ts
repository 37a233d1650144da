import {
  chartLabel,
  commitLabel,
  compactRepoURL,
  formatDuration,
  httpUrl,
  shortVersions,
  soakLabel,
  sourcesLabel,
  timeAgo,
} from './format';

describe('format', () => {
  it('shortens repository URLs', () => {
    expect(compactRepoURL('https://github.com/acme/app.git')).toBe(
      'github.com/acme/app',
    );
    expect(compactRepoURL('git@github.com:acme/app.git')).toBe(
      'github.com/acme/app',
    );
    expect(compactRepoURL('ssh://git@git.acme.io:2222/team/app')).toBe(
      'git.acme.io:2222/team/app',
    );
    expect(compactRepoURL('ghcr.io/acme/app')).toBe('ghcr.io/acme/app');
  });

  it('names a commit by tag, else short sha', () => {
    expect(
      commitLabel({
        repoURL: 'https://github.com/a/b',
        id: 'abcdef123456',
        tag: 'v1.0.0',
      }),
    ).toBe('github.com/a/b@v1.0.0');
    expect(
      commitLabel({ repoURL: 'https://github.com/a/b', id: 'abcdef123456' }),
    ).toBe('github.com/a/b@abcdef1');
  });

  it('names a chart by its name, or by its OCI repository', () => {
    expect(
      chartLabel({
        repoURL: 'https://charts.acme.io',
        name: 'app',
        version: '1.2.3',
      }),
    ).toBe('app:1.2.3');
    expect(
      chartLabel({
        repoURL: 'oci://ghcr.io/acme/charts/app',
        version: '0.1.0',
      }),
    ).toBe('app:0.1.0');
  });

  it('describes where a stage takes freight from', () => {
    expect(
      sourcesLabel([
        {
          origin: { kind: 'Warehouse', name: 'app' },
          sources: { direct: true, stages: [] },
        },
      ]),
    ).toBe('direct from warehouse app');
    expect(
      sourcesLabel([
        {
          origin: { kind: 'Warehouse', name: 'app' },
          sources: { direct: false, stages: ['dev', 'qa'] },
        },
      ]),
    ).toBe('upstream: dev, qa');
  });

  it('formats durations and relative times', () => {
    expect(formatDuration(420)).toBe('420ms');
    expect(formatDuration(12_400)).toBe('12s');
    expect(formatDuration(184_000)).toBe('3m 04s');
    expect(formatDuration(3_720_000)).toBe('1h 02m');
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(timeAgo('2026-01-01T11:57:00Z', now)).toBe('3 minutes ago');
    expect(timeAgo('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(timeAgo(undefined, now)).toBe('');
  });

  it('writes soak in the units of durations', () => {
    expect(soakLabel(7500)).toBe('2h 05m');
    expect(soakLabel(45)).toBe('45s');
    expect(soakLabel(undefined)).toBe('');
  });

  it('accepts only http(s) addresses as links', () => {
    expect(httpUrl('https://github.com/acme/gitops/pull/12')).toBe(
      'https://github.com/acme/gitops/pull/12',
    );
    expect(httpUrl('http://gitea.local/acme/gitops/pulls/3')).toBe(
      'http://gitea.local/acme/gitops/pulls/3',
    );
    // eslint-disable-next-line no-script-url -- the URL that must not become a link
    expect(httpUrl('javascript:alert(1)')).toBeUndefined();
    expect(httpUrl('not a url')).toBeUndefined();
    expect(httpUrl(12)).toBeUndefined();
  });

  it('gives each artifact of a freight its short version: tag or short SHA, image tag, chart version', () => {
    expect(
      shortVersions({
        commits: [
          {
            repoURL: 'https://github.com/a/b.git',
            id: 'abcdef1234567890',
            tag: 'v2.0.0',
          },
          { repoURL: 'https://github.com/a/c.git', id: '1234567890abcdef' },
        ],
        images: [{ repoURL: 'ghcr.io/a/b', tag: '2.0.0', digest: 'sha256:aa' }],
        charts: [{ repoURL: 'oci://ghcr.io/a/charts/b', version: '0.3.1' }],
      }),
    ).toEqual([
      { version: 'v2.0.0', label: 'github.com/a/b@v2.0.0' },
      { version: '1234567', label: 'github.com/a/c@1234567' },
      { version: '2.0.0', label: 'ghcr.io/a/b:2.0.0' },
      { version: '0.3.1', label: 'b:0.3.1' },
    ]);
    expect(shortVersions({})).toEqual([]);
  });
});
