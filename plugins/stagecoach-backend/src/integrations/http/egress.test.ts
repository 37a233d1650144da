import { ConfigReader } from '@backstage/config';
import { addressBytes, addressText, inCidr, parseCidr } from './cidr';
import { DEFAULT_EGRESS_POLICY, EgressPolicy, readEgressPolicy } from './egress';

const refusal = (policy: EgressPolicy, url: string) => policy.urlRefusal(new URL(url));

describe('the built-in egress policy (production default)', () => {
  it.each([
    ['http://169.254.169.254/latest/', '169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)'],
    ['http://2852039166/latest/', '169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254 is in the denied range 169.254.169.254/32 (cloud metadata)'],
    ['http://[::ffff:169.254.169.254]/', '169.254.169.254 ([::ffff:a9fe:a9fe]) is in the denied range 169.254.169.254/32 (cloud metadata)'],
    ['http://[64:ff9b::a9fe:a9fe]/', '169.254.169.254 ([64:ff9b::a9fe:a9fe]) is in the denied range 169.254.169.254/32 (cloud metadata)'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254 ([fd00:ec2::254]) is in the denied range fd00:ec2::254/128 (cloud metadata)'],
    ['http://100.100.100.200/', '100.100.100.200 is in the denied range 100.100.100.200/32 (cloud metadata)'],
    ['http://METADATA.google.internal./', 'metadata.google.internal is a denied host (cloud metadata)'],
    ['http://169.254.170.2/v2/credentials', '169.254.170.2 is in the denied range 169.254.0.0/16 (link-local)'],
    ['http://[fe80::1]/', 'fe80::1 ([fe80::1]) is in the denied range fe80::/10 (link-local)'],
    ['http://127.0.0.1:9090/', '127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)'],
    ['http://127.1/', '127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)'],
    ['http://0x7f000001/', '127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)'],
    ['http://[::1]/', '::1 ([::1]) is in the denied range ::1/128 (loopback)'],
    ['http://localhost/', 'localhost is a denied host (loopback)'],
    ['http://admin.localhost/', 'admin.localhost matches the denied hosts *.localhost (loopback)'],
    ['http://0.0.0.0:8080/', '0.0.0.0 is in the denied range 0.0.0.0/8 (unspecified address)'],
    ['http://[::]/', ':: ([::]) is in the denied range ::/128 (unspecified address)'],
  ])('refuses %s: %s', (url, reason) => {
    expect(refusal(DEFAULT_EGRESS_POLICY, url)).toBe(reason);
  });

  it.each(['https://ci.example.com/api', 'http://10.1.2.3:8080/', 'http://192.168.1.10/', 'http://[fd12::1]/', 'http://prometheus.monitoring:9090/'])(
    'allows %s (public names and private ranges)',
    url => {
      expect(refusal(DEFAULT_EGRESS_POLICY, url)).toBeUndefined();
    },
  );

  it('judges resolved addresses at connect time, naming the host', () => {
    expect(DEFAULT_EGRESS_POLICY.connectRefusal('app.example.com', '::ffff:127.0.0.1')).toBe(
      'app.example.com resolves to 127.0.0.1, which is in the denied range 127.0.0.0/8 (loopback)',
    );
    expect(DEFAULT_EGRESS_POLICY.connectRefusal('app.example.com', '93.184.216.34')).toBeUndefined();
  });
});

describe('stagecoach.egress', () => {
  const read = (egress: Record<string, any>) => readEgressPolicy(new ConfigReader({ stagecoach: { egress } }));

  it('allowLoopback lifts loopback only', () => {
    const policy = read({ allowLoopback: true });
    expect(refusal(policy, 'http://127.0.0.1:7007/')).toBeUndefined();
    expect(refusal(policy, 'http://localhost:7007/')).toBeUndefined();
    expect(refusal(policy, 'http://169.254.169.254/')).toMatch(/cloud metadata/);
  });

  it('with allow, only matching names or addresses pass; deny wins over allow', () => {
    const policy = read({
      allow: [{ host: '*.example.com' }, { cidr: '10.0.0.0/8' }],
      deny: [{ host: 'vault.example.com' }, { cidr: '10.20.0.0/16' }],
    });
    expect(refusal(policy, 'https://ci.example.com/')).toBeUndefined();
    expect(refusal(policy, 'https://a.b.example.com/')).toBeUndefined();
    expect(refusal(policy, 'https://vault.example.com/')).toBe('vault.example.com is a denied host (stagecoach.egress.deny[0])');
    expect(refusal(policy, 'http://10.1.0.1/')).toBeUndefined();
    expect(refusal(policy, 'http://10.20.0.1/')).toBe('10.20.0.1 is in the denied range 10.20.0.0/16 (stagecoach.egress.deny[1])');
    expect(refusal(policy, 'http://192.168.0.1/')).toBe('192.168.0.1 matches no entry of stagecoach.egress.allow');
    // a name outside the allowed hosts may still connect to an allowed range: judged at connect time
    expect(refusal(policy, 'http://db.internal/')).toBeUndefined();
    expect(policy.connectRefusal('db.internal', '10.3.0.4')).toBeUndefined();
    expect(policy.connectRefusal('db.internal', '172.16.0.4')).toBe(
      'db.internal resolves to 172.16.0.4, which matches no entry of stagecoach.egress.allow',
    );
    // an allowed name that resolves into a denied range is refused
    expect(policy.connectRefusal('ci.example.com', '10.20.1.1')).toBe(
      'ci.example.com resolves to 10.20.1.1, which is in the denied range 10.20.0.0/16 (stagecoach.egress.deny[1])',
    );
    // *.example.com is its subdomains, not example.com itself
    expect(policy.connectRefusal('example.com', '93.184.216.34')).toBe(
      'example.com resolves to 93.184.216.34, which matches no entry of stagecoach.egress.allow',
    );
  });

  it('with only allowed hosts, another name is refused before any lookup', () => {
    const policy = read({ allow: [{ host: 'ci.example.com' }] });
    expect(refusal(policy, 'https://evil.test/')).toBe('evil.test matches no entry of stagecoach.egress.allow');
  });

  it.each([
    [{ allow: [{}] }, 'stagecoach.egress.allow[0] must have exactly one of host or cidr'],
    [{ deny: [{ host: 'a.example.com', cidr: '10.0.0.0/8' }] }, 'stagecoach.egress.deny[0] must have exactly one of host or cidr'],
    [{ deny: [{ cidr: '10.0.0.0/33' }] }, 'stagecoach.egress.deny[0].cidr: "10.0.0.0/33" has a prefix length that is not a whole number from 0 to 32'],
    [{ allow: [{ cidr: 'ten/8' }] }, 'stagecoach.egress.allow[0].cidr: "ten/8" is not an IP address or a CIDR range'],
    [{ allow: [{ host: 'a.*.example.com' }] }, 'stagecoach.egress.allow[0].host: "a.*.example.com" is not a host name'],
  ])('a bad entry %j stops start-up naming its key', (egress, message) => {
    expect(() => read(egress)).toThrow(message);
  });
});

describe('CIDR ranges', () => {
  it('parse, normalise and match IPv4 and IPv6', () => {
    expect(parseCidr('10.1.2.3/8').text).toBe('10.0.0.0/8');
    expect(parseCidr('fe80::1/10').text).toBe('fe80::/10');
    expect(inCidr(addressBytes('10.255.0.1')!, parseCidr('10.0.0.0/8'))).toBe(true);
    expect(inCidr(addressBytes('11.0.0.1')!, parseCidr('10.0.0.0/8'))).toBe(false);
    expect(inCidr(addressBytes('febf::1')!, parseCidr('fe80::/10'))).toBe(true);
    expect(inCidr(addressBytes('fec0::1')!, parseCidr('fe80::/10'))).toBe(false);
    expect(addressText(addressBytes('::ffff:10.0.0.1')!)).toBe('10.0.0.1');
    expect(addressText(addressBytes('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
  });
});
