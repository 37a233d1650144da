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

  it('names the entry whose url is not an http(s) URL', () => {
    expect(() =>
      readVerificationCredentials(new ConfigReader({ stagecoach: { verification: { credentials: [{ url: 'prom:9090', headers: {} }] } } })),
    ).toThrow('stagecoach.verification.credentials[0].url must be an http(s) URL prefix such as https://prometheus.example.com/, got "prom:9090"');
  });
});
