import type { FreightStageRecord, FreightStay } from '../store/FreightStore';
import { freightAvailability, FreightFacts, longestSoak } from './qualification';
import { formatDuration, goDuration } from './words';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const min = (n: number) => n * 60_000;
const at = (ms: number) => new Date(T0 + ms).toISOString();

function facts(
  records: Array<Omit<FreightStageRecord, 'freightId'>>,
  stays: Array<Omit<FreightStay, 'freightId'>> = [],
  currentlyIn: string[] = [],
): FreightFacts {
  const staysBy = new Map<string, FreightStay[]>();
  for (const s of stays) staysBy.set(s.stage, [...(staysBy.get(s.stage) ?? []), { freightId: 'f', ...s }]);
  return {
    records: new Map(records.map(r => [r.stage, { freightId: 'f', ...r }])),
    stays: staysBy,
    currentlyIn: new Set(currentlyIn),
  };
}

const freight = { alias: 'brave-otter', warehouse: 'app' };

function stage(name: string, sources: Record<string, unknown>) {
  return { name, spec: { requestedFreight: [{ origin: { kind: 'Warehouse' as const, name: 'app' }, sources }] } };
}

describe('freight availability', () => {
  const staging = stage('staging', { stages: ['dev'], requiredSoakTime: '10m' });

  it('needs verification upstream, in words', () => {
    expect(freightAvailability(staging, freight, facts([]), T0)).toEqual({
      available: false,
      reason: 'not verified in dev',
    });
  });

  it('counts soak from verification while the freight stays, and says when it will be available', () => {
    const inDev = facts([{ stage: 'dev', verifiedAt: at(0) }], [{ stage: 'dev', startedAt: at(0) }], ['dev']);
    expect(freightAvailability(staging, freight, inDev, T0 + min(3))).toEqual({
      available: false,
      reason: 'verified in dev 3m ago; needs 10m of soak there: available in 7m',
      availableAt: at(min(10)),
    });
    expect(freightAvailability(staging, freight, inDev, T0 + min(10))).toEqual({
      available: true,
      reason: 'verified in dev 10m ago, soaked there 10m (needs 10m)',
    });
  });

  it('keeps the longest past stay once the freight has left (Kargo longestSoak)', () => {
    // in dev for 12m after verification, then replaced; later back for 2m
    const left = facts(
      [{ stage: 'dev', verifiedAt: at(min(1)) }],
      [
        { stage: 'dev', startedAt: at(0), endedAt: at(min(13)) },
        { stage: 'dev', startedAt: at(min(30)) },
      ],
      ['dev'],
    );
    expect(longestSoak(left, 'dev', T0 + min(32))).toEqual({ ms: min(12), ongoing: false });
    expect(freightAvailability(staging, freight, left, T0 + min(32)).available).toBe(true);

    const brief = facts([{ stage: 'dev', verifiedAt: at(0) }], [{ stage: 'dev', startedAt: at(0), endedAt: at(min(4)) }]);
    expect(freightAvailability(staging, freight, brief, T0 + min(60))).toEqual({
      available: false,
      reason:
        'verified in dev 1h ago but it stayed there only 4m before it left; needs 10m of soak there: promote it to dev again to soak longer',
    });
  });

  it('OneOf takes any one upstream stage; All needs every one', () => {
    const oneOf = stage('prod', { stages: ['staging', 'qa'] });
    const all = stage('prod', { stages: ['staging', 'qa'], availabilityStrategy: 'All' });
    const none = facts([]);
    expect(freightAvailability(oneOf, freight, none, T0).reason).toBe('not verified in staging or qa');
    expect(freightAvailability(all, freight, none, T0).reason).toBe('not verified in staging or qa (All)');

    const inQa = facts([{ stage: 'qa', verifiedAt: at(0) }]);
    expect(freightAvailability(oneOf, freight, inQa, T0 + min(5))).toEqual({ available: true, reason: 'verified in qa 5m ago' });
    expect(freightAvailability(all, freight, inQa, T0 + min(5))).toEqual({
      available: false,
      reason: 'not verified in staging (All)',
    });

    const both = facts([{ stage: 'qa', verifiedAt: at(0) }, { stage: 'staging', verifiedAt: at(min(2)) }]);
    expect(freightAvailability(all, freight, both, T0 + min(5))).toEqual({
      available: true,
      reason: 'verified in staging 3m ago; verified in qa 5m ago (All)',
    });
  });

  it('All with soak: available once the slowest upstream stage has soaked', () => {
    const all = stage('prod', { stages: ['staging', 'qa'], availabilityStrategy: 'All', requiredSoakTime: '1h' });
    const soaking = facts(
      [{ stage: 'qa', verifiedAt: at(0) }, { stage: 'staging', verifiedAt: at(min(20)) }],
      [{ stage: 'qa', startedAt: at(0) }, { stage: 'staging', startedAt: at(min(20)) }],
      ['qa', 'staging'],
    );
    expect(freightAvailability(all, freight, soaking, T0 + min(30))).toEqual({
      available: false,
      reason:
        'verified in staging 10m ago; needs 1h of soak there: available in 50m; verified in qa 30m ago; needs 1h of soak there: available in 30m (All)',
      availableAt: at(min(80)),
    });
  });

  it('approval bypasses verification and soak; direct sources take any freight of the warehouse', () => {
    const approved = facts([{ stage: 'staging', approvedAt: at(0), approvedBy: 'user:default/ada' }]);
    expect(freightAvailability(staging, freight, approved, T0 + 90_000)).toEqual({
      available: true,
      reason: 'approved for staging by user:default/ada 1m30s ago',
    });
    expect(freightAvailability(stage('dev', { direct: true }), freight, facts([]), T0)).toEqual({
      available: true,
      reason: 'dev takes freight directly from warehouse app',
    });
  });

  it('freight of a warehouse the stage does not request is never available, even approved', () => {
    const other = { alias: 'calm-owl', warehouse: 'other' };
    const approved = facts([{ stage: 'staging', approvedAt: at(0) }]);
    expect(freightAvailability(staging, other, approved, T0)).toEqual({
      available: false,
      reason: 'stage staging takes freight from warehouse app, not from warehouse other',
    });
  });
});

describe('durations in words', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [min(7), '7m'],
    [min(7) + 30_000, '7m30s'],
    [min(65), '1h5m'],
    [min(180) + 5000, '3h'],
    [min(60 * 51), '2d3h'],
  ])('%p ms is %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('longestSoak is shown as Kargo shows durations', () => {
    expect([0, 45_000, min(3), min(62) + 3000].map(goDuration)).toEqual(['0s', '45s', '3m0s', '1h2m3s']);
  });
});
