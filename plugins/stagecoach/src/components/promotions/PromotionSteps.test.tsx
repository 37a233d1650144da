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

  it('says how many errors a step that is tried again has had', async () => {
    await renderInTestApp(
      <PromotionSteps
        steps={[
          {
            index: 0,
            uses: 'http',
            alias: 'notify',
            status: 'Running',
            errorCount: 2,
            message:
              'error 2 in a row (retry.errorThreshold 3 fails the step): connection refused; trying again in 20 s',
            startedAt: '2026-03-02T10:00:00Z',
          },
          {
            index: 1,
            uses: 'http',
            alias: 'check',
            status: 'Errored',
            errorCount: 3,
            message: 'http errored: connection refused',
          },
          { index: 2, uses: 'git-push', alias: 'push', status: 'Running' },
        ]}
      />,
    );
    const items = within(
      screen.getByRole('list', { name: 'Steps' }),
    ).getAllByRole('listitem');
    expect(
      within(items[0]).getByText('retrying after 2 errors'),
    ).toBeInTheDocument();
    // an errored step is no longer retried; a running step without errors says nothing
    expect(items[1]).not.toHaveTextContent(/retrying/);
    expect(items[2]).not.toHaveTextContent(/retrying/);
  });

  it('links to the pull request a step opened or waits for', async () => {
    await renderInTestApp(
      <PromotionSteps
        steps={[
          {
            index: 0,
            uses: 'git-open-pr',
            alias: 'open-pr',
            status: 'Succeeded',
            outputs: {
              pr: { id: 12, url: 'https://github.com/acme/gitops/pull/12' },
              prNumber: 12,
            },
          },
          {
            index: 1,
            uses: 'git-wait-for-pr',
            alias: 'wait',
            status: 'Running',
            outputs: {
              pr: {
                id: 7,
                url: 'https://gitlab.example.com/acme/gitops/-/merge_requests/7',
                open: true,
                merged: false,
              },
            },
          },
          {
            index: 2,
            uses: 'git-open-pr',
            alias: 'odd',
            status: 'Succeeded',
            // eslint-disable-next-line no-script-url -- the URL that must not become a link
            outputs: { pr: { id: 1, url: 'javascript:alert(1)' } },
          },
        ]}
      />,
    );
    const items = within(
      screen.getByRole('list', { name: 'Steps' }),
    ).getAllByRole('listitem');
    expect(
      within(items[0]).getByRole('link', { name: /pull request #12/ }),
    ).toHaveAttribute('href', 'https://github.com/acme/gitops/pull/12');
    expect(
      within(items[1]).getByRole('link', { name: /merge request !7/ }),
    ).toHaveAttribute(
      'href',
      'https://gitlab.example.com/acme/gitops/-/merge_requests/7',
    );
    // only http(s) addresses become links
    expect(within(items[2]).queryByRole('link')).not.toBeInTheDocument();
  });

  it('says so when a promotion has no steps', async () => {
    await renderInTestApp(<PromotionSteps steps={[]} />);
    expect(
      screen.getByText('This promotion has no steps.'),
    ).toBeInTheDocument();
  });
});
