import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { DeepLinks } from './DeepLinks';

describe('DeepLinks', () => {
  it('renders each link with its address, opening in a new tab, its description on hover', async () => {
    await renderInTestApp(
      <DeepLinks
        aria-label="Links of stage dev"
        links={[
          {
            title: 'Argo CD',
            url: 'https://argocd.example.com/applications/argocd/shop-dev',
            description: 'The app this stage syncs',
          },
          {
            title: 'Dashboard',
            url: 'http://grafana.local/d/shop?var-env=dev',
          },
        ]}
      />,
    );
    const list = within(
      screen.getByRole('list', { name: 'Links of stage dev' }),
    );
    const argo = list.getByRole('link', { name: /Argo CD/ });
    expect(argo).toHaveAttribute(
      'href',
      'https://argocd.example.com/applications/argocd/shop-dev',
    );
    expect(argo).toHaveAttribute('target', '_blank');
    expect(argo.getAttribute('rel')).toMatch(/\bnoopener\b/);
    expect(argo).toHaveAttribute('title', 'The app this stage syncs');
    expect(list.getByRole('link', { name: /Dashboard/ })).toHaveAttribute(
      'href',
      'http://grafana.local/d/shop?var-env=dev',
    );
  });

  it('shows a link whose expression failed greyed, with the error in its tooltip, never as a link', async () => {
    await renderInTestApp(
      <DeepLinks
        aria-label="Links of freight brave-fox"
        links={[
          {
            title: 'Release notes',
            error:
              'url: commitFrom("https://github.com/acme/other.git"): no such commit in the freight',
          },
          { title: 'Changelog', url: 'https://github.com/acme/shop/releases' },
        ]}
      />,
    );
    const broken = screen.getByText('Release notes');
    expect(broken.closest('a')).toBeNull();
    expect(broken).toHaveAttribute(
      'title',
      'url: commitFrom("https://github.com/acme/other.git"): no such commit in the freight',
    );
    expect(screen.getAllByRole('link').map(a => a.textContent)).toEqual([
      expect.stringContaining('Changelog'),
    ]);
  });

  it('does not trust the backend: a javascript: or other non-http(s) address is not rendered as a link', async () => {
    await renderInTestApp(
      <DeepLinks
        aria-label="Links of stage prod"
        links={[
          // eslint-disable-next-line no-script-url -- the URL that must not become a link
          { title: 'Sneaky', url: 'javascript:alert(document.cookie)' },
          { title: 'Files', url: 'file:///etc/passwd' },
          { title: 'Nowhere' },
          {
            title: 'Both',
            url: 'https://example.com/ignored',
            error: 'title: undefined variable',
          },
        ]}
      />,
    );
    expect(screen.queryAllByRole('link')).toHaveLength(0);
    expect(document.querySelector('a')).toBeNull();
    // eslint-disable-next-line no-script-url -- the URL that must not be in the page
    expect(document.body.innerHTML).not.toContain('javascript:');
    expect(document.body.innerHTML).not.toContain('file:');
    expect(screen.getByText('Sneaky')).toHaveAttribute(
      'title',
      'Not shown as a link: only http(s) addresses are',
    );
    expect(screen.getByText('Nowhere')).toHaveAttribute(
      'title',
      'This link has no address',
    );
    // a link that has an error is shown by its error even if it carries an address
    expect(screen.getByText('Both')).toHaveAttribute(
      'title',
      'title: undefined variable',
    );
  });

  it('renders nothing when there are no links', async () => {
    await renderInTestApp(
      <div data-testid="box">
        <DeepLinks aria-label="Links" links={[]} />
        <DeepLinks aria-label="Links" />
      </div>,
    );
    expect(screen.getByTestId('box')).toBeEmptyDOMElement();
  });
});
