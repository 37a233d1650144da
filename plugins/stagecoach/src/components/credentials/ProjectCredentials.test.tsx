import { ResponseError } from '@backstage/errors';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import type { ProjectCredential } from '@stagecoach/plugin-stagecoach-common';
import { screen, within } from '@testing-library/react';
import { stagecoachApiRef, type StagecoachApi } from '../../api';
import { credentials, mockStagecoachApi } from '../../__fixtures__/pipeline';
import { ProjectCredentials } from './ProjectCredentials';

async function render(api: StagecoachApi) {
  await renderInTestApp(
    <TestApiProvider apis={[[stagecoachApiRef, api]]}>
      <ProjectCredentials
        project="shop"
        now={Date.parse('2026-03-02T09:00:00Z')}
      />
    </TestApiProvider>,
  );
}

function row(name: string) {
  return within(screen.getByTestId(`credential-${name}`));
}

describe('ProjectCredentials', () => {
  it("lists the project's credentials by name, type and repository or pattern", async () => {
    const api = mockStagecoachApi();
    await render(api);

    const table = await screen.findByRole('table', { name: 'Credentials' });
    expect(api.listProjectCredentials).toHaveBeenCalledWith('shop');
    expect(within(table).getAllByRole('row').slice(1)).toHaveLength(
      credentials.items.length,
    );

    const gitops = row('shop-gitops');
    expect(gitops.getByText('git')).toBeInTheDocument();
    expect(
      gitops.getByText('https://github.com/acme/shop-gitops.git'),
    ).toBeInTheDocument();
    expect(gitops.queryByText('pattern')).not.toBeInTheDocument();
    expect(gitops.getByText('yesterday')).toBeInTheDocument();

    const images = row('acme-images');
    expect(images.getByText('image')).toBeInTheDocument();
    expect(images.getByText('^ghcr\\.io/acme/.*$')).toBeInTheDocument();
    expect(images.getByText('pattern')).toBeInTheDocument();

    // a generic Secret is for secret() in steps, by name, not for a repository
    expect(row('release-token').getByText('any (read by name)')).toBeVisible();
  });

  it('renders only the fields it knows: a value the API should never send is not shown', async () => {
    const leaky = {
      name: 'shop-gitops',
      type: 'git',
      repoURL: 'https://github.com/acme/shop-gitops.git',
      updatedAt: '2026-03-01T09:00:00Z',
      username: 'acme-bot',
      password: 'ghp_never-shown',
      stringData: { password: 'ghp_never-shown-either' },
    } as ProjectCredential;
    await render(
      mockStagecoachApi({
        listProjectCredentials: jest.fn().mockResolvedValue({ items: [leaky] }),
      }),
    );
    await screen.findByRole('table', { name: 'Credentials' });
    expect(row('shop-gitops').getByText('git')).toBeInTheDocument();
    const page = document.body.innerHTML;
    expect(page).not.toContain('ghp_never-shown');
    expect(page).not.toContain('acme-bot');
  });

  it('says how to add a credential when the project has none', async () => {
    await render(
      mockStagecoachApi({
        listProjectCredentials: jest.fn().mockResolvedValue({ items: [] }),
      }),
    );
    const empty = await screen.findByText(/has no credentials of its own/);
    expect(empty).toHaveTextContent(
      'put a Secret labelled kargo.akuity.io/cred-type',
    );
    expect(empty).toHaveTextContent("in the project's manifests and apply");
    expect(empty).toHaveTextContent('docs/credentials.md');
    expect(screen.queryByRole('table')).not.toBeInTheDocument();
  });

  it('says when reading the credentials is not allowed (403), with the server message', async () => {
    const message =
      'stagecoach.project.read on project shop is not allowed for you by the permission policy';
    const error = await ResponseError.fromResponse(
      new Response(
        JSON.stringify({
          error: { name: 'NotAllowedError', message },
          request: { method: 'GET', url: '/x' },
          response: { statusCode: 403 },
        }),
        { status: 403, headers: { 'Content-Type': 'application/json' } },
      ),
    );
    await render(
      mockStagecoachApi({
        listProjectCredentials: jest.fn().mockRejectedValue(error),
      }),
    );
    expect(await screen.findByRole('alert')).toHaveTextContent(
      `You may not read the credentials of project shop: ${message}`,
    );
  });
});
