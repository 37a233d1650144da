import { normalizeGitURL } from '../util/gitUrl';
import { freightId, randomAlias } from './freightIdentity';

describe('freight identity', () => {
  it('is the same for the same artifact references in any order, and differs by origin and content', () => {
    const refs = ['https://g/x:v1:aaa', 'https://g/y:bbb'];
    expect(freightId('app', refs)).toMatch(/^[0-9a-f]{40}$/);
    expect(freightId('app', [...refs].reverse())).toBe(freightId('app', refs));
    expect(freightId('other', refs)).not.toBe(freightId('app', refs));
    expect(freightId('app', ['https://g/x:v1:ccc', refs[1]])).not.toBe(freightId('app', refs));
  });

  it('normalizes repository URLs and drops credentials', () => {
    expect(normalizeGitURL('https://user:token@Git.Example.com/acme/app.git/')).toBe('https://git.example.com/acme/app');
  });

  it('makes readable aliases', () => {
    for (let i = 0; i < 50; i++) expect(randomAlias()).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
  });
});
