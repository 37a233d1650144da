import { renderInTestApp } from '@backstage/test-utils';
import type { Freight } from '@stagecoach/plugin-stagecoach-common';
import { screen, within } from '@testing-library/react';
import { braveFox, calmOwl } from '../../__fixtures__/pipeline';
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
});
