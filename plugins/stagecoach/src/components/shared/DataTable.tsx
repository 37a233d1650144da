import {
  Table,
  type TableColumn,
  type TableOptions,
} from '@backstage/core-components';
import TableCell from '@material-ui/core/TableCell';
import TableRow from '@material-ui/core/TableRow';
import {
  createContext,
  Fragment,
  useContext,
  useLayoutEffect,
  useRef,
  type CSSProperties,
  type ReactNode,
} from 'react';

/** A row of a DataTable: its `id` keeps the row (and what it shows) across reloads. */
export interface DataRow {
  id: string;
}

/** What DataTable adds to each row of the core table. */
interface RowExtras {
  testId?(row: any): string | undefined;
  below?(row: any): ReactNode;
}

const RowExtrasContext = createContext<RowExtras>({});

/**
 * What the core table hands its row component (the core components' typings leave it
 * untyped): the row, the columns with their layout, and the components it renders with.
 */
interface CoreRowProps {
  data: DataRow & { tableData: { id: number } };
  columns: Array<TableColumn<any> & { hidden?: boolean; tableData: object }>;
  components: { Cell: React.ComponentType<any> };
  getFieldValue(row: object, column: object): unknown;
  options: { padding?: string };
  scrollWidth?: number;
}

/**
 * The core table's row, with a test id and an optional full-width row below it. The core
 * table offers no way to give a row attributes, so this draws the row itself, with the
 * core table's own cells.
 */
function Row(props: CoreRowProps) {
  const extras = useContext(RowExtrasContext);
  const { data, columns, components, getFieldValue, options } = props;
  const visible = columns.filter(c => !c.hidden);
  const below = extras.below?.(data);
  return (
    <Fragment>
      <TableRow data-testid={extras.testId?.(data)}>
        {visible.map(column => (
          <components.Cell
            key={`cell-${data.tableData.id}-${(column.tableData as any).id}`}
            size={options.padding === 'default' ? 'medium' : 'small'}
            columnDef={column}
            value={getFieldValue(data, column)}
            rowData={data}
            scrollWidth={props.scrollWidth}
          />
        ))}
      </TableRow>
      {below && (
        <TableRow>
          <TableCell colSpan={visible.length}>{below}</TableCell>
        </TableRow>
      )}
    </Fragment>
  );
}

/** No paper around the table: it sits in a card or a dialog already. */
function Container(props: { style?: CSSProperties; children?: ReactNode }) {
  return <div style={props.style}>{props.children}</div>;
}

// short lists, already in the order that matters: nothing to search, page, sort or drag
const options: TableOptions<any> = {
  toolbar: false,
  search: false,
  paging: false,
  sorting: false,
  draggable: false,
  padding: 'dense',
};

const components = { Row, Container };

/**
 * A `Table` from the core components for this plugin's read-only lists. The core table has
 * no prop for its accessible name nor for row attributes, so `aria-label` is set on the
 * rendered table element, and `rowTestId` / `below` go through this module's row.
 * Columns take the width of their content unless they say otherwise (the core table
 * otherwise splits the width evenly).
 */
export function DataTable<T extends DataRow>(props: {
  'aria-label': string;
  columns: TableColumn<T>[];
  data: T[];
  /** A test id for the row (`data-testid`). */
  rowTestId?(row: T): string | undefined;
  /** Shown in a row of its own below the row, across every column. */
  below?(row: T): ReactNode;
}) {
  const { columns, data, rowTestId, below } = props;
  const label = props['aria-label'];
  const ref = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    ref.current?.querySelector('table')?.setAttribute('aria-label', label);
  });

  return (
    <div ref={ref}>
      <RowExtrasContext.Provider value={{ testId: rowTestId, below }}>
        <Table<T>
          options={options}
          components={components}
          columns={columns.map(c => ({ width: 'auto', ...c }))}
          data={data}
        />
      </RowExtrasContext.Provider>
    </div>
  );
}
