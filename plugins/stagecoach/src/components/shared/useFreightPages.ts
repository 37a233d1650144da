import { useCallback, useEffect, useRef, useState } from 'react';

/** One page as the freight endpoints answer it. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** A freight list read a page at a time. */
export interface FreightPages<T> {
  /** What is loaded so far, in the server's order; undefined until the first page arrives. */
  items?: T[];
  /** Whether another page follows. */
  hasMore: boolean;
  /** The first page failed (nothing to show). */
  error?: unknown;
  /** A later page failed (what was loaded stays). */
  moreError?: unknown;
  loadingMore: boolean;
  /** Reads the next page and appends it. */
  loadMore(): void;
  /** Changes loaded items in place (after an approval, say). */
  update(change: (items: T[]) => T[]): void;
}

/**
 * Reads a list a page at a time: the first page whenever `key` changes (a new search), the
 * next on `loadMore`. An answer to a request made for an older key is dropped.
 */
export function useFreightPages<T>(
  load: (cursor?: string) => Promise<Page<T>>,
  key: string,
): FreightPages<T> {
  const [items, setItems] = useState<T[]>();
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [moreError, setMoreError] = useState<unknown>();
  const [loadingMore, setLoadingMore] = useState(false);
  const generation = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const mine = ++generation.current;
    setItems(undefined);
    setCursor(undefined);
    setError(undefined);
    setMoreError(undefined);
    setLoadingMore(false);
    loadRef.current().then(
      page => {
        if (generation.current !== mine) return;
        setItems(page.items);
        setCursor(page.nextCursor);
      },
      e => generation.current === mine && setError(e),
    );
  }, [key]);

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore) return;
    const mine = generation.current;
    setLoadingMore(true);
    setMoreError(undefined);
    loadRef.current(cursor).then(
      page => {
        if (generation.current !== mine) return;
        setItems(prev => [...(prev ?? []), ...page.items]);
        setCursor(page.nextCursor);
        setLoadingMore(false);
      },
      e => {
        if (generation.current !== mine) return;
        setMoreError(e);
        setLoadingMore(false);
      },
    );
  }, [cursor, loadingMore]);

  const update = useCallback(
    (change: (current: T[]) => T[]) =>
      setItems(prev => (prev ? change(prev) : prev)),
    [],
  );

  return {
    items,
    hasMore: !!cursor,
    error,
    moreError,
    loadingMore,
    loadMore,
    update,
  };
}
