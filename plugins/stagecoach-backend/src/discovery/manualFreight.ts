import { z } from 'zod';
import { InputError, ServiceUnavailableError } from '@backstage/errors';
import { describeIssue } from '../manifests/describeIssue';
import { formatPath } from '../manifests/problems';
import { freightOriginSchema } from '../manifests/schemas';
import type { FreightArtifacts } from '../store/freightIdentity';
import type { StoredWarehouse } from '../store/PipelineStore';
import { redactSecrets } from '../util/secrets';
import type { ListedEntry, SubscriptionKind } from './SubscriptionKind';
import type { Subscribers, SubscriptionKinds } from './SubscriptionKinds';
import type { SubscriptionContext } from './types';

/*
 * Freight assembled by hand (`POST /projects/{p}/freight`): one artifact per subscription
 * of a warehouse, each one the warehouse has discovered (listed in its status). What differs
 * by kind (how a request names an artifact, how it is found in the listing) is the kind's
 * (SubscriptionKind.manual).
 */

/** A request to assemble freight, checked: the artifacts it asks for, by kind. */
export interface ParsedCreateFreightRequest {
  origin: z.infer<typeof freightOriginSchema>;
  alias?: string;
  /** By the kind's freight field (`commits`): the requested artifacts, as its requestSchema reads them. */
  artifacts: Record<string, unknown[]>;
}

/** Validates a request body; an InputError names the path of every problem. */
export function parseCreateFreightRequest(
  body: unknown,
  kinds: SubscriptionKinds,
): ParsedCreateFreightRequest {
  // the kinds' lists between origin and alias, in their order, as the request is documented
  const schema = z
    .object({
      origin: freightOriginSchema,
      ...Object.fromEntries(
        kinds.all.map(k => [
          k.field,
          z.array(k.manual.requestSchema).default([]),
        ]),
      ),
      alias: z.string({ invalid_type_error: 'must be a string' }).optional(),
    })
    .strict();
  const parsed = schema.safeParse(body);
  if (parsed.success) {
    const { origin, alias, ...artifacts } = parsed.data as {
      origin: ParsedCreateFreightRequest['origin'];
      alias?: string;
    } & Record<string, unknown[]>;
    return { origin, alias, artifacts };
  }
  const problems = parsed.error.issues.map(
    i => `${formatPath('', i.path) || 'the body'}: ${describeIssue(i)}`,
  );
  const shape = kinds.all
    .map(k => `"${k.field}": ${k.manual.requestShape}`)
    .join(', ');
  throw new InputError(
    `the request is not valid: ${problems.join(
      '; ',
    )}. Send {"origin": {"kind": "Warehouse", "name": "<warehouse>"}, ${shape}}`,
  );
}

interface Slot {
  index: number;
  kind: SubscriptionKind;
  sub: { repoURL: string };
  /** What discovery listed for the subscription; undefined when that is unknown or stale. */
  listed?: ListedEntry[];
  /** The request's artifact for it: where in the request, what it asked for, the listed entry it matched. */
  taken?: { path: string; requested: unknown; entry: ListedEntry };
  /** A request artifact was meant for it (found or not). */
  tried?: boolean;
}

const SHOWN = 5;

function describeSlot(slot: Slot): string {
  return `subscriptions[${slot.index}] (${slot.kind.name} ${slot.kind.describe(
    slot.sub,
  )})`;
}

export interface AssembleOptions {
  kinds: SubscriptionKinds;
  /** The kinds' subscribers: a listed entry that lacks something (an image's digest) is resolved by its own. */
  subscribers: Subscribers;
  /** How to ask for a new discovery, for messages. */
  refreshHint: string;
  /** The project and its credentials, for subscribers that look an entry up (an image's digest). */
  context?: SubscriptionContext;
}

/**
 * The artifacts of freight assembled by hand: each request artifact matched to a
 * subscription of the warehouse and to an entry of what that subscription discovered,
 * completed by its subscriber when the listing lacks something (an image's digest). Every
 * problem with the request is an InputError that names the artifact and what the warehouse
 * has discovered instead.
 */
