import { createHash } from 'node:crypto';
import { normalizeGitURL } from '../util/gitUrl';
import { builtinKinds, builtinSubscriptionKinds as kinds } from './kinds';
import { SubscriptionKinds } from './SubscriptionKinds';
import { evaluate } from '../expressions/expressions';

const sha = (n: string) => n.repeat(40);
const commit = (repoURL: string, id: string, tag?: string) => ({
  repoURL,
  id,
  tag,
});
const image = {
  repoURL: 'ghcr.io/acme/app',
  tag: '1.2.0',
  digest: `sha256:${'b'.repeat(64)}`,
};
const chart = {
  repoURL: 'https://charts.acme.io/',
  name: 'app',
  version: '1.2.3',
};

describe('the built-in subscription kinds', () => {
  it('are git, image and chart, their artifacts in commits, images and charts', () => {
    expect(builtinKinds.map(k => [k.name, k.field])).toEqual([
      ['git', 'commits'],
      ['image', 'images'],
      ['chart', 'charts'],
    ]);
  });

  it('give freight the ID it always had: Kargo’s, over the sorted artifact references', () => {
    const artifacts = {
      commits: [commit('https://G.example/acme/app.git', sha('a'), 'v1')],
      images: [image],
      charts: [chart],
    };
    const parts = [
      `${normalizeGitURL('https://G.example/acme/app.git')}:v1:${sha('a')}`,
      `ghcr.io/acme/app:1.2.0@${image.digest}`,
      'https://charts.acme.io/app:1.2.3',
    ].sort();
    expect(kinds.freightId('app', artifacts)).toBe(
      createHash('sha1')
        .update(`Warehouse/app:${parts.join('|')}`)
        .digest('hex'),
    );
  });

  it('name the same commits the same way in any order and spelling, and a moved tag differently', () => {
    const a = {
      commits: [
        commit('https://g/x.git', 'aaa', 'v1'),
        commit('https://g/y', 'bbb'),
      ],
      images: [],
      charts: [],
    };
    const id = kinds.freightId('app', a);
    expect(
      kinds.freightId('app', { ...a, commits: [...a.commits].reverse() }),
    ).toBe(id);
    expect(
      kinds.freightId('app', {
        ...a,
        commits: [commit('HTTPS://G/x/', 'aaa', 'v1'), a.commits[1]],
      }),
    ).toBe(id);
    expect(
      kinds.freightId('app', {
        ...a,
        commits: [commit('https://g/x.git', 'ccc', 'v1'), a.commits[1]],
      }),
    ).not.toBe(id);
    expect(kinds.freightId('other', a)).not.toBe(id);
  });

  it('label artifacts as the UI always showed them', () => {
    expect(
      kinds.labels({
        commits: [
          {
            ...commit('https://github.com/a/b', 'abcdef123456', 'v1.0.0'),
            branch: 'main',
          },
          commit('git@github.com:a/b.git', 'abcdef123456'),
        ],
        images: [image],
        charts: [
          chart,
          { repoURL: 'oci://ghcr.io/acme/charts/app', version: '0.1.0' },
        ],
      }),
    ).toEqual([
      {
        kind: 'git',
        label: 'github.com/a/b@v1.0.0',
        detail:
          'Git https://github.com/a/b at abcdef123456 (tag v1.0.0) on main',
      },
      {
        kind: 'git',
        label: 'github.com/a/b@abcdef1',
        detail: 'Git git@github.com:a/b.git at abcdef123456',
      },
      {
        kind: 'image',
        label: 'ghcr.io/acme/app:1.2.0',
        detail: `Image ghcr.io/acme/app:1.2.0 @ ${image.digest}`,
      },
      {
        kind: 'chart',
        label: 'app:1.2.3',
        detail: 'Chart https://charts.acme.io/ app 1.2.3',
      },
      {
        kind: 'chart',
        label: 'app:0.1.0',
        detail: 'Chart oci://ghcr.io/acme/charts/app 0.1.0',
      },
    ]);
  });

  it('read freight stored without a kind’s field as having none of its artifacts', () => {
    const stored = { commits: [commit('https://g/x', 'aaa')] };
    expect(kinds.artifactFields(stored as never)).toEqual({
      commits: stored.commits,
      images: [],
      charts: [],
    });
    expect(kinds.emptyArtifacts()).toEqual({
      commits: [],
      images: [],
      charts: [],
    });
  });

  it('offer commitFrom, imageFrom and chartFrom over a freight’s artifacts', () => {
    const fns = kinds.expressionFunctions(
      { commits: [], images: [image], charts: [] },
      'freight brave-fox',
    );
    expect(Object.keys(fns)).toEqual(['artifactFrom', 'commitFrom', 'imageFrom', 'chartFrom']);
    expect(fns.artifactFrom('ghcr.io/acme/app')).toEqual(image);
    expect(() => fns.artifactFrom('https://feeds.example.com/x')).toThrow(
      'freight brave-fox has no artifact from https://feeds.example.com/x (it has: image ghcr.io/acme/app)',
    );
    expect(fns.imageFrom('ghcr.io/acme/app')).toEqual(image);
    expect(() => fns.commitFrom('https://g/x')).toThrow(
      'freight brave-fox has no commit from https://g/x (it has: no commits)',
    );
  });

  it('read a kind’s artifacts strictly: its declared fields, else its own fields and their capitalised names', () => {
    const [git] = builtinKinds;
    const undeclared = new SubscriptionKinds([{ ...git, artifactFields: undefined }]);
    const { commitFrom } = undeclared.expressionFunctions(
      { commits: [commit('https://g/x', 'aaa')], images: [], charts: [] },
      'freight brave-fox',
    );
    const found = commitFrom('https://g/x') as Record<string, unknown>;
    expect(evaluate('c.RepoURL + " " + c.ID + " " + c.id', { values: { c: found }, functions: {} })).toBe('https://g/x aaa aaa');
    expect(() => evaluate('c.Branch', { values: { c: found }, functions: {} })).toThrow(
      'commitFrom("https://g/x") has no field "Branch" (its fields: RepoURL, ID, Tag; or as Stagecoach writes them: repoURL, id, tag)',
    );
  });

  it('say which kind a subscription names, and refuse one this backend does not have', () => {
    expect(kinds.of({ chart: { repoURL: 'oci://x/y' } }).kind.name).toBe(
      'chart',
    );
    expect(() => kinds.of({ helm: { repoURL: 'x' } })).toThrow(
      'helm subscriptions are not available in this backend',
    );
  });

  it('refuse two kinds with one name or one freight field', () => {
    const [git, image_] = builtinKinds;
    expect(
      () => new SubscriptionKinds([git, { ...image_, name: 'git' }]),
    ).toThrow('subscription kinds "git" and "git" both claim the name "git"');
    expect(
      () => new SubscriptionKinds([git, { ...image_, field: 'commits' }]),
    ).toThrow(
      'subscription kinds "git" and "image" both claim the freight field "commits"',
    );
  });
});
