/**
 * Keeps the address bar and the store's location in step: a new view is a history entry (Back returns to the
 * previous view), a filter change replaces the current one; Back and Forward set the location from the address.
 */
import { formatLocation, parseLocation } from '../domain/filters.ts';
import { actions, type ConsoleState } from '../store/state.ts';
import type { Store } from '../store/store.ts';

export function syncAddressBar(store: Store<ConsoleState>): () => void {
  const onPopState = () => store.update(actions.setLocation(parseLocation(new URLSearchParams(window.location.search))));
  window.addEventListener('popstate', onPopState);
  const unsubscribe = store.subscribe((state, previous) => {
    if (state.location === previous.location) return;
    const query = formatLocation(state.location);
    if (query === window.location.search.replace(/^\?/, '')) return;
    const address = `${window.location.pathname}${query ? `?${query}` : ''}`;
    if (state.location.view !== previous.location.view) window.history.pushState(null, '', address);
    else window.history.replaceState(null, '', address);
  });
  return () => {
    unsubscribe();
    window.removeEventListener('popstate', onPopState);
  };
}
