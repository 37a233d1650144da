import { ResponseError } from '@backstage/errors';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import type {
  Freight,
  Stage,
  StageFreightList,
} from '@stagecoach/plugin-stagecoach-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { stagecoachApiRef, type StagecoachApi } from '../../api';
import {
  braveFox,
  calmOwl,
  mockStagecoachApi,
  pageOf,
  stageFreight,
  stages,
} from '../../__fixtures__/pipeline';
import { PromoteDialog } from './PromoteDialog';

const [dev, , prod] = stages;

async function renderDialog(
  api: StagecoachApi,
  stage: Stage,
  handlers: { onPromoted?: jest.Mock; onApproved?: jest.Mock } = {},
) {
  const onPromoted = handlers.onPromoted ?? jest.fn();
  const onApproved = handlers.onApproved ?? jest.fn();
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [stagecoachApiRef, api],
        [permissionApiRef, mockApis.permission()],
      ]}
    >
      <PromoteDialog
        project="shop"
        stage={stage}
        onClose={jest.fn()}
        onPromoted={onPromoted}
        onApproved={onApproved}
      />
    </TestApiProvider>,
  );
  const dialog = within(
    await screen.findByRole('dialog', { name: `Promote to ${stage.name}` }),
  );
  await dialog.findAllByRole('radio');
  return { dialog, onPromoted, onApproved };
}

/** The row of one freight in the dialog: its radio button and its approve action. */
function option(alias: string) {
  return within(screen.getByTestId(`freight-option-${alias}`));
}

async function forbidden(message: string) {
  return ResponseError.fromResponse(
    new Response(
      JSON.stringify({
        error: { name: 'NotAllowedError', message },
        request: { method: 'POST', url: '/x' },
        response: { statusCode: 403 },
      }),
      { status: 403, headers: { 'Content-Type': 'application/json' } },
    ),
  );
}

function listOf(stage: string, items: StageFreightList['items']) {
  return jest.fn().mockResolvedValue({ stage, items });
}

