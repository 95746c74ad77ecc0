// Sensor values as colours: the VN_AQI scale (Vietnam Environment Administration, Decision
// 1459/QD-TCMT) for air quality and depth bands for street flooding.

export interface Band {
  max: number;
  color: [number, number, number];
  vi: string;
  en: string;
}

/** VN_AQI categories: 0–50 good … 301–500 hazardous. */
export const VN_AQI_BANDS: Band[] = [
  { max: 50, color: [0, 228, 0], vi: 'Tốt', en: 'Good' },
  { max: 100, color: [255, 255, 0], vi: 'Trung bình', en: 'Moderate' },
  { max: 150, color: [255, 126, 0], vi: 'Kém', en: 'Poor' },
  { max: 200, color: [255, 0, 0], vi: 'Xấu', en: 'Bad' },
  { max: 300, color: [143, 63, 151], vi: 'Rất xấu', en: 'Very bad' },
  { max: Infinity, color: [126, 0, 35], vi: 'Nguy hại', en: 'Hazardous' },
];

/** Street flood depth (m): passable, difficult for motorbikes, cars stop, dangerous. */
export const FLOOD_BANDS: Band[] = [
  { max: 0.05, color: [102, 187, 106], vi: 'Khô', en: 'Dry' },
  { max: 0.2, color: [255, 235, 59], vi: 'Ngập nhẹ', en: 'Shallow' },
  { max: 0.5, color: [255, 152, 0], vi: 'Ngập', en: 'Flooded' },
  { max: Infinity, color: [229, 57, 53], vi: 'Ngập sâu', en: 'Deep' },
];

export function band(bands: Band[], v: number): Band {
  return bands.find((b) => v <= b.max) ?? bands[bands.length - 1];
}

/** PM2.5 breakpoints (µg/m³, 24 h) to the VN_AQI sub-index, linear within a band. */
const PM25_BREAKS: [number, number][] = [
  [0, 0], [25, 50], [50, 100], [80, 150], [150, 200], [250, 300], [350, 400], [500, 500],
];

export function pm25ToAqi(pm: number): number {
  if (!(pm >= 0)) return 0;
  for (let i = 1; i < PM25_BREAKS.length; i++) {
    const [c0, i0] = PM25_BREAKS[i - 1];
    const [c1, i1] = PM25_BREAKS[i];
    if (pm <= c1) return Math.round(i0 + ((i1 - i0) * (pm - c0)) / (c1 - c0));
  }
  return 500;
}

/** The colour a sensor is drawn in, or null when the entity is not a threshold sensor. */
export function sensorColor(kind: string, props: Record<string, unknown>): [number, number, number] | null {
  if (kind === 'air_quality_station') {
    const aqi = typeof props.vn_aqi === 'number' ? props.vn_aqi
      : typeof props.pm25_ugm3 === 'number' ? pm25ToAqi(props.pm25_ugm3) : null;
    return aqi === null ? null : band(VN_AQI_BANDS, aqi).color;
  }
  if (kind === 'flood_sensor' && typeof props.water_depth_m === 'number') {
    return band(FLOOD_BANDS, props.water_depth_m).color;
  }
  return null;
}
