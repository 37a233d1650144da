import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { PromotionSteps } from './PromotionSteps';

describe('PromotionSteps', () => {
  it('lists each step in order with its alias, step kind, status, message and duration', async () => {
    await renderInTestApp(
      <PromotionSteps
        now={Date.parse('2026-03-02T10:00:40Z')}
        steps={[
          {
            index: 1,
            uses: 'git-push',
            alias: 'push',
            status: 'Failed',
            message: 'remote rejected the push: protected branch',
            startedAt: '2026-03-02T10:00:05Z',
            finishedAt: '2026-03-02T10:00:05.250Z',
          },
          {
            index: 0,
            uses: 'git-clone',
            alias: 'clone',
            status: 'Succeeded',
            startedAt: '2026-03-02T10:00:00Z',
            finishedAt: '2026-03-02T10:00:05Z',
          },
          { index: 2, uses: 'argocd-update', alias: 'sync', status: 'Skipped' },
        ]}
      />,
    );

    const items = within(
      screen.getByRole('list', { name: 'Steps' }),
    ).getAllByRole('listitem');
    expect(
      items.map(i => within(i).getByText(/^(clone|push|sync)$/).textContent),
    ).toEqual(['clone', 'push', 'sync']);
    expect(items[0]).toHaveTextContent('git-clone');
    expect(within(items[0]).getByText('Succeeded')).toBeInTheDocument();
    expect(within(items[0]).getByText('5s')).toBeInTheDocument();
    expect(within(items[1]).getByText('Failed')).toBeInTheDocument();
    expect(within(items[1]).getByText('250ms')).toBeInTheDocument();
    expect(
      within(items[1]).getByText('remote rejected the push: protected branch'),
    ).toBeInTheDocument();
    expect(within(items[2]).getByText('Skipped')).toBeInTheDocument();
  });

  it('shows how long a running step has been running', async () => {
    await renderInTestApp(
      <PromotionSteps
        now={Date.parse('2026-03-02T10:01:30Z')}
        steps={[
          {
            index: 0,
            uses: 'argocd-update',
            alias: 'sync',
            status: 'Running',
            startedAt: '2026-03-02T10:00:00Z',
          },
        ]}
      />,
    );
    expect(screen.getByText('Running')).toBeInTheDocument();
    expect(screen.getByText('1m 30s')).toBeInTheDocument();
  });

  it('says so when a promotion has no steps', async () => {
    await renderInTestApp(<PromotionSteps steps={[]} />);
    expect(
      screen.getByText('This promotion has no steps.'),
    ).toBeInTheDocument();
  });
});
