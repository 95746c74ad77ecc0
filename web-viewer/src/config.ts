// `/api/viewer`, fetched once per page: whether the server has terrain, and the wall layouts.

import type { ViewerConfig } from './wallcfg';

let pending: Promise<ViewerConfig> | null = null;

export function viewerConfig(): Promise<ViewerConfig> {
  pending ??= fetch('/api/viewer')
    .then((r) => (r.ok ? (r.json() as Promise<ViewerConfig>) : {}))
    .catch(() => ({}));
  return pending;
}
