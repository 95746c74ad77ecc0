// deck.gl 9.4's MapLibre integration (@deck.gl/mapbox) reads the camera from `map.transform`: its
// `height` (CSS pixels), `elevation` (metres × exaggeration of the terrain under the map centre) and
// `_nearZ`/`_farZ`. MapLibre 6 keeps its transform behind the camera, so `map.transform` is
// undefined and any view with terrain throws. This defines it from MapLibre's public API; deck
// then lifts its camera to the terrain exactly as it did with MapLibre 5.

export interface CameraSource {
  getContainer(): { clientHeight: number };
  getTerrain(): unknown;
  getCameraTargetElevation(): number;
}

/** What deck reads, computed on each access (the camera moves). */
export function deckTransform(map: CameraSource): { readonly height: number; readonly elevation: number } {
  return {
    get height() {
      return map.getContainer().clientHeight;
    },
    get elevation() {
      return map.getTerrain() ? map.getCameraTargetElevation() : 0;
    },
  };
}

/** Gives `map` the `transform` deck reads, unless the map library already has one. */
export function installDeckCompat(map: CameraSource): void {
  if ((map as { transform?: unknown }).transform !== undefined) return;
  const t = deckTransform(map);
  Object.defineProperty(map, 'transform', { configurable: true, get: () => t });
}
