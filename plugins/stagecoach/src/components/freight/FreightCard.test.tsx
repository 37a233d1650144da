import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { stagecoachApiRef } from '../../api';
import {
  braveFox,
  calmOwl,
  mockStagecoachApi,
  pageOf,
} from '../../__fixtures__/pipeline';
import { FreightCard } from './FreightCard';

const stageOrder = ['dev', 'staging', 'prod'];

function row(alias: string) {
  return within(screen.getByTestId(`freight-${alias}`));
}

describe('FreightCard', () => {
  it('shows where each freight is verified, with how long it soaked there, and what it is approved for', async () => {
    const withStatus: Freight = {
      ...braveFox,
      currentlyIn: ['staging'],
      verifiedIn: ['dev', 'staging'],
      approvedFor: ['prod'],
      status: {
        currentlyIn: { staging: { since: '2026-03-02T12:00:00Z' } },
        verifiedIn: {
          dev: {
            verifiedAt: '2026-03-02T10:10:00Z',
            longestSoak: '2h5m0s',
            longestSoakSeconds: 7500,
          },
          staging: {
            verifiedAt: '2026-03-02T12:01:00Z',
            longestSoak: '45s',
            longestSoakSeconds: 45,
          },
        },
        approvedFor: {
          prod: {
            approvedAt: '2026-03-02T12:30:00Z',
            approvedBy: 'user:default/ada',
          },
        },
      },
    };
    await renderInTestApp(
      <FreightCard freight={[withStatus, calmOwl]} stageOrder={stageOrder} />,
    );

    const brave = row('brave-fox');
    expect(
      brave.getByText('verified in dev (soaked 2h 05m)'),
    ).toBeInTheDocument();
    const approval = brave.getByText('approved for prod');
    expect(approval).toHaveAttribute(
      'title',
      `approved for prod by user:default/ada ${new Date(
        '2026-03-02T12:30:00Z',
      ).toLocaleString()}`,
    );
    // the stage it is in: since when, verified when, soaked how long
    expect(brave.getByText('staging').closest('[title]')).toHaveAttribute(
      'title',
      `in staging since ${new Date(
        '2026-03-02T12:00:00Z',
      ).toLocaleString()}; verified ${new Date(
        '2026-03-02T12:01:00Z',
      ).toLocaleString()}, soaked 45s`,
    );

    // freight without per-stage status still says where it is verified; nothing approved
    const calm = row('calm-owl');
    expect(calm.getByText('verified in dev')).toBeInTheDocument();
    expect(calm.queryByText(/approved for/)).not.toBeInTheDocument();
  });

  it('says when freight in a stage is not verified there yet', async () => {
    await renderInTestApp(
      <FreightCard
        freight={[{ ...braveFox, currentlyIn: ['dev'], verifiedIn: [] }]}
        stageOrder={stageOrder}
      />,
    );
    expect(
      row('brave-fox').getByText('dev').closest('[title]'),
    ).toHaveAttribute('title', 'in dev; not verified yet');
  });

  it("shows each freight's links in a Links column, only when some freight has links", async () => {
    const { unmount } = await renderInTestApp(
      <FreightCard freight={[braveFox, calmOwl]} stageOrder={stageOrder} />,
    );
    expect(
      screen.queryByRole('columnheader', { name: 'Links' }),
    ).not.toBeInTheDocument();
    unmount();

    await renderInTestApp(
      <FreightCard
        freight={[
          {
            ...braveFox,
            links: [
              {
                title: 'Changes',
                url: 'https://github.com/acme/shop/compare/v1.1.0...v1.2.0',
                description: 'What changed since the last release',
              },
            ],
          },
          {
            ...calmOwl,
            links: [{ title: 'Changes', error: 'url: no previous release' }],
          },
        ]}
        stageOrder={stageOrder}
      />,
    );
    expect(
      screen.getByRole('columnheader', { name: 'Links' }),
    ).toBeInTheDocument();
    expect(
      row('brave-fox').getByRole('link', { name: /Changes/ }),
    ).toHaveAttribute(
      'href',
      'https://github.com/acme/shop/compare/v1.1.0...v1.2.0',
    );
    expect(row('calm-owl').queryByRole('link')).not.toBeInTheDocument();
    expect(row('calm-owl').getByText('Changes')).toHaveAttribute(
      'title',
      'url: no previous release',
    );
  });

  describe('with more freight than the pipeline carries (a page at a time)', () => {
    /** 130 freight, newest first, a minute apart; the oldest is in prod. */
    const all: Freight[] = Array.from({ length: 130 }, (_, i) => ({
      ...braveFox,
      id: `f-${String(i).padStart(3, '0')}`,
      alias: `fox-${i}`,
      commits: [{ ...braveFox.commits[0], tag: `v2.${129 - i}.0` }],
      images: [],
      createdAt: new Date(
        Date.parse('2026-03-02T10:00:00Z') - i * 60_000,
      ).toISOString(),
      currentlyIn: i === 129 ? ['prod'] : [],
      verifiedIn: [],
    }));
    /** What the entity pipeline carries: the 100 newest, then the freight the stages hold. */
    const live = [...all.slice(0, 100), all[129]];

    async function renderPaged() {
      const api = mockStagecoachApi({
        listFreight: jest
          .fn()
          .mockImplementation(
            async (
              _p: string,
              query?: { q?: string; cursor?: string; limit?: number },
            ) =>
              pageOf(
                all,
                f => f,
                query,
                page => page,
              ),
          ),
      });
      await renderInTestApp(
        <TestApiProvider apis={[[stagecoachApiRef, api]]}>
          <FreightCard freight={live} stageOrder={stageOrder} project="shop" />
        </TestApiProvider>,
      );
      return api;
    }
    const rowCount = () =>
      within(screen.getByRole('table', { name: 'Freight' })).getAllByTestId(
        /^freight-/,
      ).length;

    it('shows the pipeline’s freight with its stages, then older freight on "Load more", each once, newest first', async () => {
      const user = userEvent.setup();
      const api = await renderPaged();
      expect(rowCount()).toBe(101);
      // the oldest freight, held by prod, shows its stage however old it is
      expect(row('fox-129').getByText('prod')).toBeInTheDocument();
      expect(api.listFreight).not.toHaveBeenCalled();

      await user.click(
        screen.getByRole('button', { name: 'Load more freight' }),
      );
      await waitFor(() => expect(rowCount()).toBe(130));
      expect(api.listFreight).toHaveBeenCalledWith('shop', { limit: 100 });
      expect(api.listFreight).toHaveBeenCalledWith('shop', {
        limit: 50,
        cursor: 'at-100',
      });
      const shown = within(screen.getByRole('table', { name: 'Freight' }))
        .getAllByTestId(/^freight-/)
        .map(r => r.getAttribute('data-testid'));
      expect(shown).toEqual(all.map(f => `freight-${f.alias}`));
      expect(
        screen.queryByRole('button', { name: 'Load more freight' }),
      ).not.toBeInTheDocument();
    });

    it('searches on the server', async () => {
      const user = userEvent.setup();
      const api = await renderPaged();
      await user.type(
        screen.getByRole('textbox', { name: 'Search freight' }),
        'v2.3.0',
      );
      await waitFor(() => expect(rowCount()).toBe(1));
      expect(api.listFreight).toHaveBeenCalledWith('shop', {
        q: 'v2.3.0',
        limit: 50,
      });
      expect(row('fox-126')).toBeTruthy();
      await user.clear(screen.getByRole('textbox', { name: 'Search freight' }));
      await user.type(
        screen.getByRole('textbox', { name: 'Search freight' }),
        'nothing like it',
      );
      expect(
        await screen.findByText('No freight matches “nothing like it”.'),
      ).toBeInTheDocument();
      await user.clear(screen.getByRole('textbox', { name: 'Search freight' }));
      await waitFor(() => expect(rowCount()).toBe(101));
    });
  });
});
