import type {
  EntityPipeline,
  Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { pipeline } from '../../__fixtures__/pipeline';
import { graphSignature, pipelineGraph } from './pipelineGraph';

describe('pipelineGraph', () => {
  it('makes every warehouse and stage a node, warehouses first', () => {
    const { nodes } = pipelineGraph(pipeline);
    expect(nodes.map(n => n.id)).toEqual([
      'warehouse:shop',
      'stage:dev',
      'stage:staging',
      'stage:prod',
    ]);
    expect(nodes[0]).toEqual({
      id: 'warehouse:shop',
      kind: 'warehouse',
      name: 'shop',
      subscriptions: 1,
    });
  });

  it('draws edges where stages request freight: direct from the warehouse, else from upstream', () => {
    expect(pipelineGraph(pipeline).edges).toEqual([
      { from: 'warehouse:shop', to: 'stage:dev' },
      { from: 'stage:dev', to: 'stage:staging' },
      { from: 'stage:staging', to: 'stage:prod' },
    ]);
  });

  it("gives each stage its current freight's alias and short versions, health and verification", () => {
    const byName = Object.fromEntries(
      pipelineGraph(pipeline).nodes.map(n => [n.name, n]),
    );
    expect(byName.dev).toMatchObject({
      kind: 'stage',
      alias: 'brave-fox',
      versions: [
        { version: 'v1.2.0', label: 'github.com/acme/shop@v1.2.0' },
        { version: '1.2.0', label: 'ghcr.io/acme/shop:1.2.0' },
      ],
      health: 'Healthy',
      verification: pipeline.stages[0].verification!.phase,
    });
    expect(byName.prod).toMatchObject({
      alias: 'calm-owl',
      versions: [{ version: '1234567' }, { version: '0.9.1' }],
      health: 'Degraded',
    });
  });

  it('fans in and out: several sources, an unlisted warehouse, no edge to a stage that does not exist', () => {
    const base = pipeline.stages[0];
    const stage = (name: string, rest: Partial<Stage>): Stage => ({
      ...base,
      name,
      currentFreight: undefined,
      health: undefined,
      verification: undefined,
      ...rest,
    });
    const origin = (name: string) => ({ kind: 'Warehouse' as const, name });
    const fanned: EntityPipeline = {
      ...pipeline,
      warehouses: [],
      stages: [
        stage('a', {
          requestedFreight: [
            { origin: origin('shop'), sources: { direct: true, stages: [] } },
          ],
        }),
        stage('b', {
          requestedFreight: [
            { origin: origin('shop'), sources: { direct: true, stages: [] } },
          ],
        }),
        stage('c', {
          requestedFreight: [
            {
              origin: origin('shop'),
              sources: { direct: false, stages: ['a', 'b', 'gone'] },
            },
            { origin: origin('docs'), sources: { direct: true, stages: [] } },
          ],
        }),
      ],
    };
    const graph = pipelineGraph(fanned);
    expect(graph.nodes.map(n => n.id)).toEqual([
      'warehouse:shop',
      'warehouse:docs',
      'stage:a',
      'stage:b',
      'stage:c',
    ]);
    expect(graph.nodes[0]).toEqual({
      id: 'warehouse:shop',
      kind: 'warehouse',
      name: 'shop',
    });
    expect(graph.edges).toEqual([
      { from: 'warehouse:shop', to: 'stage:a' },
      { from: 'warehouse:shop', to: 'stage:b' },
      { from: 'stage:a', to: 'stage:c' },
      { from: 'stage:b', to: 'stage:c' },
      { from: 'warehouse:docs', to: 'stage:c' },
    ]);
    expect(graph.nodes.find(n => n.name === 'c')).toMatchObject({
      alias: undefined,
      versions: [],
    });
  });

  it('has the same signature for an equal pipeline and a new one when something shown changes', () => {
    const again = JSON.parse(JSON.stringify(pipeline)) as EntityPipeline;
    expect(graphSignature(pipelineGraph(again))).toBe(
      graphSignature(pipelineGraph(pipeline)),
    );
    const degraded: EntityPipeline = {
      ...pipeline,
      stages: pipeline.stages.map(s =>
        s.name === 'dev'
          ? { ...s, health: { ...s.health!, status: 'Degraded' } }
          : s,
      ),
    };
    expect(graphSignature(pipelineGraph(degraded))).not.toBe(
      graphSignature(pipelineGraph(pipeline)),
    );
  });
});
