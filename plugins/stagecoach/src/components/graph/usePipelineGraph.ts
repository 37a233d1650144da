import type { EntityPipeline } from '@stagecoach/plugin-stagecoach-common';
import { useMemo, useRef } from 'react';
import {
  graphSignature,
  pipelineGraph,
  type PipelineGraphData,
} from './pipelineGraph';

/**
 * The pipeline's graph, the same object for as long as it would draw the same: each poll
 * brings a new pipeline object, and a new nodes or edges array makes the graph lay itself out
 * again, so an unchanged pipeline must not produce one.
 */
export function usePipelineGraph(pipeline: EntityPipeline): PipelineGraphData {
  const last = useRef<{ signature: string; graph: PipelineGraphData }>();
  return useMemo(() => {
    const graph = pipelineGraph(pipeline);
    const signature = graphSignature(graph);
    if (last.current?.signature === signature) return last.current.graph;
    last.current = { signature, graph };
    return graph;
  }, [pipeline]);
}
