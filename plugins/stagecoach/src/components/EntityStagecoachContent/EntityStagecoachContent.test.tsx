import { alertApiRef } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { StagecoachApi } from '../../api';
import { stagecoachApiRef } from '../../api';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type {
  EntityPipeline,
  Promotion,
  Stage,
} from '@stagecoach/plugin-stagecoach-common';
import {
  braveFox,
  calmOwl,
  entity,
  mockStagecoachApi,
  pipeline,
  stageFreight,
  stagingPromotion,
  warehouse,
} from '../../__fixtures__/pipeline';
import { EntityStagecoachContent } from './EntityStagecoachContent';

async function renderTab(api: StagecoachApi, alertApi = { post: jest.fn() }) {
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [stagecoachApiRef, api],
        [alertApiRef, alertApi],
      ]}
    >
      <EntityProvider entity={entity}>
        <EntityStagecoachContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

function stageCard(name: string) {
  return within(screen.getByTestId(`stage-${name}`));
}

async function forbidden(message: string) {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name: 'NotAllowedError', message },
        request: { method: 'DELETE', url: '/x' },
        response: { statusCode: 403 },
      }),
      { status: 403, headers: { 'Content-Type': 'application/json' } },
    ),
  );
}

/** The pipeline with one stage changed. */
function withStage(
  name: string,
  change: Partial<Stage>,
  from: EntityPipeline = pipeline,
): EntityPipeline {
  return {
    ...from,
    stages: from.stages.map(s => (s.name === name ? { ...s, ...change } : s)),
  };
}

/** dev auto-promotes, and is on hold since calm-owl was promoted there by hand. */
const devOnHold: Partial<Stage> = {
  currentFreight: { id: calmOwl.id, alias: calmOwl.alias },
  autoPromotionEnabled: true,
  autoPromotionPolicy: 'spec.promotionPolicies[0] (stage "dev")',
  autoPromotionHolds: [
    {
      origin: { kind: 'Warehouse', name: 'shop' },
      freight: { id: calmOwl.id, alias: calmOwl.alias },
      promotionId: 'p-rollback',
      createdBy: 'user:default/ada',
      createdAt: '2026-03-02T11:00:00Z',
      reason:
        'older freight calm-owl was promoted by hand instead of the auto-promotion candidate brave-fox (a rollback)',
    },
  ],
};

async function conflict(message: string) {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name: 'ConflictError', message },
        request: { method: 'POST', url: '/x' },
        response: { statusCode: 409 },
      }),
      { status: 409, headers: { 'Content-Type': 'application/json' } },
    ),
  );
}

afterEach(() => {
  jest.useRealTimers();
});

