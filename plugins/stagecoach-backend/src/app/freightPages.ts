import { InputError } from '@backstage/errors';
import type { PolicyContext, StagePolicies } from '../stages/StagePolicies';
import {
  decodeFreightCursor,
  encodeFreightCursor,
  FreightCursor,
} from '../store/freightCursor';
import type { StoredFreight } from '../store/FreightStore';
import type { StoredStage } from '../store/PipelineStore';

/**
 * What freight could enter a stage, for the database to narrow a scan: every freight of a
 * warehouse the stage takes directly, and otherwise only freight approved for it or verified
 * upstream. Availability itself (soak, `All`) is judged on what this lets through.
 */
export function mayEnterFilter(stage: StoredStage): {
  stage: string;
  directWarehouses: string[];
  upstream: string[];
} {
  const requested = stage.spec.requestedFreight;
  return {
    stage: stage.name,
    directWarehouses: requested
      .filter(r => r.sources.direct)
      .map(r => r.origin.name),
    upstream: [...new Set(requested.flatMap(r => r.sources.stages ?? []))],
  };
}

/** Freight per page when the request names no `limit`. */
export const FREIGHT_PAGE_DEFAULT = 50;
/** The most freight one page holds. */
export const FREIGHT_PAGE_MAX = 200;

/** What a request asks of a page: its size and where it starts. */
export interface FreightPageRequest {
  limit?: number;
  cursor?: string;
}

/** A page's size from the request: the default when absent, an InputError naming `limit` out of bounds. */
export function freightPageLimit(limit: number | undefined): number {
  if (limit === undefined) return FREIGHT_PAGE_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > FREIGHT_PAGE_MAX) {
    throw new InputError(
      `limit must be an integer from 1 to ${FREIGHT_PAGE_MAX} (freight per page)`,
    );
  }
  return limit;
}

/** The cursor a request passes, read (an InputError naming `cursor` when it is not one this API gave). */
export function freightPageCursor(
  cursor: string | undefined,
): FreightCursor | undefined {
  return cursor === undefined ? undefined : decodeFreightCursor(cursor);
}

/** Freight of one page, each with the policy context its view is built from. */
export interface CollectedPage {
  items: { freight: StoredFreight; ctx: PolicyContext }[];
  nextCursor?: string;
}

/**
 * Reads freight a batch at a time from `after` on and keeps what `keep` accepts (judged in
 * the batch's policy context), until the page holds `limit` and one more is known to follow,
 * or the freight runs out. `nextCursor` is the last kept freight's key when more follows.
 */
export async function collectFreightPage(options: {
  project: string;
  policies: StagePolicies;
  limit: number;
  after?: FreightCursor;
  read: (
    after: FreightCursor | undefined,
    limit: number,
  ) => Promise<StoredFreight[]>;
  keep?: (f: StoredFreight, ctx: PolicyContext) => boolean;
  /** The project's stages, read once for every batch's context. */
  stages?: StoredStage[];
}): Promise<CollectedPage> {
  const { project, policies, limit, keep } = options;
  const items: CollectedPage['items'] = [];
  let after = options.after;
  // without a filter of its own, one read of limit + 1 tells whether more follows
  const batch = keep ? Math.max(limit * 2, 200) : limit + 1;
  for (;;) {
    const rows = await options.read(after, batch);
    if (rows.length === 0) break;
    const ctx = await policies.context(project, {
      freightIds: rows.map(f => f.id),
      ...(options.stages ? { stages: options.stages } : {}),
    });
    for (const f of rows) {
      if (keep && !keep(f, ctx)) continue;
      if (items.length === limit) {
        const last = items[items.length - 1].freight;
        return {
          items,
          nextCursor: encodeFreightCursor({
            createdAt: last.createdAt,
            id: last.id,
          }),
        };
      }
      items.push({ freight: f, ctx });
    }
    if (rows.length < batch) break;
    const tail = rows[rows.length - 1];
    after = { createdAt: tail.createdAt, id: tail.id };
  }
  return { items };
}
