// The camera card: a map popup beside a clicked camera with its live measures (from the camera
// entity, updated as deltas arrive) and its latest privacy-blurred frame, refetched while open.

import { Popup, type Map as MapLibreMap } from 'maplibre-gl';
import { cameraCardHtml, parseFootprint, snapshotUrl } from './cameras';
import { lang, t } from './i18n';
import type { EntityStore } from './store';
import { blobUrl } from './api';

/** How often the frame is refetched while the card is open. */
const SNAPSHOT_EVERY_MS = 3000;

export class CameraPopup {
  /** The camera entity shown, or null when closed. */
  entity: number | null = null;
  /** Frames shown since the card opened (tests). */
  shown = 0;
  private popup: Popup | null = null;
  private info: HTMLElement;
  private img: HTMLImageElement;
  private note: HTMLElement;
  private root: HTMLElement;
  private timer: ReturnType<typeof setInterval> | 0 = 0;
  private blob: string | null = null;
  private loading = false;

  constructor(private map: MapLibreMap, private store: EntityStore, private onClose: () => void) {
    this.root = document.createElement('div');
    this.root.className = 'cam-card';
    this.root.innerHTML = `<div class="cam-info"></div><div class="cam-shot"><img id="camera-snapshot" alt=""/>
      <span class="cam-replay badge hidden"></span></div><div class="cam-note meta"></div>`;
    this.info = this.root.querySelector('.cam-info')!;
    this.img = this.root.querySelector('img')!;
    this.note = this.root.querySelector('.cam-note')!;
  }

  open(id: number): void {
    const e = this.store.entities.get(id);
    if (!e) return;
    if (this.entity !== id) {
      this.close();
      this.entity = id;
      this.shown = 0;
      this.img.removeAttribute('src');
      this.img.classList.add('hidden');
      // Beside the camera's view cone, not on it: the cone and its detections stay visible.
      this.popup = new Popup({ anchor: 'left', offset: [this.clearance(e.to, e.props.footprint), 0], closeOnClick: false,
        maxWidth: '340px', className: 'camera-popup' })
        .setLngLat(e.to).setDOMContent(this.root).addTo(this.map);
      this.popup.on('close', () => {
        // Closed by its own button (close() has already cleared `entity` otherwise).
        if (this.entity === id) {
          this.stop();
          this.entity = null;
          this.popup = null;
          this.onClose();
        }
      });
      this.timer = setInterval(() => void this.refreshSnapshot(), SNAPSHOT_EVERY_MS);
      void this.refreshSnapshot();
    }
    this.render();
  }

  /** Pixels from the camera to the east edge of its cone on screen, plus a margin. */
  private clearance(at: [number, number], footprint: unknown): number {
    const c = this.map.project(at);
    const ring = parseFootprint(footprint) ?? [];
    const east = Math.max(0, ...ring.map((p) => this.map.project(p).x - c.x));
    return Math.min(400, Math.max(24, east) + 24);
  }

  close(): void {
    if (this.entity === null) return;
    this.stop();
    this.entity = null;
    const p = this.popup;
    this.popup = null;
    p?.remove();
  }

  /** Redraws the measures (called as live updates arrive and on a language switch). */
  render(): void {
    const e = this.entity === null ? undefined : this.store.entities.get(this.entity);
    if (!e) return;
    this.info.innerHTML = cameraCardHtml(e, (k) => t(k), (ms) => new Date(ms).toLocaleTimeString(lang()));
    const replay = this.root.querySelector<HTMLElement>('.cam-replay')!;
    replay.textContent = t('replay');
    replay.classList.toggle('hidden', e.props.replay !== true);
    this.img.alt = t('snapshot');
    if (!this.shown) this.note.textContent = t('no_frame');
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = 0;
    if (this.blob) URL.revokeObjectURL(this.blob);
    this.blob = null;
  }

  /** Fetches the newest frame once the camera has analysed one (before that the server has none). */
  private async refreshSnapshot(): Promise<void> {
    const id = this.entity;
    const e = id === null ? undefined : this.store.entities.get(id);
    if (!e || this.loading || !(Number(e.props.frames) > 0)) return;
    this.loading = true;
    let url: string | null = null;
    try {
      // Through the API client: an <img src> could not carry the bearer token.
      url = await blobUrl(snapshotUrl(String(e.props.external_id ?? ''), Date.now()));
      if (!url) return;
      if (this.entity !== id) {
        URL.revokeObjectURL(url);
        return;
      }
      // Swapped in only once decoded: no blank flash between frames.
      const next = new Image();
      next.src = url;
      await next.decode();
      if (this.entity !== id) {
        URL.revokeObjectURL(url);
        return;
      }
      this.img.src = url;
      this.img.classList.remove('hidden');
      if (this.blob) URL.revokeObjectURL(this.blob);
      this.blob = url;
      this.shown++;
      this.note.textContent = `${t('snapshot')} · ${new Date().toLocaleTimeString(lang())}`;
    } catch {
      // A frame that failed to load or decode: the next tick tries again.
      if (url && url !== this.blob) URL.revokeObjectURL(url);
    } finally {
      this.loading = false;
    }
  }
}
