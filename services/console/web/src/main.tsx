/**
 * The page's entry: takes the token, reads the location from the address bar, and wires the layers —
 * api (HTTP) → data-layer (requests into store updates) → store → components.
 */
import { render } from 'preact';
import { takeToken } from './api/auth.ts';
import { createApiClient } from './api/client.ts';
import { syncAddressBar } from './data-layer/address-bar.ts';
import { startDataLayer } from './data-layer/data-layer.ts';
import { parseLocation } from './domain/filters.ts';
import { initialState } from './store/state.ts';
import { createStore } from './store/store.ts';
import { App } from './components/App.tsx';
import { StoreContext } from './components/store-context.ts';
import './styles.css';

const token = takeToken();
const store = createStore(initialState(parseLocation(new URLSearchParams(window.location.search)), Date.now()));
syncAddressBar(store);
startDataLayer({ store, api: createApiClient({ baseUrl: window.location.origin, token }), clock: Date.now });

const root = document.getElementById('app');
if (root === null) throw new Error('index.html has no #app element');
render(
  <StoreContext.Provider value={store}>
    <App />
  </StoreContext.Provider>,
  root,
);
