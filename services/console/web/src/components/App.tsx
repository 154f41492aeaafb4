/** The page: the header with one tab per view, the shared filter bar, and the chosen view. */
import type { ViewName } from '../domain/filters.ts';
import { actions } from '../store/state.ts';
import { AgentsView } from './AgentsView.tsx';
import { AlertsView } from './AlertsView.tsx';
import { EgressView } from './EgressView.tsx';
import { FileAccessView } from './FileAccessView.tsx';
import { FilterBar } from './FilterBar.tsx';
import { LiveView } from './LiveView.tsx';
import { OverviewView } from './OverviewView.tsx';
import { ProcessTreeView } from './ProcessTreeView.tsx';
import { useDispatch, useSelector } from './store-context.ts';

const TABS: readonly { view: ViewName; label: string }[] = [
  { view: 'overview', label: 'Overview' },
  { view: 'live', label: 'Live events' },
  { view: 'files', label: 'File access' },
  { view: 'egress', label: 'Egress' },
  { view: 'tree', label: 'Process tree' },
  { view: 'alerts', label: 'Alerts' },
  { view: 'agents', label: 'Agents' },
];

function CurrentView(props: { view: ViewName }) {
  switch (props.view) {
    case 'overview':
      return <OverviewView />;
    case 'live':
      return <LiveView />;
    case 'files':
      return <FileAccessView />;
    case 'egress':
      return <EgressView />;
    case 'tree':
      return <ProcessTreeView />;
    case 'alerts':
      return <AlertsView />;
    case 'agents':
      return <AgentsView />;
  }
}

export function App() {
  const view = useSelector((s) => s.location.view);
  const unauthorized = useSelector((s) => s.unauthorized);
  const dispatch = useDispatch();
  return (
    <div class="page">
      <header class="top">
        <span class="brand">
          <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
            <path d="M8 1 14 4v4c0 3.5-2.5 6-6 7-3.5-1-6-3.5-6-7V4z" />
          </svg>
          Stinger
        </span>
        <nav aria-label="Views">
          {TABS.map((tab) => (
            <a
              key={tab.view}
              href={`?view=${tab.view}`}
              class={view === tab.view ? 'is-current' : ''}
              aria-current={view === tab.view ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                dispatch(actions.navigate(tab.view));
              }}
            >
              {tab.label}
            </a>
          ))}
        </nav>
      </header>
      <FilterBar />
      {unauthorized && (
        <div class="banner" role="alert">
          The console refused this page's token. Open it with <code>?token=…</code> (the token the console was started with).
        </div>
      )}
      <main>
        <CurrentView view={view} />
      </main>
    </div>
  );
}
