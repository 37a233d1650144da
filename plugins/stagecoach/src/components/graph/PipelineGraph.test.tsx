import { alertApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { renderHook, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { EntityPipeline } from '@stagecoach/plugin-stagecoach-common';
import {
  entity,
  mockStagecoachApi,
  pipeline,
} from '../../__fixtures__/pipeline';
import { stagecoachApiRef } from '../../api';
import { EntityStagecoachContent } from '../EntityStagecoachContent';
import { PipelineGraph } from './PipelineGraph';
import { usePipelineGraph } from './usePipelineGraph';

// getBBox, which jsdom lacks, is stubbed in setupTests.ts

describe('PipelineGraph', () => {
  it('draws a node for every warehouse and stage and an edge for each request of freight', async () => {
    const onSelect = jest.fn();
    await renderInTestApp(
      <PipelineGraph pipeline={pipeline} onSelect={onSelect} />,
    );
    const graph = await screen.findByTestId('graph-stage-prod');
    expect(graph).toBeInTheDocument();
    const svg = document.querySelector('svg#dependency-graph')!;
    expect(svg).toHaveAttribute('aria-label', 'Pipeline graph of shop');
    expect(within(svg as HTMLElement).getAllByTestId('node')).toHaveLength(4);
    expect(
      within(svg as HTMLElement).getByTestId('graph-warehouse-shop'),
    ).toHaveTextContent('Warehouse shop1 subscription');
    // dagre lays out the three edges: warehouse → dev → staging → prod
    await waitFor(() =>
      expect(within(svg as HTMLElement).getAllByTestId('edge')).toHaveLength(3),
    );
    // left to right: each stage is drawn right of where its freight comes from
    const x = (id: string) =>
      Number(
        /translate\(([-\d.]+),/.exec(
          screen.getByTestId(id).closest('g')!.getAttribute('transform')!,
        )![1],
      );
    await waitFor(() => {
      expect(x('graph-warehouse-shop')).toBeLessThan(x('graph-stage-dev'));
      expect(x('graph-stage-dev')).toBeLessThan(x('graph-stage-staging'));
      expect(x('graph-stage-staging')).toBeLessThan(x('graph-stage-prod'));
    });
  });

  it("shows each stage's freight, versions, health and verification", async () => {
    await renderInTestApp(
      <PipelineGraph pipeline={pipeline} onSelect={jest.fn()} />,
    );
    const dev = await screen.findByRole('button', { name: /^Stage dev:/ });
    expect(dev).toHaveTextContent('brave-fox v1.2.0, 1.2.0');
    expect(dev).toHaveTextContent('Healthy');
    expect(dev).toHaveTextContent(
      `verification ${pipeline.stages[0].verification!.phase}`,
    );
    expect(dev).toHaveAccessibleName(
      `Stage dev: freight brave-fox (v1.2.0, 1.2.0), health Healthy, verification ${
        pipeline.stages[0].verification!.phase
      }`,
    );
    const prod = screen.getByRole('button', { name: /^Stage prod:/ });
    expect(prod).toHaveTextContent('calm-owl 1234567, 0.9.1');
    expect(prod).toHaveTextContent('Degraded');
  });

  it('selects a stage by click, Enter or Space', async () => {
    const onSelect = jest.fn();
    await renderInTestApp(
      <PipelineGraph pipeline={pipeline} onSelect={onSelect} />,
    );
    await userEvent.click(
      await screen.findByRole('button', { name: /^Stage staging:/ }),
    );
    expect(onSelect).toHaveBeenLastCalledWith('staging');
    screen.getByRole('button', { name: /^Stage prod:/ }).focus();
    await userEvent.keyboard('{Enter}');
    expect(onSelect).toHaveBeenLastCalledWith('prod');
    screen.getByRole('button', { name: /^Stage dev:/ }).focus();
    await userEvent.keyboard(' ');
    expect(onSelect).toHaveBeenLastCalledWith('dev');
  });

  it('draws a pipeline of 100 stages', async () => {
    const [dev] = pipeline.stages;
    const hundred: EntityPipeline = {
      ...pipeline,
      stages: Array.from({ length: 100 }, (_, i) => ({
        ...dev,
        name: `s${i}`,
        requestedFreight: [
          {
            ...dev.requestedFreight[0],
            sources:
              i < 10
                ? { direct: true, stages: [] }
                : { direct: false, stages: [`s${i - 10}`] },
          },
        ],
      })),
    };
    await renderInTestApp(
      <PipelineGraph pipeline={hundred} onSelect={jest.fn()} />,
    );
    await screen.findByTestId('graph-stage-s99');
    expect(screen.getAllByTestId('node')).toHaveLength(101);
    await waitFor(() =>
      expect(screen.getAllByTestId('edge')).toHaveLength(100),
    );
  });

  it('keeps the same nodes and edges across polls that change nothing shown', () => {
    const { result, rerender } = renderHook(
      (p: EntityPipeline) => usePipelineGraph(p),
      { initialProps: pipeline },
    );
    const first = result.current;
    rerender(JSON.parse(JSON.stringify(pipeline)));
    expect(result.current).toBe(first);
    rerender({
      ...pipeline,
      stages: pipeline.stages.map(s =>
        s.name === 'prod'
          ? { ...s, health: { ...s.health!, status: 'Healthy' } }
          : s,
      ),
    });
    expect(result.current).not.toBe(first);
  });
});

describe('the pipeline graph in the Promotions tab', () => {
  it("stands above the stage cards, and selecting a stage highlights and focuses that stage's card", async () => {
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [stagecoachApiRef, mockStagecoachApi()],
          [alertApiRef, { post: jest.fn() }],
          [permissionApiRef, mockApis.permission()],
        ]}
      >
        <EntityProvider entity={entity}>
          <EntityStagecoachContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    const node = await screen.findByRole('button', { name: /^Stage staging:/ });
    const card = screen.getByTestId('stage-staging');
    expect(
      node.compareDocumentPosition(card) & Node.DOCUMENT_POSITION_FOLLOWING,
    ).toBeTruthy();
    expect(card).not.toHaveAttribute('aria-current');

    await userEvent.click(node);
    expect(card).toHaveAttribute('aria-current', 'true');
    expect(card).toHaveFocus();
    expect(screen.getByTestId('stage-dev')).not.toHaveAttribute('aria-current');

    screen.getByRole('button', { name: /^Stage prod:/ }).focus();
    await userEvent.keyboard('{Enter}');
    expect(screen.getByTestId('stage-prod')).toHaveAttribute(
      'aria-current',
      'true',
    );
    expect(card).not.toHaveAttribute('aria-current');
  });

  it('folds away', async () => {
    await renderInTestApp(
      <PipelineGraph pipeline={pipeline} onSelect={jest.fn()} />,
    );
    await screen.findByTestId('graph-stage-dev');
    await userEvent.click(
      screen.getByRole('button', { name: 'Pipeline graph' }),
    );
    await waitFor(() =>
      expect(screen.queryByTestId('graph-stage-dev')).not.toBeInTheDocument(),
    );
  });
});
