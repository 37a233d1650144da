import { alertApiRef } from '@backstage/core-plugin-api';
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
  type Freight,
} from '@stagecoach/plugin-stagecoach-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { stagecoachApiRef, type StagecoachApi } from '../../api';
import {
  braveFox,
  calmOwl,
  mockStagecoachApi,
  pageOf,
  pipeline,
  stageFreight,
  stagingPromotion,
  warehouse,
} from '../../__fixtures__/pipeline';
import { FreightTimeline } from './FreightTimeline';

/** AuthorizeResult.ALLOW | AuthorizeResult.DENY, without importing permission-common here. */
type Decision = Exclude<
  NonNullable<Parameters<typeof mockApis.permission>[0]>['authorize'],
  Function | undefined
>;

/**
 * Promoting is allowed everywhere but prod. (usePermission keeps its answers for the whole
 * test file: every test here uses this one policy.)
 */
const notInProd = mockApis.permission({
  authorize: req =>
    (req.permission.type === 'resource' &&
    req.permission.resourceType === STAGECOACH_STAGE_RESOURCE_TYPE &&
    parseStageResourceRef(req.resourceRef ?? '')?.stage === 'prod'
      ? 'DENY'
      : 'ALLOW') as Decision,
});

async function renderTimeline(
  api: StagecoachApi,
  shown: EntityPipeline = pipeline,
) {
  const reload = {
    refresh: jest.fn(),
    addPromotion: jest.fn(),
    updateStage: jest.fn(),
  };
  await renderInTestApp(
    <TestApiProvider
      apis={[
        [stagecoachApiRef, api],
        [alertApiRef, { post: jest.fn() }],
        [permissionApiRef, notInProd],
      ]}
    >
      <FreightTimeline
        pipeline={shown}
        now={Date.parse('2026-03-02T12:00:00Z')}
        reload={reload}
      />
    </TestApiProvider>,
  );
  return reload;
}

const tileIds = () =>
  screen
    .getAllByTestId(/^timeline-freight-/)
    .map(t => t.getAttribute('data-testid')!.replace('timeline-freight-', ''));

const tile = (alias: string) => screen.getByTestId(`timeline-freight-${alias}`);

