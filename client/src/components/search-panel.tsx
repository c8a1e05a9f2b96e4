// Search across the rooms you may read: the box in the top bar, and the panel of results below it, newest
// first, the words that matched marked, a page at a time. Choosing a result opens its room at that message.
import { useEffect, useRef, useState } from 'preact/hooks';
import { isPrivateRoom, MAX_SEARCH_QUERY_LENGTH, type RoomSummary, type SearchResult } from '../../../server/protocol';
import { ApiFailure, search, type SearchFilters } from '../api';
import { useEscape } from '../focus';

/** The search box of the top bar; submitting it opens the results panel. */
export function SearchBox({ onSearch }: { onSearch: (query: string) => void }) {
  const [query, setQuery] = useState('');
  return (
    <form
      class="search-box"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        if (query.trim()) onSearch(query.trim());
      }}
    >
      <input
        type="search"
        aria-label="Search messages"
        placeholder="Search messages"
        maxLength={MAX_SEARCH_QUERY_LENGTH}
        value={query}
        onInput={(event) => setQuery(event.currentTarget.value)}
      />
    </form>
  );
}

interface PanelProps {
  query: string;
  /** The room open now: offered as a filter. */
  room: string;
  /** The person's private rooms and DMs: their titles name them in the results. */
  titles: readonly RoomSummary[];
  onOpen: (result: SearchResult) => void;
  onClose: () => void;
}

type Status = { kind: 'loading' } | { kind: 'done' } | { kind: 'failed'; message: string };

export function SearchPanel({ query, room, titles, onOpen, onClose }: PanelProps) {
  const [filters, setFilters] = useState<SearchFilters>({ q: query });
  const [results, setResults] = useState<SearchResult[]>([]);
  const [next, setNext] = useState<string>();
  const [status, setStatus] = useState<Status>({ kind: 'loading' });
  /** Answers to an older search are dropped: only the latest one's results show. */
  const asked = useRef(0);
  const heading = useRef<HTMLHeadingElement>(null);
  useEscape(onClose, true);

  useEffect(() => setFilters((current) => ({ ...current, q: query })), [query]);

  const run = async (more: boolean) => {
    const ask = ++asked.current;
    setStatus({ kind: 'loading' });
    try {
      const page = await search(filters, more ? next : undefined);
      if (ask !== asked.current) return;
      setResults((shown) => (more ? [...shown, ...page.results] : page.results));
      setNext(page.next);
      setStatus({ kind: 'done' });
    } catch (error) {
      if (ask !== asked.current) return;
      const message = error instanceof ApiFailure ? error.message : 'the search failed';
      setStatus({ kind: 'failed', message: `Search failed: ${message}.` });
    }
  };

  useEffect(() => {
    setResults([]);
    setNext(undefined);
    void run(false);
    heading.current?.focus();
  }, [filters]);

  const setDate = (key: 'since' | 'until', value: string) => {
    // A day as the person reads it: from the start of "since" to the end of "until", in their time zone.
    const day = value ? new Date(`${value}T00:00`).getTime() : undefined;
    const at = day === undefined ? undefined : key === 'until' ? day + 24 * 60 * 60 * 1000 : day;
    setFilters(({ [key]: _old, ...rest }) => (at === undefined ? rest : { ...rest, [key]: at }));
  };

  return (
    <section class="search-panel" aria-labelledby="search-heading">
      <header class="search-panel-header">
        <h2 id="search-heading" tabIndex={-1} ref={heading}>
          Results for “{query}”
        </h2>
        <button type="button" class="link-button" onClick={onClose}>
          Close
        </button>
      </header>
      <div class="search-filters">
        <label>
          <input
            type="checkbox"
            checked={filters.room === room}
            onChange={(event) => setFilters(({ room: _old, ...rest }) => (event.currentTarget.checked ? { ...rest, room } : rest))}
          />{' '}
          Only {roomName(room, titles)}
        </label>
        <label>
          From{' '}
          <input
            type="text"
            size={10}
            value={filters.author ?? ''}
            onChange={(event) => {
              const author = event.currentTarget.value.trim();
              setFilters(({ author: _old, ...rest }) => (author ? { ...rest, author } : rest));
            }}
          />
        </label>
        <label>
          After <input type="date" onChange={(event) => setDate('since', event.currentTarget.value)} />
        </label>
        <label>
          Before <input type="date" onChange={(event) => setDate('until', event.currentTarget.value)} />
        </label>
      </div>
      <ol class="search-results" aria-busy={status.kind === 'loading'}>
        {results.map((result) => (
          <li key={`${result.message.room}:${result.message.seq}`}>
            <button type="button" class="search-result" onClick={() => onOpen(result)}>
              <span class="search-result-where">
                <span class="search-result-room">{roomName(result.message.room, titles)}</span> · <span class="author">{result.message.author}</span> ·{' '}
                <time dateTime={new Date(result.message.at).toISOString()}>{new Date(result.message.at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}</time>
              </span>
              <span class="search-result-text" dir="auto">
                <Highlighted text={result.message.text} spans={result.highlights} />
              </span>
            </button>
          </li>
        ))}
      </ol>
      <p class="search-status" role="status">
        {status.kind === 'loading' && 'Searching…'}
        {status.kind === 'failed' && status.message}
        {status.kind === 'done' && results.length === 0 && !next && 'No messages match.'}
        {status.kind === 'done' && results.length === 0 && next && 'Nothing yet in the most recent messages.'}
      </p>
      {next && status.kind !== 'loading' && (
        <button type="button" class="search-more" onClick={() => void run(true)}>
          {results.length === 0 ? 'Search older messages' : 'More results'}
        </button>
      )}
    </section>
  );
}

/** How the sidebar names a room: #name, or a private room's title (🔒), or a DM's other person (@). */
function roomName(room: string, titles: readonly RoomSummary[]): string {
  if (!isPrivateRoom(room)) return `#${room}`;
  const summary = titles.find((candidate) => candidate.room === room);
  if (!summary) return 'a private room';
  return summary.dm ? `@${summary.title}` : `🔒 ${summary.title}`;
}

/** `text` with the spans that matched in <mark>. */
function Highlighted({ text, spans }: { text: string; spans: [number, number][] }) {
  const parts = [];
  let last = 0;
  for (const [start, end] of spans) {
    if (start < last || end > text.length) continue;
    if (start > last) parts.push(text.slice(last, start));
    parts.push(<mark key={start}>{text.slice(start, end)}</mark>);
    last = end;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}
