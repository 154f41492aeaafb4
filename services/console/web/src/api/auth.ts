/**
 * The API's bearer token. Outside loopback the console requires one; the page is opened once as `…/?token=T`,
 * keeps T in sessionStorage (this tab only, gone when it closes) and removes it from the address bar, so a copied
 * address never carries it.
 */
const STORAGE_KEY = 'stinger.console.token';

export function takeToken(): string | null {
  const url = new URL(window.location.href);
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && fromQuery !== '') {
    window.sessionStorage.setItem(STORAGE_KEY, fromQuery);
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + (url.search === '?' ? '' : url.search) + url.hash);
  }
  return window.sessionStorage.getItem(STORAGE_KEY);
}