export async function assembleFreight(
  warehouse: StoredWarehouse,
  request: ParsedCreateFreightRequest,
  options: AssembleOptions,
): Promise<FreightArtifacts> {
  const { kinds } = options;
  const slots = discoveredSlots(warehouse, kinds);
  const problems: string[] = [];
  const where = `warehouse "${warehouse.name}"`;
  const summary = (slot: Slot) => {
    if (!slot.listed) {
      return warehouse.row.discovered_json
        ? `its subscriptions changed since its last discovery, so it has no current listing for ${describeSlot(
            slot,
          )}`
        : `it has not discovered anything yet`;
    }
    if (slot.listed.length === 0)
      return `it has discovered nothing for ${describeSlot(slot)}`;
    const shown = slot.listed
      .slice(0, SHOWN)
      .map(e => slot.kind.listedLabel(e));
    const more =
      slot.listed.length > SHOWN
        ? ` and ${slot.listed.length - SHOWN} more`
        : '';
    return `it has discovered ${shown.join(', ')}${more} for ${describeSlot(
      slot,
    )}`;
  };

  /** Finds the subscription and the listed entry one requested artifact is. */
  const place = (kind: SubscriptionKind, path: string, requested: unknown) => {
    const { manual } = kind;
    const what = manual.describe(requested);
    const candidates = slots.filter(
      s => s.kind === kind && manual.belongs(requested, s.sub),
    );
    if (candidates.length === 0) {
      const subs = slots.map(s => `${s.kind.name} ${s.sub.repoURL}`).join(', ');
      problems.push(
        `${path}: ${where} has no ${kind.name} subscription for ${manual.source(
          requested,
        )}; its subscriptions: ${subs}`,
      );
      return;
    }
    const free = candidates.filter(s => !s.taken);
    if (free.length === 0) {
      const taken = candidates[0];
      taken.tried = true;
      problems.push(
        `${path}: ${describeSlot(
          taken,
        )} already has an artifact in the request (${
          taken.taken!.path
        }); freight holds exactly one artifact per subscription`,
      );
      return;
    }
    for (const slot of free) {
      const found = manual.match(requested, slot.listed ?? []);
      if (found.ambiguous) {
        slot.tried = true;
        problems.push(`${path}: ${what} ${found.ambiguous}`);
        return;
      }
      if (found.entries.length > 0) {
        slot.taken = { path, requested, entry: found.entries[0] };
        return;
      }
    }
    const slot = free[0];
    slot.tried = true;
    const hint = manual.match(requested, slot.listed ?? []).hint;
    problems.push(
      `${path}: ${what} has not been discovered by ${where}: ${summary(slot)}${
        hint ? ` (${hint})` : ''
      }. ` +
        `If it was pushed recently, ${options.refreshHint}, wait for the discovery to finish, and try again`,
    );
  };

  for (const kind of kinds.all) {
    (request.artifacts[kind.field] ?? []).forEach((requested, i) =>
      place(kind, `${kind.field}[${i}]`, requested),
    );
  }

  const missing = slots.filter(s => !s.taken && !s.tried);
  if (missing.length > 0) {
    problems.push(
      `freight from ${where} needs one artifact for each of its ${
        slots.length
      } subscription${slots.length === 1 ? '' : 's'}; ` +
        `the request has none for ${missing.map(describeSlot).join(', ')}`,
    );
  }
  if (problems.length > 0)
    throw new InputError(`cannot assemble freight: ${problems.join('; ')}`);

  const artifacts = kinds.emptyArtifacts();
  for (const slot of slots) {
    (artifacts[slot.kind.field] ??= []).push(await complete(slot, options, where));
  }
  return artifacts;
}

/** The subscriptions of the warehouse with what each discovered (when that listing is current). */
function discoveredSlots(
  warehouse: StoredWarehouse,
  kinds: SubscriptionKinds,
): Slot[] {
  let discovered: unknown[] = [];
  // the hash is cleared when the subscriptions change: the listing is then of the old ones
  if (
    warehouse.row.discovered_json &&
    warehouse.row.observed_refs_hash !== null
  ) {
    try {
      const parsed = JSON.parse(warehouse.row.discovered_json);
      if (Array.isArray(parsed)) discovered = parsed;
    } catch {
      // unreadable: nothing is known to be discovered
    }
  }
  return warehouse.spec.subscriptions.map((s, index) => {
    const { kind, sub } = kinds.of(s);
    const listing = (
      discovered[index] as
        | Record<string, { repoURL?: unknown; artifacts?: unknown }>
        | undefined
    )?.[kind.name];
    const current =
      listing &&
      listing.repoURL === sub.repoURL &&
      Array.isArray(listing.artifacts);
    return {
      index,
      kind,
      sub,
      listed: current ? (listing.artifacts as ListedEntry[]) : undefined,
    };
  });
}

/** The listed entry as a freight artifact, asking its subscriber for what the listing lacks. */
async function complete(
  slot: Slot,
  options: AssembleOptions,
  where: string,
): Promise<unknown> {
  const { kind, sub } = slot;
  const { path, requested, entry } = slot.taken!;
  let artifact: ListedEntry | undefined = { repoURL: sub.repoURL, ...entry };
  if (!kind.manual.isComplete(entry)) {
    const subscriber = options.subscribers.get(kind.name);
    if (!subscriber?.resolve) {
      throw new InputError(
        `${path}: ${where} lists ${kind.listedLabel(
          entry,
        )} without what freight needs (such as a digest), and this backend cannot look it up; choose an entry listed completely`,
      );
    }
    try {
      artifact = (await subscriber.resolve(sub, entry, options.context)) as
        | ListedEntry
        | undefined;
    } catch (e) {
      throw new ServiceUnavailableError(
        `${path}: could not look up ${kind.listedLabel(entry)} of ${
          sub.repoURL
        }: ${redactSecrets(e instanceof Error ? e.message : String(e))}`,
      );
    }
    if (!artifact) {
      throw new InputError(
        `${path}: ${kind.listedLabel(entry)} of ${
          sub.repoURL
        } was discovered, but the source no longer has it` +
          `${
            kind.manual.goneHint ?? ''
          }; refresh the warehouse to see what it has now`,
      );
    }
  }
  const problem = kind.manual.confirm?.(requested, artifact, sub);
  if (problem) throw new InputError(`${path}: ${problem}`);
  return artifact;
}
