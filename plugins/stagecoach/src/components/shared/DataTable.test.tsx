import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { DataTable } from './DataTable';

interface Planet {
  id: string;
  name: string;
  moons: number;
  note?: string;
}

const planets: Planet[] = [
  { id: 'earth', name: 'Earth', moons: 1, note: 'home' },
  { id: 'mars', name: 'Mars', moons: 2 },
];

describe('DataTable', () => {
  it('is a table named by its aria-label, with test ids and a full-width row below a row', async () => {
    await renderInTestApp(
      <DataTable
        aria-label="Planets"
        columns={[
          { title: 'Name', render: p => p.name },
          { title: 'Moons', render: p => String(p.moons) },
        ]}
        data={planets}
        rowTestId={p => `planet-${p.name}`}
        below={p => p.note && <em>{p.note}</em>}
      />,
    );

    const table = screen.getByRole('table', { name: 'Planets' });
    const rows = within(table).getAllByRole('row');
    // the header, Earth, its note, Mars
    expect(rows).toHaveLength(4);
    expect(rows[0]).toHaveTextContent('NameMoons');
    expect(rows[1]).toBe(screen.getByTestId('planet-Earth'));
    expect(rows[1]).toHaveTextContent('Earth1');
    expect(within(rows[2]).getByRole('cell')).toHaveAttribute('colspan', '2');
    expect(rows[2]).toHaveTextContent('home');
    expect(rows[3]).toBe(screen.getByTestId('planet-Mars'));
    // nothing to search, page or sort
    expect(screen.queryByRole('textbox')).not.toBeInTheDocument();
    expect(within(table).queryByRole('button')).not.toBeInTheDocument();
  });
});
