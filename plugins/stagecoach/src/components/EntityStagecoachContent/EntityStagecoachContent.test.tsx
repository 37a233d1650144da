import { alertApiRef } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import type { StagecoachApi } from '../../api';
import { stagecoachApiRef } from '../../api';
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type {
  EntityPipeline,
  Promotion,
  Stage,
  Verification,
} from '@stagecoach/plugin-stagecoach-common';
import {
  braveFox,
  calmOwl,
  devEarlierVerification,
  devVerification,
  entity,
  mockStagecoachApi,
  pipeline,
  prodDegradedReason,
  smokeLogs,
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
        // every action allowed: what a denial shows is in EntityStagecoachContent.permissions.test.tsx
        [permissionApiRef, mockApis.permission()],
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

  it("shows a stage's links and its current freight's links on its card, a failed one not as a link", async () => {
    const withLinks: EntityPipeline = {
      ...withStage('dev', {
        links: [
          {
            title: 'Argo CD app',
            url: 'https://argocd.example.com/applications/argocd/shop-dev',
          },
          { title: 'Logs', error: 'url: undefined variable "cluster"' },
        ],
      }),
      freight: [
        {
          ...braveFox,
          links: [
            {
              title: 'Release v1.2.0',
              url: 'https://github.com/acme/shop/releases/tag/v1.2.0',
            },
          ],
        },
        calmOwl,
      ],
    };
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue(withLinks),
      }),
    );
    await screen.findByTestId('stage-dev');
    const dev = stageCard('dev');
    const stageLinks = within(
      dev.getByRole('list', { name: 'Links of stage dev' }),
    );
    expect(
      stageLinks.getByRole('link', { name: /Argo CD app/ }),
    ).toHaveAttribute(
      'href',
      'https://argocd.example.com/applications/argocd/shop-dev',
    );
    expect(stageLinks.getByText('Logs').closest('a')).toBeNull();
    expect(stageLinks.getByText('Logs')).toHaveAttribute(
      'title',
      'url: undefined variable "cluster"',
    );
    expect(
      within(
        dev.getByRole('list', { name: 'Links of freight brave-fox' }),
      ).getByRole('link', { name: /Release v1.2.0/ }),
    ).toHaveAttribute(
      'href',
      'https://github.com/acme/shop/releases/tag/v1.2.0',
    );
    // stages without links have no Links section
    expect(dev.getByRole('region', { name: 'Links' })).toBeInTheDocument();
    expect(
      stageCard('staging').queryByRole('region', { name: 'Links' }),
    ).not.toBeInTheDocument();
  });

  it("lists the project's credentials by name, type and repository", async () => {
    const api = mockStagecoachApi();
    await renderTab(api);
    const table = await screen.findByRole('table', { name: 'Credentials' });
    expect(api.listProjectCredentials).toHaveBeenCalledWith('shop');
    expect(
      within(table).getByText('https://github.com/acme/shop-gitops.git'),
    ).toBeInTheDocument();
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

/** dev's verification, just queued again (a re-verification has no promotion). */
const devReverifying: Verification = {
  ...devVerification,
  id: 'v-dev-3',
  promotionId: undefined,
  phase: 'Running',
  createdBy: 'user:default/guest',
  createdAt: '2026-03-02T11:00:00Z',
  startedAt: '2026-03-02T11:00:05Z',
  finishedAt: undefined,
  metrics: [
    {
      ...devVerification.metrics[0],
      phase: 'Running',
      count: 1,
      successful: 1,
      measurements: devVerification.metrics[0].measurements.slice(0, 1),
    },
  ],
};

describe('EntityStagecoachContent: health, verification and Argo CD apps', () => {
  it("shows each stage's health, and why a degraded stage is degraded", async () => {
    await renderTab(mockStagecoachApi());
    const prod = within(
      await stageCard('prod').findByRole('region', { name: 'Health' }),
    );
    // the stage, and its app
    expect(prod.getAllByText('Degraded')).toHaveLength(2);
    // the reason of a degraded stage is on the card, not hidden in a tooltip
    expect(prod.getByText(prodDegradedReason)).toBeVisible();

    const staging = within(
      stageCard('staging').getByRole('region', { name: 'Health' }),
    );
    expect(staging.getAllByText('Progressing').length).toBeGreaterThan(0);
    expect(
      staging.getByText(
        /^app shop-staging is Progressing: Waiting for rollout/,
      ),
    ).toBeInTheDocument();

    // a healthy stage says only that, with the reason on hover
    const dev = within(
      stageCard('dev').getByRole('region', { name: 'Health' }),
    );
    expect(
      dev.queryByText('app shop-dev is Synced and Healthy'),
    ).not.toBeInTheDocument();
    expect(
      dev.getByTitle('app shop-dev is Synced and Healthy'),
    ).toHaveTextContent('Healthy');
  });

  it("lists each stage's Argo CD apps on its card, linked to Argo CD, and the others apart", async () => {
    await renderTab(mockStagecoachApi());
    const devApps = within(
      await stageCard('dev').findByRole('list', {
        name: 'Argo CD apps of dev',
      }),
    ).getAllByRole('listitem');
    // shop-dev is both checked for health and driven by dev: listed once
    expect(devApps).toHaveLength(1);
    expect(devApps[0]).toHaveTextContent('Synced');
    expect(
      within(devApps[0]).getByRole('link', { name: /shop-dev/ }),
    ).toHaveAttribute(
      'href',
      'https://argocd.example.com/applications/argocd/shop-dev',
    );

    const prodApps = within(
      stageCard('prod').getByRole('list', { name: 'Argo CD apps of prod' }),
    ).getAllByRole('listitem');
    expect(prodApps).toHaveLength(1);
    expect(prodApps[0]).toHaveTextContent('shop-prod');
    expect(within(prodApps[0]).getByText('Degraded')).toBeInTheDocument();
    // the stage's health reason already says why the app is degraded
    expect(prodApps[0]).not.toHaveTextContent('progress deadline');

    const staging = within(
      stageCard('staging').getByRole('list', {
        name: 'Argo CD apps of staging',
      }),
    );
    expect(staging.getByText('OutOfSync')).toBeInTheDocument();

    // shop-docs is the entity's but no stage drives it
    const others = within(
      screen.getByRole('list', { name: 'Argo CD apps not driven by a stage' }),
    );
    expect(others.getAllByRole('listitem')).toHaveLength(1);
    expect(others.getByText('shop-docs')).toBeInTheDocument();
    expect(others.queryByRole('link')).not.toBeInTheDocument();
    expect(
      screen.getByText('Not driven by a stage of shop'),
    ).toBeInTheDocument();
    for (const name of ['dev', 'staging', 'prod']) {
      expect(stageCard(name).queryByText('shop-docs')).not.toBeInTheDocument();
    }
  });

  it("says per app what is wrong when the stage's reason does not", async () => {
    const prod = pipeline.stages[2];
    const second = {
      name: 'shop-prod-worker',
      namespace: 'argocd',
      cluster: 'prod-eu',
      sync: 'OutOfSync',
      health: 'Missing',
      status: 'Unknown' as const,
      reason: 'app shop-prod-worker has not synced revision 8e2d1b4 yet',
    };
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue(
          withStage('prod', {
            health: {
              ...prod.health!,
              reason: '2 of 2 apps are not healthy',
              apps: [...prod.health!.apps, second],
            },
          }),
        ),
      }),
    );
    const apps = within(
      await stageCard('prod').findByRole('list', {
        name: 'Argo CD apps of prod',
      }),
    ).getAllByRole('listitem');
    expect(apps).toHaveLength(2);
    expect(apps[0]).toHaveTextContent(
      'Deployment "shop" exceeded its progress deadline',
    );
    expect(apps[1]).toHaveTextContent('Missing');
    expect(apps[1]).toHaveTextContent(
      'app shop-prod-worker has not synced revision 8e2d1b4 yet',
    );
  });

  it('shows an app the entity annotates beside its stage even before any health check', async () => {
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest
          .fn()
          .mockResolvedValue(withStage('dev', { health: undefined })),
      }),
    );
    const health = within(
      await stageCard('dev').findByRole('region', { name: 'Health' }),
    );
    expect(health.getByText('Not checked yet.')).toBeInTheDocument();
    expect(health.getByRole('link', { name: /shop-dev/ })).toBeInTheDocument();
  });

  it('warns when the Argo CD apps could not be read, and still shows the stages', async () => {
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue({
          ...pipeline,
          apps: [],
          appsError:
            'cluster prod-eu is unreachable (connect ECONNREFUSED 10.0.0.5:6443): check stagecoach.kubernetes.clusters',
        }),
      }),
    );
    expect(
      await screen.findByText(/Could not read the Argo CD apps/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/cluster prod-eu is unreachable/),
    ).toBeInTheDocument();
    expect(screen.getByTestId('stage-prod')).toBeInTheDocument();
    expect(
      screen.queryByRole('list', {
        name: 'Argo CD apps not driven by a stage',
      }),
    ).not.toBeInTheDocument();
  });

  it('sums up the last verification of each stage in one line', async () => {
    await renderTab(mockStagecoachApi());
    const prod = within(
      await stageCard('prod').findByRole('region', { name: 'Verification' }),
    );
    expect(prod.getByText('Failed')).toBeInTheDocument();
    expect(prod.getByText('calm-owl')).toBeInTheDocument();
    expect(
      prod.getByText('2 metrics: error-rate ✓ 3/3, smoke ✗ 1 failed'),
    ).toBeInTheDocument();
    expect(
      prod.getByText(
        'metric "smoke" failed: 1 failed measurement (failureLimit 0)',
      ),
    ).toBeInTheDocument();
    expect(
      prod.getByText(/^finished .* took 3m 10s · by user:default\/ada$/),
    ).toBeInTheDocument();

    const dev = within(
      stageCard('dev').getByRole('region', { name: 'Verification' }),
    );
    expect(dev.getByText('Successful')).toBeInTheDocument();
    expect(
      dev.getByText('2 metrics: error-rate ✓ 3/3, smoke ✓ 1/1'),
    ).toBeInTheDocument();
    // finished verifications can be run again, not aborted
    expect(
      dev.getByRole('button', { name: 'Verify brave-fox in dev again' }),
    ).toBeEnabled();
    expect(
      dev.queryByRole('button', { name: /^Abort the verification/ }),
    ).not.toBeInTheDocument();
  });

  it('says a stage without analysis templates is verified by being healthy', async () => {
    await renderTab(mockStagecoachApi());
    const staging = within(
      await stageCard('staging').findByRole('region', { name: 'Verification' }),
    );
    // staging is still progressing
    expect(
      staging.getByText(
        'No analysis to run: freight is verified here once the stage is healthy.',
      ),
    ).toBeInTheDocument();
    expect(staging.queryByRole('button')).not.toBeInTheDocument();
  });

  it('says so once a stage without analysis templates is healthy', async () => {
    await renderTab(
      mockStagecoachApi({
        getEntityPipeline: jest.fn().mockResolvedValue(
          withStage('staging', {
            health: {
              status: 'Healthy',
              reason: 'app shop-staging is Synced and Healthy',
              checkedAt: '2026-03-02T10:09:00Z',
              apps: [],
            },
          }),
        ),
      }),
    );
    const staging = within(
      await stageCard('staging').findByRole('region', { name: 'Verification' }),
    );
    expect(
      staging.getByText(
        'calm-owl is verified here: the stage is healthy and has no analysis to run.',
      ),
    ).toBeInTheDocument();
  });

  it('verifies a stage again, shows the new verification and refreshes quickly while it runs', async () => {
    jest.useFakeTimers({ advanceTimers: true });
    // no promotion is running, so only the verification makes the page live
    const idle = withStage('staging', { lastPromotion: undefined });
    const reverified = withStage('dev', { verification: devReverifying }, idle);
    const finished = withStage(
      'dev',
      {
        verification: {
          ...devReverifying,
          phase: 'Successful',
          finishedAt: '2026-03-02T11:02:05Z',
          metrics: devVerification.metrics,
        },
      },
      idle,
    );
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValueOnce(idle)
        .mockResolvedValueOnce(reverified)
        .mockResolvedValue(finished),
      reverify: jest
        .fn()
        .mockResolvedValue({ ...devReverifying, phase: 'Pending' }),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup({ advanceTimers: jest.advanceTimersByTime });

    expect(
      await screen.findByRole('button', {
        name: 'Verify brave-fox in dev again',
      }),
    ).toBeInTheDocument();
    expect(screen.queryByText(/updating live/)).not.toBeInTheDocument();
    await user.click(
      screen.getByRole('button', { name: 'Verify brave-fox in dev again' }),
    );

    expect(api.reverify).toHaveBeenCalledWith('shop', 'dev');
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: 'Verification of brave-fox in dev started',
        severity: 'success',
      }),
    );
    const dev = () =>
      within(stageCard('dev').getByRole('region', { name: 'Verification' }));
    await waitFor(() => expect(dev().getByText('Running')).toBeInTheDocument());
    expect(
      dev().getByText('1 metric: error-rate ⋯ 1 measured'),
    ).toBeInTheDocument();
    expect(
      screen.getByText('verification in progress, updating live'),
    ).toBeInTheDocument();
    // while it runs it can be aborted, not started again
    expect(
      dev().getByRole('button', {
        name: 'Abort the verification of brave-fox in dev',
      }),
    ).toBeInTheDocument();
    expect(
      dev().queryByRole('button', { name: /^Verify/ }),
    ).not.toBeInTheDocument();

    const loads = api.getEntityPipeline.mock.calls.length;
    await act(async () => {
      await jest.advanceTimersByTimeAsync(3000);
    });
    await waitFor(() =>
      expect(dev().getByText('Successful')).toBeInTheDocument(),
    );
    expect(api.getEntityPipeline.mock.calls.length).toBeGreaterThan(loads);
    expect(screen.queryByText(/updating live/)).not.toBeInTheDocument();
  });

  it('shows why a stage cannot be verified again (409)', async () => {
    const message =
      'stage dev has no freight to verify: promote freight to it first';
    const api = mockStagecoachApi({
      reverify: jest.fn().mockRejectedValue(await conflict(message)),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    const button = await screen.findByRole('button', {
      name: 'Verify brave-fox in dev again',
    });
    await user.click(button);
    await waitFor(() =>
      expect(alertApi.post).toHaveBeenCalledWith({
        message: `Could not verify dev again: ${message}`,
        severity: 'error',
      }),
    );
    await waitFor(() => expect(button).toBeEnabled());
    expect(
      within(
        stageCard('dev').getByRole('region', { name: 'Verification' }),
      ).getByText('Successful'),
    ).toBeInTheDocument();
  });

  it('aborts a running verification and shows it aborted', async () => {
    const aborted: Verification = {
      ...devReverifying,
      phase: 'Aborted',
      message: 'aborted by user:default/guest',
      abortRequestedBy: 'user:default/guest',
      finishedAt: '2026-03-02T11:00:30Z',
    };
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValueOnce(
          withStage('dev', { verification: devReverifying }),
        )
        .mockResolvedValue(withStage('dev', { verification: aborted })),
      abortVerification: jest.fn().mockResolvedValue(aborted),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    await user.click(
      await stageCard('dev').findByRole('button', {
        name: 'Abort the verification of brave-fox in dev',
      }),
    );
    expect(api.abortVerification).toHaveBeenCalledWith('shop', 'dev');
    expect(alertApi.post).toHaveBeenCalledWith(
      expect.objectContaining({
        message: 'Verification of brave-fox in dev aborted',
      }),
    );
    const dev = within(
      stageCard('dev').getByRole('region', { name: 'Verification' }),
    );
    expect(
      await dev.findByText('aborted by user:default/guest'),
    ).toBeInTheDocument();
    expect(dev.getByText('Aborted')).toBeInTheDocument();
    expect(
      dev.queryByRole('button', { name: /^Abort/ }),
    ).not.toBeInTheDocument();
  });

  it('says why a verification could not be aborted (403)', async () => {
    const api = mockStagecoachApi({
      getEntityPipeline: jest
        .fn()
        .mockResolvedValue(withStage('dev', { verification: devReverifying })),
      abortVerification: jest
        .fn()
        .mockRejectedValue(
          await forbidden('not allowed to stagecoach.stage.verify'),
        ),
    });
    const alertApi = { post: jest.fn() };
    await renderTab(api, alertApi);
    const user = userEvent.setup();

    await user.click(
      await stageCard('dev').findByRole('button', {
        name: 'Abort the verification of brave-fox in dev',
      }),
    );
    await waitFor(() =>
      expect(alertApi.post).toHaveBeenCalledWith({
        message:
          'Could not abort the verification of brave-fox in dev: not allowed to stagecoach.stage.verify',
        severity: 'error',
      }),
    );
    expect(
      within(
        stageCard('dev').getByRole('region', { name: 'Verification' }),
      ).getByText('Running'),
    ).toBeInTheDocument();
  });

  it('opens a verification in full: each metric, its measurements and job logs', async () => {
    const api = mockStagecoachApi();
    await renderTab(api);
    const user = userEvent.setup();

    await user.click(
      await stageCard('prod').findByRole('button', {
        name: 'Details of the verification of calm-owl in prod',
      }),
    );
    const dialog = within(
      await screen.findByRole('dialog', { name: 'Verification in prod' }),
    );
    expect(
      dialog.getByText(
        'metric "smoke" failed: 1 failed measurement (failureLimit 0)',
      ),
    ).toBeInTheDocument();
    expect(dialog.getByText(/analysis error-rate, smoke/)).toBeInTheDocument();

    const errorRate = within(
      dialog.getByRole('region', { name: 'Metric error-rate' }),
    );
    expect(errorRate.getByText('prometheus')).toBeInTheDocument();
    // the metric and its three measurements
    expect(errorRate.getAllByText('Successful')).toHaveLength(4);
    expect(
      errorRate.getByText(
        '3 successful · 0 failed · 0 inconclusive · 0 error of 3',
      ),
    ).toBeInTheDocument();
    const errorRows = within(
      errorRate.getByRole('table', { name: 'Measurements of error-rate' }),
    ).getAllByRole('row');
    expect(errorRows).toHaveLength(4); // the header and three measurements
    expect(errorRows[1]).toHaveTextContent('Successful');
    expect(errorRows[1]).toHaveTextContent('[0.0004]');
    expect(
      Array.from(errorRows[1].querySelectorAll('time')).map(t =>
        t.getAttribute('datetime'),
      ),
    ).toEqual(['2026-03-01T11:01:00Z', '2026-03-01T11:01:00.090Z']);

    const smoke = within(dialog.getByRole('region', { name: 'Metric smoke' }));
    expect(smoke.getByText('job')).toBeInTheDocument();
    expect(smoke.getAllByText('Failed').length).toBeGreaterThan(0);
    expect(
      smoke.getByText(
        '0 successful · 1 failed · 0 inconclusive · 0 error of 1',
      ),
    ).toBeInTheDocument();
    const smokeRows = within(
      smoke.getByRole('table', { name: 'Measurements of smoke' }),
    ).getAllByRole('row');
    expect(smokeRows[1]).toHaveTextContent(
      'job shop-smoke-v-prod-1 failed: BackoffLimitExceeded',
    );
    expect(smokeRows[1]).toHaveTextContent('job: shop-smoke-v-prod-1');
    const logs = smoke.getByLabelText('Logs of measurement 1 of smoke');
    expect(logs.tagName).toBe('PRE');
    expect(logs.textContent).toBe(smokeLogs);
    // logs are the job's output, not one more line of details
    expect(smokeRows[1]).not.toHaveTextContent('logs:');

    await user.click(dialog.getByRole('button', { name: 'Close' }));
    await waitFor(() =>
      expect(screen.queryByRole('dialog')).not.toBeInTheDocument(),
    );
  });

  it("lists the stage's earlier verifications in the details and opens one", async () => {
    const api = mockStagecoachApi();
    await renderTab(api);
    const user = userEvent.setup();

    await user.click(
      await stageCard('dev').findByRole('button', {
        name: 'Details of the verification of brave-fox in dev',
      }),
    );
    const dialog = within(
      await screen.findByRole('dialog', { name: 'Verification in dev' }),
    );
    expect(api.listVerifications).toHaveBeenCalledWith('shop', 'dev', 20);
    const history = within(
      await dialog.findByRole('list', { name: 'History' }),
    );
    const items = history.getAllByRole('button');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveAttribute('aria-current', 'true');
    expect(items[0]).toHaveTextContent('brave-fox');
    expect(items[1]).toHaveTextContent('Failed');
    expect(items[1]).toHaveTextContent('calm-owl');
    expect(items[1]).toHaveTextContent('1 metric: error-rate ✗ 1 failed');
    // the job logs of the newest one
    expect(
      dialog.getByLabelText('Logs of measurement 1 of smoke'),
    ).toHaveTextContent('2 checks passed');

    await user.click(items[1]);
    expect(api.getVerification).toHaveBeenCalledWith(
      'shop',
      devEarlierVerification.id,
    );
    expect(
      await dialog.findByText(devEarlierVerification.message!),
    ).toBeInTheDocument();
    const rows = within(
      dialog.getByRole('table', { name: 'Measurements of error-rate' }),
    ).getAllByRole('row');
    expect(rows).toHaveLength(2);
    expect(rows[1]).toHaveTextContent('[0.18]');
    expect(rows[1]).toHaveTextContent(
      'result [0.18] did not meet the condition result[0] < 0.01',
    );
    expect(
      dialog.queryByRole('region', { name: 'Metric smoke' }),
    ).not.toBeInTheDocument();
    expect(history.getAllByRole('button')[1]).toHaveAttribute(
      'aria-current',
      'true',
    );
  });
});
