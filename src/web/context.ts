import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { TimeWindow } from './time.js';

export interface SessionInfo {
  tenant: { id: string; name: string; plan: 'free' | 'pro' | 'enterprise'; timezone: string };
  key: { id: string; name: string; prefix: string; scopes: string[] };
}

export interface ViewContext {
  session: SessionInfo;
  window: TimeWindow;
  params: URLSearchParams;
  /** Bumped by auto-refresh: every data hook depends on it. */
  tick: number;
}

export const View = createContext<ViewContext | null>(null);

export function useView(): ViewContext {
  const v = useContext(View);
  if (!v) throw new Error('useView outside <View.Provider>');
  return v;
}
