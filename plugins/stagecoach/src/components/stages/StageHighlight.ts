import { createContext, useContext, useEffect, useRef } from 'react';

/** The stage chosen elsewhere in the tab (say, in the pipeline graph), whose card to show. */
export interface StageHighlight {
  stage?: string;
  /** Changes on every choice, so choosing the same stage again scrolls to it again. */
  seq: number;
}

export const StageHighlightContext = createContext<StageHighlight>({ seq: 0 });

/**
 * Whether the card of `stage` is the chosen one; when it becomes chosen, the element behind
 * the returned ref is scrolled into view and focused.
 */
export function useStageHighlight<T extends HTMLElement>(stage: string) {
  const { stage: chosen, seq } = useContext(StageHighlightContext);
  const highlighted = chosen === stage;
  const ref = useRef<T>(null);
  useEffect(() => {
    if (!highlighted || !ref.current) return;
    // jsdom has no scrollIntoView
    ref.current.scrollIntoView?.({ behavior: 'smooth', block: 'nearest' });
    ref.current.focus({ preventScroll: true });
  }, [highlighted, seq]);
  return { highlighted, ref };
}
