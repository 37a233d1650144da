import type {
  EntityPipeline,
  StageHealthStatus,
  VerificationPhase,
} from '@stagecoach/plugin-stagecoach-common';
import { shortVersions, type ShortVersion } from '../shared/format';

/** A warehouse of the pipeline: where freight comes from. */
export interface WarehouseNode {
  id: string;
  kind: 'warehouse';
  name: string;
  /** How many artifacts it subscribes to; undefined when the pipeline does not list it. */
  subscriptions?: number;
}

/** A stage of the pipeline with what it runs and how that is doing. */
export interface StageNode {
  id: string;
  kind: 'stage';
  name: string;
  /** The alias of its current freight. */
  alias?: string;
  versions: ShortVersion[];
  health?: StageHealthStatus;
  verification?: VerificationPhase;
}

export type PipelineNode = WarehouseNode | StageNode;

/** Freight flows `from` → `to` (ids of nodes). */
export interface PipelineEdge {
  from: string;
  to: string;
}

export interface PipelineGraphData {
  nodes: PipelineNode[];
  edges: PipelineEdge[];
}

export const warehouseNodeId = (name: string) => `warehouse:${name}`;
export const stageNodeId = (name: string) => `stage:${name}`;

/**
 * The pipeline as a graph: every warehouse and every stage a node, an edge wherever a stage
 * requests freight (from its warehouse when direct, from each upstream stage otherwise).
 * Warehouses a stage names that the pipeline does not list still get a node; upstream stages
 * that do not exist get no edge (an edge needs both ends).
 */
export function pipelineGraph(pipeline: EntityPipeline): PipelineGraphData {
  const warehouses = new Map<string, WarehouseNode>();
  for (const w of pipeline.warehouses ?? []) {
    warehouses.set(w.name, {
      id: warehouseNodeId(w.name),
      kind: 'warehouse',
      name: w.name,
      subscriptions: w.subscriptions.length,
    });
  }
  const stageNames = new Set(pipeline.stages.map(s => s.name));
  const freightById = new Map(pipeline.freight.map(f => [f.id, f]));
  const edges: PipelineEdge[] = [];
  const seen = new Set<string>();
  const addEdge = (from: string, to: string) => {
    const key = `${from}\n${to}`;
    if (seen.has(key) || from === to) return;
    seen.add(key);
    edges.push({ from, to });
  };

  const stages: StageNode[] = pipeline.stages.map(stage => {
    const id = stageNodeId(stage.name);
    for (const requested of stage.requestedFreight) {
      if (requested.sources.direct) {
        const name = requested.origin.name;
        if (!warehouses.has(name)) {
          warehouses.set(name, {
            id: warehouseNodeId(name),
            kind: 'warehouse',
            name,
          });
        }
        addEdge(warehouseNodeId(name), id);
      }
      for (const upstream of requested.sources.stages) {
        if (stageNames.has(upstream)) addEdge(stageNodeId(upstream), id);
      }
    }
    const current = stage.currentFreight
      ? freightById.get(stage.currentFreight.id)
      : undefined;
    return {
      id,
      kind: 'stage',
      name: stage.name,
      alias: stage.currentFreight?.alias,
      versions: current ? shortVersions(current) : [],
      health: stage.health?.status,
      verification: stage.verification?.phase,
    };
  });

  // warehouses first, so the layout starts from them
  return { nodes: [...warehouses.values(), ...stages], edges };
}

/** A string that changes exactly when the graph would draw differently. */
export function graphSignature(graph: PipelineGraphData): string {
  return JSON.stringify(graph);
}
