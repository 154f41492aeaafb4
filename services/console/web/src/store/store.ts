/**
 * The page's one state object and who may change it. Components read it (through a selector) and dispatch
 * actions; the data layer writes what the API returned. Updates are pure functions of the previous state, so
 * every change is one replaceable object and a listener can compare by reference.
 */
export type Listener<S> = (state: S, previous: S) => void;

export interface Store<S> {
  get(): S;
  update(change: (state: S) => S): void;
  subscribe(listener: Listener<S>): () => void;
}

export function createStore<S>(initial: S): Store<S> {
  let state = initial;
  const listeners = new Set<Listener<S>>();
  return {
    get: () => state,
    update(change) {
      const previous = state;
      state = change(state);
      if (state === previous) return;
      for (const listener of [...listeners]) listener(state, previous);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