describe('EntityStagecoachContent', () => {
  it('shows the stages in pipeline order with their freight, sources and promotion phases', async () => {
    const api = mockStagecoachApi();
    await renderTab(api);

    await screen.findByTestId('stage-dev');
    expect(api.getEntityPipeline).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'shop',
    });
    expect(
      screen.getAllByTestId(/^stage-/).map(e => e.getAttribute('data-testid')),
    ).toEqual(['stage-dev', 'stage-staging', 'stage-prod']);

    const dev = stageCard('dev');
    expect(
      dev.getByRole('heading', { name: 'dev', level: 3 }),
    ).toBeInTheDocument();
    expect(dev.getByText('direct from warehouse shop')).toBeInTheDocument();
    expect(dev.getAllByText('brave-fox').length).toBeGreaterThan(0);
    expect(dev.getByText('github.com/acme/shop@v1.2.0')).toBeInTheDocument();
    expect(dev.getByText('ghcr.io/acme/shop:1.2.0')).toBeInTheDocument();
    expect(dev.getAllByText('Succeeded').length).toBeGreaterThan(0);
    expect(
      dev.getByText(/finished .* took 1m 12s · by user:default\/ada/),
    ).toBeInTheDocument();

    const staging = stageCard('staging');
    expect(staging.getByText('upstream: dev')).toBeInTheDocument();
    // current freight is the short-sha commit and the chart of calm-owl
    expect(staging.getByText('calm-owl')).toBeInTheDocument();
    expect(
      staging.getByText('github.com/acme/shop@1234567'),
    ).toBeInTheDocument();
    expect(staging.getByText('shop:0.9.1')).toBeInTheDocument();
    expect(staging.getAllByText('Running').length).toBeGreaterThan(0);
    expect(
      screen.getByText(/promotion in progress, updating live/),
    ).toBeInTheDocument();

    const prod = stageCard('prod');
    expect(prod.getByText('upstream: staging')).toBeInTheDocument();
    expect(prod.getAllByText('Failed').length).toBeGreaterThan(0);
    expect(
      prod.getByText('step "push" failed: remote rejected the push'),
    ).toBeInTheDocument();
  });

  it('shows the progress of each step of the last promotion', async () => {
    await renderTab(mockStagecoachApi());
    await screen.findByTestId('stage-staging');

    const steps = within(
      stageCard('staging').getByRole('list', {
        name: 'Steps of the promotion of brave-fox to staging',
      }),
    ).getAllByRole('listitem');
    expect(steps).toHaveLength(3);
    expect(steps[0]).toHaveTextContent('clone');
    expect(steps[0]).toHaveTextContent('git-clone');
    expect(steps[0]).toHaveTextContent('Succeeded');
    expect(steps[0]).toHaveTextContent('2s');
    expect(steps[1]).toHaveTextContent('set-image');
    expect(steps[1]).toHaveTextContent('Running');
    expect(steps[2]).toHaveTextContent('push');
    expect(steps[2]).toHaveTextContent('Pending');
  });

  it('lists all freight with the stages it is in', async () => {
    await renderTab(mockStagecoachApi());
    const table = await screen.findByRole('table', { name: 'Freight' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('brave-fox');
    expect(rows[0]).toHaveTextContent('dev');
    expect(rows[1]).toHaveTextContent('calm-owl');
    expect(within(rows[1]).getByText('staging')).toBeInTheDocument();
    expect(within(rows[1]).getByText('prod')).toBeInTheDocument();
    expect(within(rows[1]).getByText('verified in dev')).toBeInTheDocument();
  });

  it('promotes the chosen freight and shows the new promotion', async () => {
    const created: Promotion = {
      ...stagingPromotion,
      id: 'p-new',
      phase: 'Pending',
      createdAt: new Date().toISOString(),
      startedAt: undefined,
      steps: [
        { index: 0, uses: 'git-clone', alias: 'clone', status: 'Pending' },
      ],
    };
    const api = mockStagecoachApi({
      promote: jest.fn().mockResolvedValue(created),
      getPromotion: jest.fn().mockResolvedValue(created),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    await user.click(
      await screen.findByRole('button', { name: 'Promote to staging' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Promote to staging',
    });
    expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'staging');

    const confirm = within(dialog).getByRole('button', { name: 'Promote' });
    expect(confirm).toBeDisabled();
    const radios = await within(dialog).findAllByRole('radio');
    expect(radios).toHaveLength(2);
    expect(
      within(dialog).getByRole('radio', { name: /calm-owl/ }),
    ).toBeInTheDocument();

    await user.click(within(dialog).getByRole('radio', { name: /brave-fox/ }));
    expect(confirm).toBeEnabled();
    await user.click(confirm);

    expect(api.promote).toHaveBeenCalledWith('shop', 'staging', braveFox.id);
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: 'Promotion of brave-fox to staging queued',
      }),
    );
    // the staging card now shows the queued promotion rather than the older running one
    const staging = stageCard('staging');
    expect(staging.getByText(/^queued/)).toBeInTheDocument();
    expect(staging.getAllByText('Pending').length).toBeGreaterThan(0);
    expect(staging.queryByText('set-image')).not.toBeInTheDocument();
  });

  it('aborts the running promotion from its stage card and says so', async () => {
    const aborted: Promotion = {
      ...stagingPromotion,
      phase: 'Aborted',
      message: 'aborted by user:default/guest',
      finishedAt: new Date().toISOString(),
    };
    const afterAbort = {
      ...pipeline,
      stages: pipeline.stages.map(s =>
        s.name === 'staging' ? { ...s, lastPromotion: aborted } : s,
      ),
    };
    const api = mockStagecoachApi({
      // the first load shows the running promotion; the reload after the abort, the aborted one
      getEntityPipeline: jest
        .fn()
        .mockResolvedValueOnce(pipeline)
        .mockResolvedValue(afterAbort),
      abortPromotion: jest.fn().mockResolvedValue(aborted),
      getPromotion: jest.fn().mockResolvedValue(aborted),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    const staging = stageCard('staging');
    // only an active promotion can be aborted: dev's finished one offers no button
    expect(
      stageCard('dev').queryByRole('button', { name: /^Abort/ }),
    ).not.toBeInTheDocument();
    await user.click(
      await staging.findByRole('button', {
        name: `Abort the promotion of ${stagingPromotion.freight.alias} to staging`,
      }),
    );
    expect(api.abortPromotion).toHaveBeenCalledWith(
      'shop',
      stagingPromotion.id,
    );
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: `Promotion of ${stagingPromotion.freight.alias} to staging aborted`,
      }),
    );
    expect(
      await staging.findByText('aborted by user:default/guest'),
    ).toBeInTheDocument();
    expect(
      staging.queryByRole('button', { name: /^Abort/ }),
    ).not.toBeInTheDocument();
  });

  it('shows why the API refused a promotion, and keeps the dialog open', async () => {
    const message =
      'freight brave-fox has not been promoted successfully to "dev" yet';
    const api = mockStagecoachApi({
      promote: jest.fn().mockRejectedValue(await conflict(message)),
    });
    await renderTab(api);
    const user = userEvent.setup();

    await user.click(
      await screen.findByRole('button', { name: 'Promote to staging' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Promote to staging',
    });
    await user.click(
      await within(dialog).findByRole('radio', { name: /brave-fox/ }),
    );
    await user.click(within(dialog).getByRole('button', { name: 'Promote' }));

    expect(await within(dialog).findByRole('alert')).toHaveTextContent(message);
    expect(
      screen.getByRole('dialog', { name: 'Promote to staging' }),
    ).toBeInTheDocument();
  });

  it('explains when no freight can enter a stage yet', async () => {
    const api = mockStagecoachApi({
      listStageFreight: jest
        .fn()
        .mockResolvedValue({ stage: 'prod', items: [] }),
    });
    await renderTab(api);
    const user = userEvent.setup();

    await user.click(
      await screen.findByRole('button', { name: 'Promote to prod' }),
    );
    const dialog = await screen.findByRole('dialog', {
      name: 'Promote to prod',
    });
    expect(
      await within(dialog).findByText(
        'No freight can enter prod yet: it takes freight only after a successful promotion in staging.',
      ),
    ).toBeInTheDocument();
    expect(within(dialog).queryByRole('radio')).not.toBeInTheDocument();
    expect(
      within(dialog).getByRole('button', { name: 'Promote' }),
    ).toBeDisabled();

    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
    expect(api.promote).not.toHaveBeenCalled();
  });

  it('marks a stage that auto-promotes, with the policy that enables it in a tooltip', async () => {
    const user = userEvent.setup();
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue(
          withStage('dev', {
            autoPromotionEnabled: true,
            autoPromotionPolicy: 'spec.promotionPolicies[0] (stage "dev")',
            autoPromotionHolds: [],
          }),
        ),
      }),
    );
    const indicator = await stageCard('dev').findByText('auto-promotion');
    expect(
      stageCard('staging').queryByText('auto-promotion'),
    ).not.toBeInTheDocument();
    // no hold, nothing to resume
    expect(
      stageCard('dev').queryByRole('button', { name: /Resume/ }),
    ).not.toBeInTheDocument();

    await user.hover(indicator);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(
      'Auto-promotion enabled by spec.promotionPolicies[0] (stage "dev")',
    );
  });

  it('shows who paused auto-promotion and why, and resumes it', async () => {
    const resumed = withStage('dev', {
      ...devOnHold,
      autoPromotionHolds: [],
    }).stages[0];
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValueOnce(withStage('dev', devOnHold))
        .mockResolvedValue(withStage('dev', resumed)),
      releaseAutoPromotionHold: jest.fn().mockResolvedValue(resumed),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    const notice = within(
      await stageCard('dev').findByRole('status', {
        name: 'Auto-promotion of dev paused',
      }),
    );
    expect(notice.getByText('Auto-promotion paused')).toBeInTheDocument();
    expect(
      notice.getByText(
        'older freight calm-owl was promoted by hand instead of the auto-promotion candidate brave-fox (a rollback)',
      ),
    ).toBeInTheDocument();
    expect(notice.getByText(/^by user:default\/ada /)).toBeInTheDocument();

    await user.click(
      notice.getByRole('button', { name: 'Resume auto-promotion of dev' }),
    );
    expect(api.releaseAutoPromotionHold).toHaveBeenCalledWith(
      'shop',
      'dev',
      'shop',
    );
    await waitFor(() =>
      expect(
        stageCard('dev').queryByText('Auto-promotion paused'),
      ).not.toBeInTheDocument(),
    );
    expect(stageCard('dev').getByText('auto-promotion')).toBeInTheDocument();
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: 'Auto-promotion of dev resumed',
        severity: 'success',
      }),
    );
  });

  it('names the warehouse of each hold when a stage has several', async () => {
    const holds = devOnHold.autoPromotionHolds!;
    const api = mockStagecoachApi({
      getEntityPipeline: jest.fn().mockResolvedValue(
        withStage('dev', {
          ...devOnHold,
          autoPromotionHolds: [
            ...holds,
            {
              ...holds[0],
              origin: { kind: 'Warehouse', name: 'shop-config' },
            },
          ],
        }),
      ),
      releaseAutoPromotionHold: jest.fn().mockResolvedValue(pipeline.stages[0]),
    });
    await renderTab(api);
    const user = userEvent.setup();

    await user.click(
      await stageCard('dev').findByRole('button', {
        name: 'Resume auto-promotion of dev for warehouse shop-config',
      }),
    );
    expect(api.releaseAutoPromotionHold).toHaveBeenCalledWith(
      'shop',
      'dev',
      'shop-config',
    );
  });

  it('says why auto-promotion could not be resumed, and keeps the hold', async () => {
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValue(withStage('dev', devOnHold)),
      releaseAutoPromotionHold: jest
        .fn()
        .mockRejectedValue(
          await forbidden(
            'not allowed to stagecoach.stage.auto-promotion-hold.release',
          ),
        ),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    const resume = await stageCard('dev').findByRole('button', {
      name: 'Resume auto-promotion of dev',
    });
    await user.click(resume);

    await waitFor(() =>
      expect(alertApi.post).toHaveBeenCalledWith({
        message:
          'Could not resume auto-promotion of dev: not allowed to stagecoach.stage.auto-promotion-hold.release',
        severity: 'error',
      }),
    );
    expect(
      stageCard('dev').getByText('Auto-promotion paused'),
    ).toBeInTheDocument();
    await waitFor(() => expect(resume).toBeEnabled());
  });

  it('approves freight for a stage from the promote dialog, and the freight table says so', async () => {
    const approved = { ...braveFox, approvedFor: ['prod'] };
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValueOnce(pipeline)
        .mockResolvedValue({ ...pipeline, freight: [approved, calmOwl] }),
      listStageFreight: jest
        .fn()
        .mockResolvedValueOnce(stageFreight('prod'))
        .mockResolvedValue({
          stage: 'prod',
          items: [
            {
              freight: approved,
              available: true,
              reason: 'approved for prod by user:default/guest just now',
            },
            stageFreight('prod').items[1],
          ],
        }),
      approveFreight: jest.fn().mockResolvedValue(approved),
    });
    await renderTab(api);
    const user = userEvent.setup();

    await user.click(
      await screen.findByRole('button', { name: 'Promote to prod' }),
    );
    const dialog = within(
      await screen.findByRole('dialog', { name: 'Promote to prod' }),
    );
    expect(
      await dialog.findByRole('radio', { name: /brave-fox/ }),
    ).toBeDisabled();
    await user.click(
      dialog.getByRole('button', { name: 'Approve brave-fox for prod' }),
    );

    expect(api.approveFreight).toHaveBeenCalledWith(
      'shop',
      braveFox.id,
      'prod',
    );
    await waitFor(() =>
      expect(dialog.getByRole('radio', { name: /brave-fox/ })).toBeEnabled(),
    );
    await user.click(dialog.getByRole('button', { name: 'Cancel' }));
    const table = screen.getByRole('table', { name: 'Freight' });
    expect(
      await within(table).findByText('approved for prod'),
    ).toBeInTheDocument();
  });

  it('warns when discovery for a warehouse fails, with the reason', async () => {
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue({
          ...pipeline,
          warehouses: [
            {
              ...warehouse,
              status: {
                lastError:
                  'discovery failed (attempt 2, next try in 20s): registry answered 401 for ghcr.io/acme/shop: check the credentials for ghcr.io',
              },
            },
          ],
        }),
      }),
    );
    expect(
      await screen.findByText(/Discovery for warehouse shop needs attention/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/check the credentials for ghcr.io/),
    ).toBeInTheDocument();
  });

  it('explains how to apply manifests when the project has no stages', async () => {
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue({
          project: 'shop',
          stages: [],
          freight: [],
          warehouses: [],
        }),
      }),
    );
    expect(
      await screen.findByText('Project shop has no stages yet'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('PUT /api/stagecoach/projects/shop/manifests'),
    ).toBeInTheDocument();
  });

  it('shows the server error when the pipeline cannot be loaded', async () => {
    const error = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: { name: 'Error', message: 'database is unavailable' },
          request: { method: 'GET', url: '/x' },
          response: { statusCode: 500 },
        }),
        { status: 500, headers: { 'Content-Type': 'application/json' } },
      ),
    );
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockRejectedValue(error),
      }),
    );
    expect(
      await screen.findByText(/Could not load the promotion pipeline/),
    ).toBeInTheDocument();
    expect(
      screen.getAllByText(/database is unavailable/).length,
    ).toBeGreaterThan(0);
  });

  it('refreshes every few seconds while a promotion runs, so progress is live', async () => {
    jest.useFakeTimers({ advanceTimers: true });
    const finished = {
      ...pipeline,
      stages: pipeline.stages.map(s =>
        s.name === 'staging'
          ? {
              ...s,
              lastPromotion: {
                ...stagingPromotion,
                phase: 'Succeeded' as const,
                finishedAt: '2026-03-02T10:08:00Z',
                steps: stagingPromotion.steps.map(step => ({
                  ...step,
                  status: 'Succeeded' as const,
                })),
              },
            }
          : s,
      ),
    };
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValueOnce(pipeline)
        .mockResolvedValue(finished),
    });
    await renderTab(api);
    await screen.findByTestId('stage-staging');
    expect(stageCard('staging').getAllByText('Running').length).toBeGreaterThan(
      0,
    );

    await act(async () => {
      await jest.advanceTimersByTimeAsync(3000);
    });

    await waitFor(() =>
      expect(
        stageCard('staging').queryByText('Running'),
      ).not.toBeInTheDocument(),
    );
    expect(api.getEntityPipeline).toHaveBeenCalledTimes(2);
    expect(screen.queryByText(/updating live/)).not.toBeInTheDocument();
  });
});