describe('FreightTimeline', () => {
  it('shows the freight newest first, each marked with the stages that hold it, verified it and approved it', async () => {
    const approved: Freight = { ...braveFox, approvedFor: ['prod'] };
    // the pipeline lists them oldest first: the strip orders them itself
    await renderTimeline(mockStagecoachApi(), {
      ...pipeline,
      freight: [calmOwl, approved],
    });
    expect(tileIds()).toEqual(['brave-fox', 'calm-owl']);

    const brave = within(tile('brave-fox'));
    expect(brave.getByTitle('in dev')).toHaveTextContent('dev');
    expect(brave.getByTitle('approved for prod')).toBeInTheDocument();
    // verified where it is: the "in" mark says enough
    expect(brave.queryByTitle('verified in dev')).not.toBeInTheDocument();
    expect(brave.getByText('v1.2.0 · 1.2.0')).toBeInTheDocument();
    expect(brave.getByText('2 hours ago')).toBeInTheDocument();
    expect(tile('brave-fox')).toHaveAccessibleName(
      'brave-fox; in dev; approved for prod',
    );

    const calm = within(tile('calm-owl'));
    expect(calm.getByTitle('in staging')).toBeInTheDocument();
    expect(calm.getByTitle('in prod')).toBeInTheDocument();
    expect(calm.getByTitle('verified in dev')).toBeInTheDocument();
    expect(calm.queryByTitle(/approved for/)).not.toBeInTheDocument();
    expect(calm.getByText('1234567 · 0.9.1')).toBeInTheDocument();
  });

  it('filters by warehouse when the project has several, and offers no filter with one', async () => {
    const user = userEvent.setup();
    const docsFreight: Freight = {
      ...calmOwl,
      id: 'f-quiet',
      alias: 'quiet-elk',
      origin: { kind: 'Warehouse', name: 'docs' },
      createdAt: '2026-03-02T11:00:00Z',
      currentlyIn: [],
      verifiedIn: [],
    };
    await renderTimeline(mockStagecoachApi(), {
      ...pipeline,
      freight: [braveFox, calmOwl, docsFreight],
      warehouses: [warehouse, { ...warehouse, name: 'docs' }],
    });
    expect(tileIds()).toEqual(['quiet-elk', 'brave-fox', 'calm-owl']);

    const filter = screen.getByRole('combobox', { name: 'Warehouse' });
    await user.selectOptions(filter, 'docs');
    expect(tileIds()).toEqual(['quiet-elk']);
    await user.selectOptions(filter, 'shop');
    expect(tileIds()).toEqual(['brave-fox', 'calm-owl']);
    await user.selectOptions(filter, 'All warehouses');
    expect(tileIds()).toEqual(['quiet-elk', 'brave-fox', 'calm-owl']);
  });

  it('has no warehouse filter for a project with one warehouse', async () => {
    await renderTimeline(mockStagecoachApi());
    expect(
      screen.queryByRole('combobox', { name: 'Warehouse' }),
    ).not.toBeInTheDocument();
  });

  it('takes keyboard focus tile by tile, and opens "Promote to…" with Enter', async () => {
    const user = userEvent.setup();
    await renderTimeline(mockStagecoachApi());
    await user.tab();
    expect(tile('brave-fox')).toHaveFocus();
    await user.tab();
    expect(tile('calm-owl')).toHaveFocus();
    await user.keyboard('{Enter}');
    const menu = await screen.findByRole('menu', {
      name: 'Promote calm-owl to…',
    });
    expect(
      within(menu)
        .getAllByRole('menuitem')
        .map(i => i.getAttribute('aria-label')),
    ).toEqual([
      'Promote calm-owl to dev',
      'Promote calm-owl to staging',
      'Promote calm-owl to prod',
    ]);
    // the policy denies prod: offered, but disabled with the reason
    await waitFor(() =>
      expect(
        within(menu).getByRole('menuitem', {
          name: 'Promote calm-owl to prod',
        }),
      ).toHaveAttribute('aria-disabled', 'true'),
    );
    expect(
      within(menu).getByText(/Your permissions do not allow promoting to prod/),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(
        within(menu).getByRole('menuitem', {
          name: 'Promote calm-owl to staging',
        }),
      ).not.toHaveAttribute('aria-disabled', 'true'),
    );
    // arrows move through the stages the user may promote to; Escape closes the menu
    expect(within(menu).getByText('Promote calm-owl to…')).toBeInTheDocument();
    await user.keyboard('{Home}');
    expect(
      within(menu).getByRole('menuitem', { name: 'Promote calm-owl to dev' }),
    ).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(
      within(menu).getByRole('menuitem', {
        name: 'Promote calm-owl to staging',
      }),
    ).toHaveFocus();
    await user.keyboard('{Escape}');
    await waitFor(() =>
      expect(screen.queryByRole('menu')).not.toBeInTheDocument(),
    );
    expect(tile('calm-owl')).toHaveFocus();
  });

  it('promotes from a tile: the promote dialog of the chosen stage opens with that freight selected', async () => {
    const user = userEvent.setup();
    const api = mockStagecoachApi({
      promote: jest.fn().mockResolvedValue({
        ...stagingPromotion,
        phase: 'Pending',
      }),
    });
    const reload = await renderTimeline(api);

    await user.click(tile('brave-fox'));
    const menu = await screen.findByRole('menu', {
      name: 'Promote brave-fox to…',
    });
    const staging = within(menu).getByRole('menuitem', {
      name: 'Promote brave-fox to staging',
    });
    await waitFor(() =>
      expect(staging).not.toHaveAttribute('aria-disabled', 'true'),
    );
    await user.click(staging);

    const dialog = await screen.findByRole('dialog', {
      name: 'Promote to staging',
    });
    await waitFor(() =>
      expect(
        within(dialog).getByRole('radio', { name: /brave-fox/ }),
      ).toBeChecked(),
    );
    expect(
      within(dialog).getByRole('radio', { name: /calm-owl/ }),
    ).not.toBeChecked();
    await user.click(within(dialog).getByRole('button', { name: 'Promote' }));
    await waitFor(() =>
      expect(api.promote).toHaveBeenCalledWith('shop', 'staging', braveFox.id),
    );
    await waitFor(() =>
      expect(reload.addPromotion).toHaveBeenCalledWith(
        expect.objectContaining({ id: stagingPromotion.id }),
      ),
    );
  });

  it('selects the chosen freight in the dialog even when it is not on the dialog’s first page', async () => {
    const user = userEvent.setup();
    const many = Array.from({ length: 60 }, (_, i) => ({
      freight: {
        ...braveFox,
        id: `f-new-${i}`,
        alias: `new-${i}`,
        currentlyIn: [],
      },
      available: true,
      reason: 'dev takes freight directly from warehouse shop',
    }));
    const devItems = [...many, ...stageFreight('dev').items];
    const api = mockStagecoachApi({
      listStageFreight: jest
        .fn()
        .mockImplementation(async (_p: string, s: string, query?: any) =>
          pageOf(
            s === 'dev' ? devItems : stageFreight(s).items,
            i => i.freight,
            query,
            page => ({ stage: s, ...page }),
          ),
        ),
    });
    await renderTimeline(api);
    await user.click(tile('calm-owl'));
    const item = await screen.findByRole('menuitem', {
      name: 'Promote calm-owl to dev',
    });
    await waitFor(() =>
      expect(item).not.toHaveAttribute('aria-disabled', 'true'),
    );
    await user.click(item);
    const dialog = await screen.findByRole('dialog', {
      name: 'Promote to dev',
    });
    await waitFor(() =>
      expect(
        within(dialog).getByRole('radio', { name: /calm-owl/ }),
      ).toBeChecked(),
    );
    expect(api.listStageFreight).toHaveBeenCalledWith('shop', 'dev', {
      q: calmOwl.id,
      limit: 1,
    });
    // listed first; the dialog's next page, which holds it too, does not list it again
    await user.click(
      within(dialog).getByRole('button', { name: 'Load more freight for dev' }),
    );
    await waitFor(() =>
      expect(within(dialog).getAllByRole('radio')).toHaveLength(62),
    );
    expect(
      within(dialog).getAllByRole('radio', { name: /calm-owl/ }),
    ).toHaveLength(1);
    expect(
      within(dialog).getByRole('radio', { name: /calm-owl/ }),
    ).toBeChecked();
  });

  describe('with more freight than the pipeline carries', () => {
    /** 130 freight, newest first, a minute apart; the oldest is in prod. */
    const all: Freight[] = Array.from({ length: 130 }, (_, i) => ({
      ...braveFox,
      id: `f-${String(i).padStart(3, '0')}`,
      alias: `fox-${i}`,
      createdAt: new Date(
        Date.parse('2026-03-02T10:00:00Z') - i * 60_000,
      ).toISOString(),
      currentlyIn: i === 129 ? ['prod'] : [],
      verifiedIn: [],
    }));

    it('shows the pipeline’s freight, then older freight a page at a time on "Load more" at the end of the strip', async () => {
      const user = userEvent.setup();
      const api = mockStagecoachApi({
        listFreight: jest
          .fn()
          .mockImplementation(async (_p: string, query?: any) =>
            pageOf(
              all,
              f => f,
              query,
              page => page,
            ),
          ),
      });
      await renderTimeline(api, {
        ...pipeline,
        freight: [...all.slice(0, 100), all[129]],
      });
      expect(tileIds()).toHaveLength(101);
      expect(within(tile('fox-129')).getByTitle('in prod')).toBeInTheDocument();
      expect(api.listFreight).not.toHaveBeenCalled();

      const more = screen.getByRole('button', {
        name: 'Load more freight in the timeline',
      });
      // the last item of the strip
      expect(more.closest('li')).toBe(
        screen.getByRole('list', { name: 'Freight timeline, newest first' })
          .lastElementChild,
      );
      await user.click(more);
      await waitFor(() => expect(tileIds()).toHaveLength(130));
      expect(tileIds()).toEqual(all.map(f => f.alias));
      expect(api.listFreight).toHaveBeenCalledWith('shop', {
        warehouse: 'shop',
        limit: 50,
        cursor: 'at-100',
      });
      expect(
        screen.queryByRole('button', {
          name: 'Load more freight in the timeline',
        }),
      ).not.toBeInTheDocument();
    });
  });
});
