import Button from '@material-ui/core/Button';
import InputAdornment from '@material-ui/core/InputAdornment';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import SearchIcon from '@material-ui/icons/Search';
import { useState } from 'react';
import useDebounce from 'react-use/esm/useDebounce';
import { errorMessage } from '../../api';
import type { FreightPages } from './useFreightPages';

/** How long typing pauses before a search goes to the server. */
export const SEARCH_DEBOUNCE_MS = 300;

/**
 * A search box for a freight list: the server matches the text against aliases, IDs, tags,
 * commits and versions. Tells `onSearch` once typing pauses.
 */
export function FreightSearchField(props: {
  label: string;
  onSearch(q: string): void;
  className?: string;
}) {
  const { label, onSearch, className } = props;
  const [text, setText] = useState('');
  useDebounce(() => onSearch(text.trim()), SEARCH_DEBOUNCE_MS, [text]);
  return (
    <TextField
      className={className}
      size="small"
      variant="outlined"
      fullWidth
      value={text}
      onChange={e => setText(e.target.value)}
      placeholder="Alias, tag, commit or version"
      inputProps={{ 'aria-label': label }}
      InputProps={{
        startAdornment: (
          <InputAdornment position="start">
            <SearchIcon fontSize="small" />
          </InputAdornment>
        ),
      }}
    />
  );
}

/** "Load more" under a paged list while another page follows, and why a page failed. */
export function LoadMore<T>(props: {
  pages: FreightPages<T>;
  label: string;
  className?: string;
}) {
  const { pages, label, className } = props;
  return (
    <div className={className}>
      {pages.moreError !== undefined && (
        <Typography variant="body2" color="error" role="alert">
          Could not load more freight: {errorMessage(pages.moreError)}
        </Typography>
      )}
      {pages.hasMore && (
        <Button
          size="small"
          color="primary"
          aria-label={label}
          disabled={pages.loadingMore}
          onClick={pages.loadMore}
        >
          {pages.loadingMore ? 'Loading…' : 'Load more'}
        </Button>
      )}
    </div>
  );
}
