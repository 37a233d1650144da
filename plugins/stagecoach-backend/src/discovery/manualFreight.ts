import { z } from 'zod';
import { InputError, ServiceUnavailableError } from '@backstage/errors';
import type { Chart, GitCommit, Image } from '@stagecoach/plugin-stagecoach-common';
import { parseImageRepository } from '../integrations/registry/imageReference';
import { describeIssue } from '../manifests/describeIssue';
import { formatPath } from '../manifests/problems';
import {
  ChartSubscription,
  freightOriginSchema,
  GitSubscription,
  ImageSubscription,
  subscriptionKind,
} from '../manifests/schemas';
import type { StoredWarehouse } from '../store/PipelineStore';
import { redactSecrets } from '../util/secrets';
import type { Subscribers } from './DiscoveryService';
import type { FreightArtifacts } from '../store/freightIdentity';
import { normalizeGitURL } from '../util/gitUrl';
import type { Subscriber } from './types';

/*
 * Freight assembled by hand (`POST /projects/{p}/freight`): one artifact per subscription
 * of a warehouse, each one the warehouse has discovered (listed in its status).
 */

const text = (what: string) => z.string({ invalid_type_error: `must be ${what}` }).min(1, `must be ${what}`);

const commitSchema = z
  .object({
    repoURL: text('the repository URL'),
    id: z
      .string()
      .regex(/^[0-9a-fA-F]{7,64}$/, 'must be a commit SHA, or at least its first 7 characters')
      .optional(),
    tag: text('a tag name').optional(),
  })
  .strict()
  .refine(c => c.id !== undefined || c.tag !== undefined, { message: "needs the commit's id, its tag, or both" });

const imageSchema = z
  .object({
    repoURL: text('the image repository, such as ghcr.io/acme/api'),
    tag: text('a tag name').optional(),
    digest: z
      .string()
      .regex(/^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/, 'must be a digest such as sha256:0123…')
      .optional(),
  })
  .strict()
  .refine(i => i.tag !== undefined || i.digest !== undefined, { message: "needs the image's tag, its digest, or both" });

const chartSchema = z
  .object({
    repoURL: text('the chart repository URL'),
    name: text('the chart name').optional(),
    version: text('the chart version'),
  })
  .strict();

const createFreightRequestSchema = z
  .object({
    origin: freightOriginSchema,
    commits: z.array(commitSchema).default([]),
    images: z.array(imageSchema).default([]),
    charts: z.array(chartSchema).default([]),
    alias: z.string({ invalid_type_error: 'must be a string' }).optional(),
  })
  .strict();

type ParsedRequest = z.infer<typeof createFreightRequestSchema>;

/** Validates a request body; an InputError names the path of every problem. */
export function parseCreateFreightRequest(body: unknown): ParsedRequest {
  const parsed = createFreightRequestSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(i => `${formatPath('', i.path) || 'the body'}: ${describeIssue(i)}`);
  throw new InputError(
    `the request is not valid: ${problems.join('; ')}. Send {"origin": {"kind": "Warehouse", "name": "<warehouse>"}, ` +
      '"commits": [{"repoURL", "tag" or "id"}], "images": [{"repoURL", "tag" or "digest"}], "charts": [{"repoURL", "version"}]}',
  );
}

type Kind = 'git' | 'image' | 'chart';
type AnySubscription = GitSubscription | ImageSubscription | ChartSubscription;
type Entry = Record<string, unknown>;

interface Slot {
  index: number;
  kind: Kind;
  sub: AnySubscription;
  /** What discovery listed for the subscription; undefined when that is unknown or stale. */
  listed?: Entry[];
  /** The request's artifact for it: where in the request, the listed entry it matched, the digest asked for. */
  taken?: { path: string; entry: Entry; digest?: string };
  /** A request artifact was meant for it (found or not). */
  tried?: boolean;
}

const SHOWN = 5;

function sameImageRepo(a: string, b: string): boolean {
  try {
    const x = parseImageRepository(a);
    const y = parseImageRepository(b);
    return x.registry === y.registry && x.repository === y.repository;
  } catch {
    return a.trim() === b.trim();
  }
}

