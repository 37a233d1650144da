import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { braveFox } from '../../__fixtures__/pipeline';
import { FreightVersions } from './FreightVersions';

describe('FreightVersions', () => {
  it('shows the labels the backend gives each artifact, whatever its kind', async () => {
    await renderInTestApp(
      <FreightVersions
        freight={{
          ...braveFox,
          artifactLabels: [
            {
              kind: 'git',
              label: 'github.com/acme/shop@v1.2.0',
              detail:
                'Git https://github.com/acme/shop.git at 9f8e7d6 (tag v1.2.0)',
            },
            {
              kind: 'bundle',
              label: 'shop-bundle:7',
              detail: 'Bundle s3://bundles/shop 7',
            },
          ],
        }}
      />,
    );
    expect(screen.getByText('github.com/acme/shop@v1.2.0')).toBeInTheDocument();
    expect(
      screen.getByText('shop-bundle:7').closest('[title]'),
    ).toHaveAttribute('title', 'Bundle s3://bundles/shop 7');
    // the labels replace the ones the frontend would make
    expect(
      screen.queryByText('ghcr.io/acme/shop:1.2.0'),
    ).not.toBeInTheDocument();
  });

  it('labels the commits, images and charts itself when the backend sends no labels', async () => {
    await renderInTestApp(<FreightVersions freight={braveFox} />);
    expect(screen.getByText('github.com/acme/shop@v1.2.0')).toBeInTheDocument();
    expect(
      screen.getByText('ghcr.io/acme/shop:1.2.0').closest('[title]'),
    ).toHaveAttribute('title', 'Image ghcr.io/acme/shop:1.2.0 @ sha256:aa');
  });
});
