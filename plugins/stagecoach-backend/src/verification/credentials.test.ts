import { ConfigReader } from '@backstage/config';
import { readVerificationCredentials } from './credentials';

describe('stagecoach.verification.credentials', () => {
  it('reads headers per URL prefix; a host without a path covers the whole host', () => {
    const c = readVerificationCredentials(
      new ConfigReader({
        stagecoach: { verification: { credentials: [{ url: 'https://prom.example.com', headers: { Authorization: 'Bearer abcd1234' } }] } },
      }),
    );
    expect(c.headersFor('https://prom.example.com/api/v1/query')).toEqual([{ name: 'Authorization', value: 'Bearer abcd1234' }]);
    // not a look-alike host
    expect(c.headersFor('https://prom.example.com.evil.test/api/v1/query')).toEqual([]);
    expect(c.secretValues()).toEqual(['Bearer abcd1234', 'abcd1234']);
  });

  it('matches by origin and whole path segments after resolving . and .. and percent-decoding', () => {
    const c = readVerificationCredentials(
      new ConfigReader({
        stagecoach: {
          verification: {
            credentials: [
              { url: 'https://prom.example.com/team-a', headers: { Authorization: 'Bearer team-a-1234' } },
              { url: 'https://prom.example.com/', headers: { Authorization: 'Bearer shared-1234' } },
            ],
          },
        },
      }),
    );
    const auth = (url: string) => c.headersFor(url).map(h => h.value);
    expect(auth('https://prom.example.com/team-a/api/v1/query')).toEqual(['Bearer team-a-1234']);
    expect(auth('https://PROM.example.com:443/team-%61/api')).toEqual(['Bearer team-a-1234']);
    expect(auth('https://prom.example.com/team-a')).toEqual(['Bearer team-a-1234']);
    // the shared entry, not team-a's
    expect(auth('https://prom.example.com/team-a/../team-b/api')).toEqual(['Bearer shared-1234']);
    expect(auth('https://prom.example.com/team-ab/api')).toEqual(['Bearer shared-1234']);
    expect(auth('https://prom.example.com/team-a/./x/../../team-b/')).toEqual(['Bearer shared-1234']);
    // a segment that still climbs once decoded is under no prefix at all
    expect(auth('https://prom.example.com/team-a/..%2Fteam-b/api')).toEqual([]);
    // another scheme or port is another origin
    expect(auth('http://prom.example.com/team-a/api')).toEqual([]);
    expect(auth('https://prom.example.com:8443/team-a/api')).toEqual([]);
  });

  it('names the entry whose url is not an http(s) URL', () => {
    expect(() =>
      readVerificationCredentials(new ConfigReader({ stagecoach: { verification: { credentials: [{ url: 'prom:9090', headers: {} }] } } })),
    ).toThrow('stagecoach.verification.credentials[0].url must be an http(s) URL prefix such as https://prometheus.example.com/, got "prom:9090"');
  });
});
