// `/api/viewer`, fetched once per page: whether the server has terrain, and the wall layouts.

import type { ViewerConfig } from './wallcfg';
import { api } from './api';

let pending: Promise<ViewerConfig> | null = null;

export function viewerConfig(): Promise<ViewerConfig> {
  pending ??= api('/api/viewer')
    .then((r) => (r.ok ? (r.json() as Promise<ViewerConfig>) : {}))
    .catch(() => ({}));
  return pending;
}
