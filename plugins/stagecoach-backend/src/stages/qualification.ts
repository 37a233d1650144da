import type { StageSpec } from '../manifests/schemas';
import type { FreightStageRecord, FreightStay } from '../store/FreightStore';
import { parseDuration } from '../util/duration';
import { ago, formatDuration, formatWait, joinWords } from './words';

/**
 * Which freight may enter a stage (Kargo's availability rules): freight of a warehouse the
 * stage requests is available when it is approved for the stage, or the stage takes it
 * directly from the warehouse, or it is verified in one upstream stage (OneOf, the default)
 * or in every one (All) and has soaked there for `requiredSoakTime`. Approval bypasses
 * verification and soak. One function answers for promotions, freight lists and
 * auto-promotion, with the reason in words.
 */

export interface Availability {
  available: boolean;
  reason: string;
  /** When soaking alone makes it available (nothing else is missing), ISO-8601. */
  availableAt?: string;
}

/** What is known about one freight, per stage. */
export interface FreightFacts {
  records: ReadonlyMap<string, FreightStageRecord>;
  /** Its stays per stage, oldest first. */
  stays: ReadonlyMap<string, readonly FreightStay[]>;
  /** Stages it is in now (their current freight). */
  currentlyIn: ReadonlySet<string>;
}

export interface Soak {
  ms: number;
  /** Whether the stay that soaked longest is still going on. */
  ongoing: boolean;
}

/**
 * Kargo's longestSoak: the longest the freight has stayed in the stage since it was
 * verified there, whether that stay goes on or it has left since.
 */
export function longestSoak(facts: FreightFacts, stage: string, now: number): Soak | undefined {
  const verifiedAt = facts.records.get(stage)?.verifiedAt;
  if (!verifiedAt) return undefined;
  const v = Date.parse(verifiedAt);
  let stays = facts.stays.get(stage) ?? [];
  // freight can be in a stage without a promotion on record (rows written before history was kept)
  if (stays.length === 0 && facts.currentlyIn.has(stage)) stays = [{ freightId: '', stage, startedAt: verifiedAt }];
  let best: Soak = { ms: 0, ongoing: false };
  for (const stay of stays) {
    const start = Math.max(Date.parse(stay.startedAt), v);
    const ongoing = stay.endedAt === undefined;
    const end = ongoing ? now : Date.parse(stay.endedAt!);
    const ms = Math.max(0, end - start);
    if (ms > best.ms || (ms === best.ms && ongoing)) best = { ms, ongoing };
  }
  return best;
}

type Requested = StageSpec['requestedFreight'][number];

interface UpstreamVerdict {
  stage: string;
  ok: boolean;
  /** Verified in that stage: the words say how long ago and how it soaked. */
  verified: boolean;
  text: string;
  /** Soaking there will make it ok at this time. */
  readyAt?: number;
}

function judgeUpstream(facts: FreightFacts, up: string, requiredMs: number, now: number): UpstreamVerdict {
  const verifiedAt = facts.records.get(up)?.verifiedAt;
  if (!verifiedAt) return { stage: up, ok: false, verified: false, text: `not verified in ${up}` };
  const since = `verified in ${up} ${ago(now - Date.parse(verifiedAt))}`;
  if (requiredMs <= 0) return { stage: up, ok: true, verified: true, text: since };
  const soak = longestSoak(facts, up, now)!;
  const needs = formatDuration(requiredMs);
  if (soak.ms >= requiredMs) {
    return { stage: up, ok: true, verified: true, text: `${since}, soaked there ${formatDuration(soak.ms)} (needs ${needs})` };
  }
  if (soak.ongoing) {
    const left = requiredMs - soak.ms;
    return {
      stage: up,
      ok: false,
      verified: true,
      text: `${since}; needs ${needs} of soak there: available in ${formatWait(left)}`,
      readyAt: now + left,
    };
  }
  return {
    stage: up,
    ok: false,
    verified: true,
    text: `${since} but it stayed there only ${formatDuration(soak.ms)} before it left; needs ${needs} of soak there: promote it to ${up} again to soak longer`,
  };
}

/** Whether freight may enter a stage now, and why (not). */
export function freightAvailability(
  stage: { name: string; spec: Pick<StageSpec, 'requestedFreight'> },
  freight: { alias: string; warehouse: string },
  facts: FreightFacts,
  now: number,
): Availability {
  const requested = stage.spec.requestedFreight.find(r => r.origin.name === freight.warehouse);
  if (!requested) {
    const origins = joinWords(stage.spec.requestedFreight.map(r => r.origin.name));
    return {
      available: false,
      reason: `stage ${stage.name} takes freight from warehouse ${origins}, not from warehouse ${freight.warehouse}`,
    };
  }
  const approval = facts.records.get(stage.name);
  if (approval?.approvedAt) {
    const by = approval.approvedBy ? ` by ${approval.approvedBy}` : '';
    return { available: true, reason: `approved for ${stage.name}${by} ${ago(now - Date.parse(approval.approvedAt))}` };
  }
  if (requested.sources.direct) {
    return { available: true, reason: `${stage.name} takes freight directly from warehouse ${freight.warehouse}` };
  }
  return upstreamAvailability(requested, facts, now);
}

function upstreamAvailability(requested: Requested, facts: FreightFacts, now: number): Availability {
  const upstream = requested.sources.stages ?? [];
  const requiredMs = requested.sources.requiredSoakTime ? parseDuration(requested.sources.requiredSoakTime) : 0;
  const verdicts = upstream.map(up => judgeUpstream(facts, up, requiredMs, now));
  const all = requested.sources.availabilityStrategy === 'All';
  const iso = (t: number) => new Date(t).toISOString();

  if (!all) {
    const ok = verdicts.find(v => v.ok);
    if (ok) return { available: true, reason: ok.text };
    const soaking = verdicts.filter(v => v.readyAt !== undefined);
    return {
      available: false,
      reason: describeMissing(verdicts, ''),
      ...(soaking.length > 0 ? { availableAt: iso(Math.min(...soaking.map(v => v.readyAt!))) } : {}),
    };
  }
  if (verdicts.every(v => v.ok)) return { available: true, reason: `${verdicts.map(v => v.text).join('; ')} (All)` };
  const failing = verdicts.filter(v => !v.ok);
  const onlySoak = failing.every(v => v.readyAt !== undefined);
  return {
    available: false,
    reason: describeMissing(failing, ' (All)'),
    ...(onlySoak ? { availableAt: iso(Math.max(...failing.map(v => v.readyAt!))) } : {}),
  };
}

/** The verified stages' own words, then the unverified ones together: `not verified in staging or qa`. */
function describeMissing(verdicts: UpstreamVerdict[], suffix: string): string {
  const parts = verdicts.filter(v => v.verified).map(v => v.text);
  const unverified = verdicts.filter(v => !v.verified).map(v => v.stage);
  if (unverified.length > 0) parts.push(`not verified in ${joinWords(unverified)}`);
  return `${parts.join('; ')}${suffix}`;
}
