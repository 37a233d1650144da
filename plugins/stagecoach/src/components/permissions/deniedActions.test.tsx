import { alertApiRef } from '@backstage/core-plugin-api';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import {
  parseStageResourceRef,
  STAGECOACH_STAGE_RESOURCE_TYPE,
  type EntityPipeline,
  type Stage,
} from '@stagecoach/plugin-stagecoach-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import {
  entity,
  mockStagecoachApi,
  pipeline,
  stagingPromotion,
  stages,
} from '../../__fixtures__/pipeline';
import { stagecoachApiRef, type StagecoachApi } from '../../api';
import { EntityStagecoachContent } from '../EntityStagecoachContent';
import { PromoteDialog } from '../promotions/PromoteDialog';

/** AuthorizeResult.ALLOW | AuthorizeResult.DENY, without importing permission-common here. */
type Decision = Exclude<
  NonNullable<Parameters<typeof mockApis.permission>[0]>['authorize'],
  Function | undefined
>;
const ALLOW = 'ALLOW' as Decision;
const DENY = 'DENY' as Decision;

/**
 * As the example policy treats a project owner: every stage action is allowed except in
 * prod. (usePermission keeps its answers for the whole test file: every test here uses this
 * one policy.)
 */
const ownerOutsideProd = mockApis.permission({
  authorize: req =>
    req.permission.type === 'resource' &&
    req.permission.resourceType === STAGECOACH_STAGE_RESOURCE_TYPE &&
    parseStageResourceRef(req.resourceRef ?? '')?.stage === 'prod'
      ? DENY
      : ALLOW,
});

/** What the user reads on hover and in the accessible description of a denied prod action. */
function reason(activity: string, permission: string) {
  return `Your permissions do not allow ${activity} (${permission}). Ask the owners of project shop or a Stagecoach admin.`;
}

/**
 * Waits until the button (found again each time: it is rendered anew once the permission is
 * answered) is denied: aria-disabled, with the reason as its accessible description.
 */
async function denied(
  find: () => HTMLElement,
  activity: string,
  permission: string,
): Promise<HTMLElement> {
  await waitFor(() =>
    expect(find()).toHaveAccessibleDescription(reason(activity, permission)),
  );
  expect(find()).toHaveAttribute('aria-disabled', 'true');
  return find();
}

async function renderTab(api: StagecoachApi) {
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [stagecoachApiRef, api],
        [alertApiRef, { post: jest.fn() }],
        [permissionApiRef, ownerOutsideProd],
      ]}
    >
      <EntityProvider entity={entity}>
        <EntityStagecoachContent />
      </EntityProvider>
    </TestApiProvider>,
  );
  await screen.findByTestId('stage-prod');
}

function stageCard(name: string) {
  return within(screen.getByTestId(`stage-${name}`));
}

/** The pipeline with prod changed. */
function withProd(change: Partial<Stage>): EntityPipeline {
  return {
    ...pipeline,
    stages: pipeline.stages.map(s =>
      s.name === 'prod' ? { ...s, ...change } : s,
    ),
  };
}

describe('what a user who may not act in prod sees', () => {
  it('Promote to prod is disabled with the reason on hover; Promote to dev works', async () => {
    const api = mockStagecoachApi();
    await renderTab(api);

    const prod = await denied(
      () => stageCard('prod').getByRole('button', { name: 'Promote to prod' }),
      'promoting to prod',
      'stagecoach.promotion.create',
    );
    await userEvent.hover(prod);
    expect(await screen.findByRole('tooltip')).toHaveTextContent(
      reason('promoting to prod', 'stagecoach.promotion.create'),
    );
    await userEvent.click(prod);
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(api.listStageFreight).not.toHaveBeenCalled();

    const dev = stageCard('dev').getByRole('button', {
      name: 'Promote to dev',
    });
    await waitFor(() => expect(dev).toBeEnabled());
    expect(dev).not.toHaveAccessibleDescription();
    await userEvent.click(dev);
    expect(
      await screen.findByRole('dialog', { name: 'Promote to dev' }),
    ).toBeInTheDocument();
    expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'dev');
  });

  it("prod's other actions (verify again, abort, resume auto-promotion) are disabled with their reasons", async () => {
    const running = {
      ...stagingPromotion,
      id: 'p-prod-running',
      stage: 'prod',
    };
    const api = mockStagecoachApi({
      abortPromotion: jest
        .fn()
        .mockResolvedValue({ ...stagingPromotion, phase: 'Aborted' }),
      getEntityPipeline: jest.fn().mockResolvedValue(
        withProd({
          lastPromotion: running,
          autoPromotionEnabled: true,
          autoPromotionHolds: [
            {
              origin: { kind: 'Warehouse', name: 'shop' },
              freight: running.freight,
              promotionId: running.id,
              createdBy: 'user:default/ada',
              createdAt: '2026-03-02T11:00:00Z',
              reason: 'promoted by hand',
            },
          ],
        }),
      ),
    });
    await renderTab(api);
    const prod = stageCard('prod');

    await userEvent.click(
      await denied(
        () =>
          prod.getByRole('button', { name: 'Verify calm-owl in prod again' }),
        'verifying prod again',
        'stagecoach.stage.verify',
      ),
    );
    await userEvent.click(
      await denied(
        () =>
          prod.getByRole('button', {
            name: `Abort the promotion of ${running.freight.alias} to prod`,
          }),
        'aborting promotions to prod',
        'stagecoach.promotion.abort',
      ),
    );
    await userEvent.click(
      await denied(
        () =>
          prod.getByRole('button', { name: 'Resume auto-promotion of prod' }),
        'resuming auto-promotion of prod',
        'stagecoach.stage.auto-promotion-hold.release',
      ),
    );
    expect(api.reverify).not.toHaveBeenCalled();
    expect(api.abortPromotion).not.toHaveBeenCalled();
    expect(api.releaseAutoPromotionHold).not.toHaveBeenCalled();

    // the same actions elsewhere are allowed: staging's running promotion can be aborted
    const abortStaging = stageCard('staging').getByRole('button', {
      name: `Abort the promotion of ${stagingPromotion.freight.alias} to staging`,
    });
    await waitFor(() => expect(abortStaging).toBeEnabled());
    await userEvent.click(abortStaging);
    expect(api.abortPromotion).toHaveBeenCalledWith(
      'shop',
      stagingPromotion.id,
    );
  });

  it('in the promote dialog of prod, approving and promoting are disabled with their reasons', async () => {
    const api = mockStagecoachApi();
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [stagecoachApiRef, api],
          [permissionApiRef, ownerOutsideProd],
        ]}
      >
        <PromoteDialog
          project="shop"
          stage={stages[2]}
          onClose={jest.fn()}
          onPromoted={jest.fn()}
        />
      </TestApiProvider>,
    );
    const dialog = within(
      await screen.findByRole('dialog', { name: 'Promote to prod' }),
    );

    await dialog.findByRole('button', { name: 'Approve brave-fox for prod' });
    await userEvent.click(
      await denied(
        () =>
          dialog.getByRole('button', { name: 'Approve brave-fox for prod' }),
        'approving freight for prod',
        'stagecoach.freight.approve',
      ),
    );

    await userEvent.click(dialog.getByRole('radio', { name: /calm-owl/ }));
    await userEvent.click(
      await denied(
        () => dialog.getByRole('button', { name: 'Promote' }),
        'promoting to prod',
        'stagecoach.promotion.create',
      ),
    );
    expect(api.promote).not.toHaveBeenCalled();
    expect(api.approveFreight).not.toHaveBeenCalled();
  });
});
