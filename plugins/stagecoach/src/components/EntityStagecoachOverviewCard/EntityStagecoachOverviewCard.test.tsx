import type { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import type { StagecoachApi } from '../../api';
import { stagecoachApiRef } from '../../api';
import {
  entity,
  mockStagecoachApi,
  pipeline,
} from '../../__fixtures__/pipeline';
import { EntityStagecoachOverviewCard } from './EntityStagecoachOverviewCard';

async function renderCard(
  api: StagecoachApi,
  options: { of?: Entity; tabPath?: string } = {},
) {
  await renderInTestApp(
    <TestApiProvider apis={[[stagecoachApiRef, api]]}>
      <EntityProvider entity={options.of ?? entity}>
        <EntityStagecoachOverviewCard tabPath={options.tabPath} />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

function row(stage: string) {
  return within(screen.getByTestId(`overview-stage-${stage}`));
}

async function apiError(status: number, name: string, message: string) {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name, message },
        request: { method: 'GET', url: '/x' },
        response: { statusCode: status },
      }),
      { status, headers: { 'Content-Type': 'application/json' } },
    ),
  );
}

describe('EntityStagecoachOverviewCard', () => {
  it('shows each stage in pipeline order with the alias and short versions of what it runs', async () => {
    const api = mockStagecoachApi();
    await renderCard(api);

    const table = await screen.findByRole('table', { name: 'Stages of shop' });
    expect(api.getEntityPipeline).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'shop',
    });
    expect(
      within(table)
        .getAllByTestId(/^overview-stage-/)
        .map(e => e.getAttribute('data-testid')),
    ).toEqual([
      'overview-stage-dev',
      'overview-stage-staging',
      'overview-stage-prod',
    ]);

    // dev runs brave-fox: the commit's tag and the image tag
    const running = (stage: string) =>
      within(row(stage).getAllByRole('cell')[1]);
    expect(running('dev').getByText('brave-fox')).toBeInTheDocument();
    const devVersions = row('dev').getByLabelText('Versions in dev');
    expect(
      within(devVersions)
        .getAllByText(/./)
        .map(e => e.textContent),
    ).toEqual(['v1.2.0', '1.2.0']);
    expect(within(devVersions).getByText('1.2.0')).toHaveAttribute(
      'title',
      'ghcr.io/acme/shop:1.2.0',
    );
    // staging and prod run calm-owl: an untagged commit's short SHA and the chart's version
    for (const stage of ['staging', 'prod']) {
      const versions = row(stage).getByLabelText(`Versions in ${stage}`);
      expect(running(stage).getByText('calm-owl')).toBeInTheDocument();
      expect(within(versions).getByText('1234567')).toHaveAttribute(
        'title',
        'github.com/acme/shop@1234567',
      );
      expect(within(versions).getByText('0.9.1')).toBeInTheDocument();
    }
  });

  it('shows the health and verification of each stage', async () => {
    await renderCard(mockStagecoachApi());
    await screen.findByRole('table', { name: 'Stages of shop' });

    const cells = (stage: string) =>
      row(stage)
        .getAllByRole('cell')
        .map(c => c.textContent);
    // Stage, Running, Health, Verification, Last promotion
    expect(cells('dev')[2]).toBe('Healthy');
    expect(cells('dev')[3]).toBe('Successful');
    expect(cells('staging')[2]).toBe('Progressing');
    // staging verifies by health alone: calm-owl is verified there
    expect(cells('staging')[3]).toBe('Verified');
    expect(cells('prod')[2]).toBe('Degraded');
    expect(cells('prod')[3]).toBe('Failed');
    expect(
      row('prod').getByText('Degraded').closest('[title]'),
    ).toHaveAttribute(
      'title',
      expect.stringContaining('exceeded its progress deadline'),
    );
  });

  it("shows each stage's last promotion: phase, freight, when and by whom", async () => {
    await renderCard(mockStagecoachApi());
    await screen.findByRole('table', { name: 'Stages of shop' });

    const devCells = row('dev').getAllByRole('cell');
    expect(within(devCells[4]).getByText('Succeeded')).toBeInTheDocument();
    expect(within(devCells[4]).getByText('brave-fox')).toBeInTheDocument();
    expect(
      within(devCells[4]).getByText(
        /^finished .* ago · took 1m 12s · by user:default\/ada$/,
      ),
    ).toBeInTheDocument();
    const stagingCells = row('staging').getAllByRole('cell');
    expect(within(stagingCells[4]).getByText('Running')).toBeInTheDocument();
    expect(
      within(stagingCells[4]).getByText(/^started .* ago$/),
    ).toBeInTheDocument();
    const prodCells = row('prod').getAllByRole('cell');
    expect(within(prodCells[4]).getByText('Failed')).toBeInTheDocument();
    expect(within(prodCells[4]).getByText('calm-owl')).toBeInTheDocument();
  });

  it("links to the entity's Stagecoach tab, where the app mounts it", async () => {
    await renderCard(mockStagecoachApi());
    expect(
      await screen.findByRole('link', { name: /Open the Promotions tab/ }),
    ).toHaveAttribute('href', '/catalog/default/component/shop/stagecoach');
  });

  it('links to the tab at the path the app gives it', async () => {
    await renderCard(mockStagecoachApi(), { tabPath: '/promotions' });
    expect(
      await screen.findByRole('link', { name: /Open the Promotions tab/ }),
    ).toHaveAttribute('href', '/catalog/default/component/shop/promotions');
  });

  it('says which annotation to add when the entity names no project, and asks nothing', async () => {
    const api = mockStagecoachApi();
    await renderCard(api, {
      of: { ...entity, metadata: { name: 'plain', namespace: 'default' } },
    });
    expect(await screen.findByText(/Missing Annotation/i)).toBeInTheDocument();
    expect(screen.getAllByText('stagecoach.io/project').length).toBeGreaterThan(
      0,
    );
    expect(api.getEntityPipeline).not.toHaveBeenCalled();
  });

  it('says the pipeline may not be seen when the API refuses it (403)', async () => {
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockRejectedValue(
          await apiError(
            403,
            'NotAllowedError',
            'not allowed to read project shop',
          ),
        ),
    });
    await renderCard(api);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'You may not see the pipeline of project shop: not allowed to read project shop',
    );
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('points to the tab when the project has no pipeline yet (404)', async () => {
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockRejectedValue(
          await apiError(404, 'NotFoundError', 'project shop has no stages'),
        ),
    });
    await renderCard(api);
    expect(
      await screen.findByText(/No Stagecoach pipeline for shop yet/),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Promotions tab' }),
    ).toHaveAttribute('href', '/catalog/default/component/shop/stagecoach');
  });

  it('shows other errors in an error panel', async () => {
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockRejectedValue(
          await apiError(500, 'Error', 'database is not reachable'),
        ),
    });
    await renderCard(api);
    expect(
      await screen.findByText(/Could not load the promotion pipeline/),
    ).toBeInTheDocument();
  });

  it('says so when the project has no stages', async () => {
    await renderCard(
      mockStagecoachApi({
        getEntityPipeline: jest
          .fn()
          .mockResolvedValue({ ...pipeline, stages: [] }),
      }),
    );
    expect(
      await screen.findByText(/Project shop has no stages yet/),
    ).toBeInTheDocument();
  });

  it('shows a stage with nothing promoted yet without versions', async () => {
    await renderCard(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue({
          ...pipeline,
          stages: pipeline.stages.map(s =>
            s.name === 'prod'
              ? {
                  ...s,
                  currentFreight: undefined,
                  lastPromotion: undefined,
                  health: undefined,
                  verification: undefined,
                }
              : s,
          ),
        }),
      }),
    );
    await screen.findByRole('table', { name: 'Stages of shop' });
    expect(row('prod').queryByLabelText('Versions in prod')).toBeNull();
    expect(
      row('prod').getByTitle('Nothing promoted here yet'),
    ).toBeInTheDocument();
    expect(row('prod').getByTitle('No promotion yet')).toBeInTheDocument();
  });
});
