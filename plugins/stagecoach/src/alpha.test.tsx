import { renderTestApp } from '@backstage/frontend-test-utils';
import { createTestEntityPage } from '@backstage/plugin-catalog-react/testUtils';
import { screen, within } from '@testing-library/react';
import stagecoachPlugin, {
  stagecoachEntityContent,
  stagecoachEntityOverviewCard,
} from './alpha';
import { stagecoachApiRef } from './api';
import { entity, mockStagecoachApi } from './__fixtures__/pipeline';

describe('stagecoach plugin (new frontend system)', () => {
  it('is a frontend plugin with the id stagecoach', () => {
    expect(stagecoachPlugin.id).toBe('stagecoach');
  });

  it('renders the Promotions tab with the stages of an annotated entity', async () => {
    const api = mockStagecoachApi();
    renderTestApp({
      extensions: [createTestEntityPage({ entity }), stagecoachEntityContent],
      apis: [[stagecoachApiRef, api]],
    });

    const dev = await screen.findByTestId('stage-dev');
    expect(
      within(dev).getByText('direct from warehouse shop'),
    ).toBeInTheDocument();
    expect(
      screen.getAllByTestId(/^stage-/).map(e => e.getAttribute('data-testid')),
    ).toEqual(['stage-dev', 'stage-staging', 'stage-prod']);
    expect(
      screen.getByRole('button', { name: 'Promote to prod' }),
    ).toBeInTheDocument();
    expect(api.getEntityPipeline).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'shop',
    });
  });

  it('renders the overview card with the version of each stage and a link to the tab', async () => {
    renderTestApp({
      extensions: [
        createTestEntityPage({ entity }),
        stagecoachEntityOverviewCard,
      ],
      apis: [[stagecoachApiRef, mockStagecoachApi()]],
    });

    const dev = await screen.findByTestId('overview-stage-dev');
    expect(within(dev).getByLabelText('Versions in dev')).toHaveTextContent(
      'v1.2.0',
    );
    expect(
      screen.getByRole('link', { name: /Open the Promotions tab/ }),
    ).toHaveAttribute('href', expect.stringMatching(/\/stagecoach$/));
  });

  it('leaves the overview card off the page of an entity without stagecoach.io/project', async () => {
    const api = mockStagecoachApi();
    renderTestApp({
      extensions: [
        createTestEntityPage({
          entity: {
            ...entity,
            metadata: { name: 'plain', namespace: 'default' },
          },
        }),
        stagecoachEntityOverviewCard,
      ],
      apis: [[stagecoachApiRef, api]],
    });

    // the catalog's test page filters its cards by their filter: none is left
    expect(await screen.findByTestId('empty-entity-page')).toBeInTheDocument();
    expect(api.getEntityPipeline).not.toHaveBeenCalled();
  });
});
