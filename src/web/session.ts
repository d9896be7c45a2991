/**
 * The signed-in API key, in sessionStorage: it lives as long as the tab and is never written to
 * the URL (shared links carry the view, not the key).
 */
const KEY = 'tallyhouse.apiKey';
const NOTICE = 'tallyhouse.signInNotice';

export const storedKey = (): string | null => sessionStorage.getItem(KEY);
export const storeKey = (key: string) => sessionStorage.setItem(KEY, key);

/** Forgets the key; `notice` is shown on the sign-in form (why the user is back there). */
export function forgetKey(notice?: string) {
  sessionStorage.removeItem(KEY);
  if (notice) sessionStorage.setItem(NOTICE, notice);
}

export function takeNotice(): string | null {
  const n = sessionStorage.getItem(NOTICE);
  sessionStorage.removeItem(NOTICE);
  return n;
}