function normalizeChartURL(repoURL: string): string {
  const t = repoURL.trim().replace(/\/+$/, '');
  try {
    const u = new URL(t);
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}${u.search}`;
  } catch {
    return t;
  }
}

/** Whether a request artifact of this kind, from this repository (and chart name), belongs to the subscription. */
function belongs(slot: Slot, repoURL: string, name?: string): boolean {
  if (slot.kind === 'git') return normalizeGitURL(slot.sub.repoURL) === normalizeGitURL(repoURL);
  if (slot.kind === 'image') return sameImageRepo(slot.sub.repoURL, repoURL);
  if (normalizeChartURL(slot.sub.repoURL) !== normalizeChartURL(repoURL)) return false;
  const subName = (slot.sub as ChartSubscription).name ?? slot.sub.repoURL.replace(/\/+$/, '').split('/').pop();
  return name === undefined || name === subName;
}

function describeSlot(slot: Slot): string {
  const name = slot.kind === 'chart' ? (slot.sub as ChartSubscription).name : undefined;
  return `subscriptions[${slot.index}] (${slot.kind} ${slot.sub.repoURL}${name ? ` ${name}` : ''})`;
}

function entryLabel(kind: Kind, e: Entry): string {
  if (kind === 'git') return e.tag ? `${String(e.tag)} (${String(e.id).slice(0, 7)})` : String(e.id);
  if (kind === 'image') return String(e.tag);
  return String(e.version);
}

export interface AssembleOptions {
  subscribers: Partial<Subscribers>;
  /** How to ask for a new discovery, for messages. */
  refreshHint: string;
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
  request: ParsedRequest,
  options: AssembleOptions,
): Promise<FreightArtifacts> {
  const slots = discoveredSlots(warehouse);
  const problems: string[] = [];
  const where = `warehouse "${warehouse.name}"`;
  const summary = (slot: Slot) => {
    if (!slot.listed) {
      return warehouse.row.discovered_json
        ? `its subscriptions changed since its last discovery, so it has no current listing for ${describeSlot(slot)}`
        : `it has not discovered anything yet`;
    }
    if (slot.listed.length === 0) return `it has discovered nothing for ${describeSlot(slot)}`;
    const shown = slot.listed.slice(0, SHOWN).map(e => entryLabel(slot.kind, e));
    const more = slot.listed.length > SHOWN ? ` and ${slot.listed.length - SHOWN} more` : '';
    return `it has discovered ${shown.join(', ')}${more} for ${describeSlot(slot)}`;
  };

  const place = (
    kind: Kind,
    path: string,
    what: string,
    repoURL: string,
    name: string | undefined,
    match: (listed: Entry[]) => { entries: Entry[]; ambiguous?: string; hint?: string },
    digest?: string,
  ) => {
    const candidates = slots.filter(s => s.kind === kind && belongs(s, repoURL, name));
    if (candidates.length === 0) {
      const subs = slots.map(s => `${s.kind} ${s.sub.repoURL}`).join(', ');
      problems.push(`${path}: ${where} has no ${kind} subscription for ${repoURL}${name ? ` (chart ${name})` : ''}; its subscriptions: ${subs}`);
      return;
    }
    const free = candidates.filter(s => !s.taken);
    if (free.length === 0) {
      const taken = candidates[0];
      taken.tried = true;
      problems.push(
        `${path}: ${describeSlot(taken)} already has an artifact in the request (${taken.taken!.path}); freight holds exactly one artifact per subscription`,
      );
      return;
    }
    for (const slot of free) {
      const found = match(slot.listed ?? []);
      if (found.ambiguous) {
        slot.tried = true;
        problems.push(`${path}: ${what} ${found.ambiguous}`);
        return;
      }
      if (found.entries.length > 0) {
        slot.taken = { path, entry: found.entries[0], digest };
        return;
      }
    }
    const slot = free[0];
    slot.tried = true;
    const hint = match(slot.listed ?? []).hint;
    problems.push(
      `${path}: ${what} has not been discovered by ${where}: ${summary(slot)}${hint ? ` (${hint})` : ''}. ` +
        `If it was pushed recently, ${options.refreshHint}, wait for the discovery to finish, and try again`,
    );
  };

  request.commits.forEach((c, i) => {
    const what = `${c.tag ? `tag "${c.tag}"` : `commit ${c.id}`}${c.tag && c.id ? ` at commit ${c.id}` : ''} of ${c.repoURL}`;
    place('git', `commits[${i}]`, what, c.repoURL, undefined, listed => {
      const id = c.id?.toLowerCase();
      const entries = listed.filter(
        e => (!id || String(e.id).toLowerCase().startsWith(id)) && (!c.tag || e.tag === c.tag),
      );
      const tags = [...new Set(entries.map(e => String(e.tag)))];
      if (!c.tag && tags.length > 1) {
        return { entries, ambiguous: `is discovered under several tags (${tags.join(', ')}): name the tag too` };
      }
      return { entries };
    });
  });

  request.images.forEach((img, i) => {
    const what = `image ${img.repoURL}${img.tag ? `:${img.tag}` : ''}${img.digest ? `@${img.digest}` : ''}`;
    place('image', `images[${i}]`, what, img.repoURL, undefined, listed => {
      const entries = listed.filter(
        e =>
          (!img.tag || e.tag === img.tag) &&
          // a listed tag without its digest is checked once resolved
          (!img.digest || (e.digest === undefined ? img.tag !== undefined : e.digest === img.digest)),
      );
      const tags = [...new Set(entries.map(e => String(e.tag)))];
      if (!img.tag && tags.length > 1) {
        return { entries, ambiguous: `is discovered under several tags (${tags.join(', ')}): name the tag too` };
      }
      const hint =
        !img.tag && listed.some(e => e.digest === undefined)
          ? 'the listing shows most tags without their digest: name the tag'
          : undefined;
      return { entries, hint };
    }, img.digest);
  });

  request.charts.forEach((c, i) => {
    const what = `chart ${c.repoURL}${c.name ? ` ${c.name}` : ''} version ${c.version}`;
    place('chart', `charts[${i}]`, what, c.repoURL, c.name, listed => ({
      entries: listed.filter(e => e.version === c.version),
    }));
  });

  const missing = slots.filter(s => !s.taken && !s.tried);
  if (missing.length > 0) {
    problems.push(
      `freight from ${where} needs one artifact for each of its ${slots.length} subscription${slots.length === 1 ? '' : 's'}; ` +
        `the request has none for ${missing.map(describeSlot).join(', ')}`,
    );
  }
  if (problems.length > 0) throw new InputError(`cannot assemble freight: ${problems.join('; ')}`);

  const artifacts: FreightArtifacts = { commits: [], images: [], charts: [] };
  for (const slot of slots) {
    const artifact = await complete(slot, options, where);
    if (slot.kind === 'git') artifacts.commits.push(artifact as GitCommit);
    else if (slot.kind === 'image') artifacts.images.push(artifact as Image);
    else artifacts.charts.push(artifact as Chart);
  }
  return artifacts;
}

/** The subscriptions of the warehouse with what each discovered (when that listing is current). */
function discoveredSlots(warehouse: StoredWarehouse): Slot[] {
  let discovered: unknown[] = [];
  // the hash is cleared when the subscriptions change: the listing is then of the old ones
  if (warehouse.row.discovered_json && warehouse.row.observed_refs_hash !== null) {
    try {
      const parsed = JSON.parse(warehouse.row.discovered_json);
      if (Array.isArray(parsed)) discovered = parsed;
    } catch {
      // unreadable: nothing is known to be discovered
    }
  }
  return warehouse.spec.subscriptions.map((s, index) => {
    const { kind, sub } = subscriptionKind(s);
    const listing = (discovered[index] as Record<string, { repoURL?: unknown; artifacts?: unknown }> | undefined)?.[kind];
    const current = listing && listing.repoURL === sub.repoURL && Array.isArray(listing.artifacts);
    return { index, kind, sub, listed: current ? (listing.artifacts as Entry[]) : undefined };
  });
}

function isComplete(kind: Kind, e: Entry): boolean {
  if (kind === 'git') return typeof e.id === 'string';
  if (kind === 'image') return typeof e.tag === 'string' && typeof e.digest === 'string';
  return typeof e.version === 'string';
}

/** The listed entry as a freight artifact, asking its subscriber for what the listing lacks. */
async function complete(slot: Slot, options: AssembleOptions, where: string): Promise<GitCommit | Image | Chart> {
  const { path, entry, digest: wanted } = slot.taken!;
  let artifact: Entry | undefined = { repoURL: slot.sub.repoURL, ...entry };
  if (!isComplete(slot.kind, entry)) {
    const subscriber = options.subscribers[slot.kind] as Subscriber<AnySubscription, unknown> | undefined;
    if (!subscriber?.resolve) {
      throw new InputError(
        `${path}: ${where} lists ${entryLabel(slot.kind, entry)} without what freight needs (such as a digest), and this backend cannot look it up; choose an entry listed completely`,
      );
    }
    try {
      artifact = (await subscriber.resolve(slot.sub, entry)) as Entry | undefined;
    } catch (e) {
      throw new ServiceUnavailableError(
        `${path}: could not look up ${entryLabel(slot.kind, entry)} of ${slot.sub.repoURL}: ${redactSecrets(
          e instanceof Error ? e.message : String(e),
        )}`,
      );
    }
    if (!artifact) {
      throw new InputError(
        `${path}: ${entryLabel(slot.kind, entry)} of ${slot.sub.repoURL} was discovered, but the source no longer has it` +
          `${slot.kind === 'image' ? ' (or not for the subscription\'s platform)' : ''}; refresh the warehouse to see what it has now`,
      );
    }
  }
  if (slot.kind === 'image' && wanted && artifact.digest !== wanted) {
      throw new InputError(
        `${path}: tag ${String(artifact.tag)} of ${slot.sub.repoURL} is ${String(artifact.digest)} now, not ${wanted} (pushed again?); ` +
          'name the tag alone, or refresh the warehouse',
    );
  }
  return artifact as unknown as GitCommit | Image | Chart;
}
