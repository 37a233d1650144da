import { normalizeGitURL } from '../util/gitUrl';
import { freightId, randomAlias } from './freightIdentity';

const commit = (repoURL: string, id: string, tag?: string) => ({ repoURL, id, tag });

describe('freight identity', () => {
  it('is the same for the same artifacts in any order, and differs by origin and content', () => {
    const a = { commits: [commit('https://g/x.git', 'aaa', 'v1'), commit('https://g/y', 'bbb')], images: [], charts: [] };
    const reordered = { ...a, commits: [...a.commits].reverse() };
    expect(freightId('app', a)).toMatch(/^[0-9a-f]{40}$/);
    expect(freightId('app', reordered)).toBe(freightId('app', a));
    expect(freightId('other', a)).not.toBe(freightId('app', a));
    const retagged = { ...a, commits: [commit('https://g/x.git', 'ccc', 'v1'), a.commits[1]] };
    expect(freightId('app', retagged)).not.toBe(freightId('app', a));
    // one repository, several spellings
    const spelled = { ...a, commits: [commit('HTTPS://G/x/', 'aaa', 'v1'), a.commits[1]] };
    expect(freightId('app', spelled)).toBe(freightId('app', a));
  });

  it('normalizes repository URLs and drops credentials', () => {
    expect(normalizeGitURL('https://user:token@Git.Example.com/acme/app.git/')).toBe('https://git.example.com/acme/app');
  });

  it('makes readable aliases', () => {
    for (let i = 0; i < 50; i++) expect(randomAlias()).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
  });
});
