import { useApiHolder } from '@backstage/core-plugin-api';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { useCallback, useState } from 'react';
import { stagecoachApiRef } from '../../api';
import { useFreightPages, type FreightPages } from '../shared/useFreightPages';

/** How many of the newest freight the entity pipeline carries (the backend's EntityPipelineService). */
export const PIPELINE_NEWEST_FREIGHT = 100;
/** Freight per page the table asks the server for. */
export const FREIGHT_TABLE_PAGE = 50;

/** Newest first, as the server orders freight: createdAt descending, then ID. */
function newestFirst(a: Freight, b: Freight): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/** The rows of the freight table, and how to get more. */
export interface FreightTable {
  rows: Freight[];
  /** Whether paging works here (a project and the Stagecoach API). */
  pageable: boolean;
  q: string;
  search(q: string): void;
  /** The pages of a search (while `q` is not empty). */
  searchPages: FreightPages<Freight>;
  /** More older freight than the pipeline carries. */
  hasMore: boolean;
  loadingMore: boolean;
  moreError?: unknown;
  loadMore(): void;
}

/**
 * The freight table's rows. Without a search: the pipeline's freight (its newest and those
 * the stages hold, refreshed by its poll), then older freight read from the server a page at
 * a time on `loadMore`. With a search: the server's pages for it.
 */
export function useFreightTable(
  project: string | undefined,
  live: Freight[],
  warehouses?: string[],
): FreightTable {
  const api = useApiHolder().get(stagecoachApiRef);
  const pageable = !!project && !!api;
  const warehouse = warehouses?.length === 1 ? warehouses[0] : undefined;
  const relevant = (f: Freight) =>
    !warehouses?.length || warehouses.includes(f.origin.name);
  const [q, setQ] = useState('');
  const searchPages = useFreightPages<Freight>(async cursor => {
    if (!q || !pageable) return { items: [] };
    const page = await api!.listFreight(project!, {
      q,
      limit: FREIGHT_TABLE_PAGE,
      ...(cursor ? { cursor } : {}),
      ...(warehouse ? { warehouse } : {}),
    });
    return { ...page, items: page.items.filter(relevant) };
  }, `${project}/${warehouses?.join(',')}?${q}`);

  // older freight: undefined before the first load, null when none is left
  const [older, setOlder] = useState<Freight[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>();
  const loadMore = useCallback(async () => {
    if (!pageable || loadingMore) return;
    setLoadingMore(true);
    setMoreError(undefined);
    const base = { ...(warehouse ? { warehouse } : {}) };
    try {
      let cursor = olderCursor;
      const found: Freight[] = [];
      if (cursor === undefined) {
        // the pipeline carries the newest: skip past them to where the older start
        const newest = await api!.listFreight(project!, {
          ...base,
          limit: PIPELINE_NEWEST_FREIGHT,
        });
        found.push(...newest.items);
        cursor = newest.nextCursor ?? null;
      }
      if (cursor) {
        const page = await api!.listFreight(project!, {
          ...base,
          limit: FREIGHT_TABLE_PAGE,
          cursor,
        });
        found.push(...page.items);
        cursor = page.nextCursor ?? null;
      }
      setOlder(prev => [...prev, ...found]);
      setOlderCursor(cursor);
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }, [api, project, pageable, warehouse, olderCursor, loadingMore]);

  const byId = new Map<string, Freight>();
  for (const f of older) byId.set(f.id, f);
  // the pipeline's copy is the freshest (its poll)
  for (const f of live) byId.set(f.id, f);
  const rows =
    q && pageable
      ? (searchPages.items ?? []).map(f => byId.get(f.id) ?? f)
      : [...byId.values()].filter(relevant).sort(newestFirst);
  const hasMore =
    pageable &&
    (olderCursor === undefined
      ? live.length >= PIPELINE_NEWEST_FREIGHT
      : olderCursor !== null);
  return {
    rows,
    pageable,
    q,
    search: setQ,
    searchPages,
    hasMore,
    loadingMore,
    moreError,
    loadMore: () => void loadMore(),
  };
}
