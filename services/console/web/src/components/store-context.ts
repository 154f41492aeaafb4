/**
 * How components reach the store: a context set once by the page's entry, `useSelector` (re-renders only when the
 * selected value changes, compared with Object.is) and `useDispatch`.
 */
import { createContext } from 'preact';
import { useContext, useEffect, useReducer, useRef } from 'preact/hooks';
import type { ConsoleState } from '../store/state.ts';
import type { Store } from '../store/store.ts';

export const StoreContext = createContext<Store<ConsoleState> | null>(null);

function useStore(): Store<ConsoleState> {
  const store = useContext(StoreContext);
  if (store === null) throw new Error('StoreContext is not provided');
  return store;
}

export function useSelector<T>(selector: (state: ConsoleState) => T): T {
  const store = useStore();
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const selected = selector(store.get());
  const latest = useRef({ selector, selected });
  latest.current = { selector, selected };
  useEffect(
    () =>
      store.subscribe((state) => {
        if (!Object.is(latest.current.selector(state), latest.current.selected)) rerender(undefined);
      }),
    [store],
  );
  return selected;
}

export function useDispatch(): (change: (state: ConsoleState) => ConsoleState) => void {
  const store = useStore();
  return store.update;
}