describe('PromoteDialog', () => {
  it('lists every freight of the stage: what may not enter is disabled and says why in words', async () => {
    const api = mockStagecoachApi();
    const { dialog } = await renderDialog(api, prod);

    expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'prod');
    expect(api.getStageFreight).not.toHaveBeenCalled();
    const brave = dialog.getByRole('radio', { name: /brave-fox/ });
    const calm = dialog.getByRole('radio', { name: /calm-owl/ });
    expect(brave).toBeDisabled();
    expect(calm).toBeEnabled();
    expect(brave).toHaveAccessibleName(
      expect.stringContaining('Not available: not verified in staging'),
    );
    expect(
      dialog.getByText('Not available: not verified in staging'),
    ).toBeInTheDocument();
    expect(dialog.getByText('verified in staging 23h ago')).toBeInTheDocument();
    // some freight may enter: no "none of this freight" summary
    expect(dialog.queryByText(/None of this freight/)).not.toBeInTheDocument();
  });

  it('says when soak is missing and when the freight becomes available', async () => {
    const api = mockStagecoachApi({
      listStageFreight: listOf('prod', [
        {
          freight: braveFox,
          available: false,
          reason:
            'verified in staging 3m ago; needs 10m of soak there: available in 7m',
          availableAt: '2026-03-02T10:17:00Z',
        },
      ]),
    });
    const { dialog } = await renderDialog(api, prod);

    const reason = dialog.getByText(
      'Not available: verified in staging 3m ago; needs 10m of soak there: available in 7m',
    );
    expect(reason).toHaveAttribute(
      'title',
      `available at ${new Date('2026-03-02T10:17:00Z').toLocaleString()}`,
    );
    expect(
      dialog.getByText(
        'None of this freight can enter prod yet. Approving freight for prod lets it in without verification upstream.',
      ),
    ).toBeInTheDocument();
    expect(dialog.getByRole('button', { name: 'Promote' })).toBeDisabled();
  });

  it('marks the auto-promotion candidate', async () => {
    const api = mockStagecoachApi({
      listStageFreight: listOf('dev', [
        {
          ...stageFreight('dev').items[0],
          autoPromotionCandidate: true,
        },
        stageFreight('dev').items[1],
      ]),
    });
    await renderDialog(api, { ...dev, autoPromotionEnabled: true });

    expect(
      option('brave-fox').getByText('auto-promotion candidate'),
    ).toBeInTheDocument();
    expect(
      option('calm-owl').queryByText('auto-promotion candidate'),
    ).not.toBeInTheDocument();
  });

  it('calls freight older than the stage’s current freight a rollback', async () => {
    const user = userEvent.setup();
    const { dialog } = await renderDialog(mockStagecoachApi(), dev);

    // dev holds brave-fox; calm-owl is a day older
    await user.click(dialog.getByRole('radio', { name: /calm-owl/ }));
    expect(dialog.getByRole('status')).toHaveTextContent(
      'Rollback: calm-owl is older than brave-fox, the freight in dev now.',
    );

    await user.click(dialog.getByRole('radio', { name: /brave-fox/ }));
    expect(dialog.queryByText(/Rollback/)).not.toBeInTheDocument();
  });

  it('warns that promoting other freight than the candidate pauses auto-promotion until the hold is released', async () => {
    const user = userEvent.setup();
    const api = mockStagecoachApi({
      listStageFreight: listOf('dev', [
        { ...stageFreight('dev').items[0], autoPromotionCandidate: true },
        stageFreight('dev').items[1],
      ]),
      promote: jest.fn().mockResolvedValue({ id: 'p-roll', stage: 'dev' }),
    });
    const { dialog, onPromoted } = await renderDialog(api, {
      ...dev,
      autoPromotionEnabled: true,
    });

    await user.click(dialog.getByRole('radio', { name: /calm-owl/ }));
    const notices = dialog.getAllByRole('status').map(n => n.textContent);
    expect(notices).toEqual([
      'Rollback: calm-owl is older than brave-fox, the freight in dev now.',
      'Auto-promotion is enabled for dev: promoting calm-owl by hand pauses auto-promotion of dev until the hold is released (Resume auto-promotion on the stage card).',
    ]);
    await user.click(dialog.getByRole('button', { name: 'Promote' }));
    expect(api.promote).toHaveBeenCalledWith('shop', 'dev', calmOwl.id);
    expect(onPromoted).toHaveBeenCalledWith({ id: 'p-roll', stage: 'dev' });
  });

  it('says that promoting the candidate resumes a paused auto-promotion', async () => {
    const user = userEvent.setup();
    const api = mockStagecoachApi({
      listStageFreight: listOf('dev', [
        { ...stageFreight('dev').items[0], autoPromotionCandidate: true },
        stageFreight('dev').items[1],
      ]),
    });
    const { dialog } = await renderDialog(api, {
      ...dev,
      currentFreight: { id: calmOwl.id, alias: calmOwl.alias },
      autoPromotionEnabled: true,
      autoPromotionHolds: [
        {
          origin: { kind: 'Warehouse', name: 'shop' },
          freight: { id: calmOwl.id, alias: calmOwl.alias },
          createdAt: '2026-03-02T11:00:00Z',
          reason: 'older freight calm-owl was promoted by hand',
        },
      ],
    });

    await user.click(dialog.getByRole('radio', { name: /brave-fox/ }));
    expect(dialog.getByRole('status')).toHaveTextContent(
      'brave-fox is the auto-promotion candidate: promoting it releases the hold, and auto-promotion of dev resumes.',
    );
  });

  it('approves unavailable freight for the stage, after which it can be chosen and promoted', async () => {
    const user = userEvent.setup();
    const approved: Freight = {
      ...braveFox,
      approvedFor: ['prod'],
    };
    const api = mockStagecoachApi({
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
      promote: jest.fn().mockResolvedValue({ id: 'p-1', stage: 'prod' }),
    });
    const { dialog, onApproved } = await renderDialog(api, prod);

    // available freight needs no approval
    expect(
      option('calm-owl').queryByRole('button', { name: /Approve/ }),
    ).not.toBeInTheDocument();
    const approve = option('brave-fox').getByRole('button', {
      name: 'Approve brave-fox for prod',
    });
    expect(approve).toHaveTextContent('Approve for prod');
    await user.click(approve);

    expect(api.approveFreight).toHaveBeenCalledWith(
      'shop',
      braveFox.id,
      'prod',
    );
    const brave = dialog.getByRole('radio', { name: /brave-fox/ });
    await waitFor(() => expect(brave).toBeEnabled());
    expect(brave).toBeChecked();
    expect(
      dialog.getByText('approved for prod by user:default/guest just now'),
    ).toBeInTheDocument();
    expect(
      dialog.queryByRole('button', { name: /^Approve/ }),
    ).not.toBeInTheDocument();
    expect(onApproved).toHaveBeenCalledWith(approved);

    await user.click(dialog.getByRole('button', { name: 'Promote' }));
    expect(api.promote).toHaveBeenCalledWith('shop', 'prod', braveFox.id);
  });

  it('shows the server’s message when approving is not allowed, and keeps the freight unavailable', async () => {
    const user = userEvent.setup();
    const api = mockStagecoachApi({
      approveFreight: jest
        .fn()
        .mockRejectedValue(
          await forbidden('not allowed to stagecoach.freight.approve'),
        ),
    });
    const { dialog, onApproved } = await renderDialog(api, prod);

    await user.click(
      dialog.getByRole('button', { name: 'Approve brave-fox for prod' }),
    );

    expect(await dialog.findByRole('alert')).toHaveTextContent(
      'Could not approve brave-fox for prod: not allowed to stagecoach.freight.approve',
    );
    expect(dialog.getByRole('radio', { name: /brave-fox/ })).toBeDisabled();
    expect(
      dialog.getByRole('button', { name: 'Approve brave-fox for prod' }),
    ).toBeEnabled();
    expect(onApproved).not.toHaveBeenCalled();
    expect(api.listStageFreight).toHaveBeenCalledTimes(1);
  });

  describe('with many freight (a page at a time)', () => {
    /** 70 freight, newest first (a minute apart), every one available to dev. */
    const many: StageFreightList['items'] = Array.from(
      { length: 70 },
      (_, i) => ({
        freight: {
          ...braveFox,
          id: `f-${i}`,
          alias: `fox-${i}`,
          commits: [{ ...braveFox.commits[0], tag: `v1.${69 - i}.0` }],
          images: [],
          createdAt: new Date(
            Date.parse('2026-03-02T10:00:00Z') - i * 60_000,
          ).toISOString(),
          currentlyIn: i === 60 ? ['dev'] : [],
        },
        available: true,
        reason: i % 2 ? 'dev takes freight directly' : 'approved for dev',
      }),
    );
    const pagedApi = () =>
      mockStagecoachApi({
        listStageFreight: jest
          .fn()
          .mockImplementation(
            async (
              _p: string,
              stage: string,
              query?: { q?: string; cursor?: string; limit?: number },
            ) =>
              pageOf(
                many,
                i => i.freight,
                query,
                page => ({ stage, ...page }),
              ),
          ),
      });
    const devHoldingOld: Stage = {
      ...dev,
      currentFreight: { id: 'f-60', alias: 'fox-60' },
    };

    it('shows the first page and loads the next on "Load more" until none is left', async () => {
      const user = userEvent.setup();
      const api = pagedApi();
      const { dialog } = await renderDialog(api, devHoldingOld);

      expect(dialog.getAllByRole('radio')).toHaveLength(50);
      expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'dev');
      const more = dialog.getByRole('button', {
        name: 'Load more freight for dev',
      });
      await user.click(more);
      await waitFor(() =>
        expect(dialog.getAllByRole('radio')).toHaveLength(70),
      );
      expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'dev', {
        cursor: 'at-50',
      });
      expect(
        dialog.queryByRole('button', { name: 'Load more freight for dev' }),
      ).not.toBeInTheDocument();
      // each freight once, in the server's order
      expect(
        dialog.getAllByRole('radio').map(r => (r as HTMLInputElement).value),
      ).toEqual(many.map(i => i.freight.id));
    });

    it('looks the stage’s freight up by ID when no loaded page holds it: choosing older freight says rollback', async () => {
      const user = userEvent.setup();
      const api = pagedApi();
      const { dialog } = await renderDialog(api, devHoldingOld);

      await waitFor(() =>
        expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'dev', {
          q: 'f-60',
          limit: 1,
        }),
      );
      // fox-65 is older than fox-60, the freight in dev: it is on a later page, found by a search
      await user.type(
        dialog.getByRole('textbox', { name: 'Search freight for dev' }),
        'fox-65',
      );
      await waitFor(() => expect(dialog.getAllByRole('radio')).toHaveLength(1));
      await user.click(dialog.getByRole('radio', { name: /fox-65/ }));
      expect(
        await dialog.findByText(/Rollback: fox-65 is older than fox-60/),
      ).toBeInTheDocument();
    });

    it('searches on the server and starts over from the first page', async () => {
      const user = userEvent.setup();
      const api = pagedApi();
      const { dialog } = await renderDialog(api, dev);

      await user.type(
        dialog.getByRole('textbox', { name: 'Search freight for dev' }),
        'v1.7.0',
      );
      await waitFor(() => expect(dialog.getAllByRole('radio')).toHaveLength(1));
      expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'dev', {
        q: 'v1.7.0',
      });
      expect(dialog.getByRole('radio', { name: /fox-62/ })).toBeEnabled();

      await user.clear(
        dialog.getByRole('textbox', { name: 'Search freight for dev' }),
      );
      await user.type(
        dialog.getByRole('textbox', { name: 'Search freight for dev' }),
        'no such thing',
      );
      expect(
        await dialog.findByText(
          "No freight of dev's warehouses matches “no such thing”.",
        ),
      ).toBeInTheDocument();
    });
  });
});
