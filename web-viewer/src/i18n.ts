// Vietnamese and English strings; Vietnamese is the default on the wall, the browser's choice elsewhere.

export type Lang = 'vi' | 'en';

const STRINGS = {
  vi: {
    title: 'Bản sao số Đà Nẵng', entities: 'đối tượng', layers: 'Lớp bản đồ', themes: 'Cơ quan',
    kinds: 'Loại', alerts: 'Cảnh báo', search: 'Tìm tên, hô hiệu, MMSI, tuyến, mã…', live: 'Trực tiếp',
    replay: 'Phát lại', theme_dark: 'Vận hành', theme_light: 'Quy hoạch', view2d: '2D', view3d: '3D',
    last_update: 'Cập nhật', track: 'Hành trình', close: 'Đóng', stale: 'mất tín hiệu', no_alerts: 'Không có cảnh báo',
    connected: 'Đã kết nối', reconnecting: 'Đang kết nối lại…', period: 'Khoảng', speed: 'Tốc độ',
    overview: 'Toàn thành phố', port: 'Cảng và biển', traffic: 'Giao thông', flood: 'Ngập lụt & môi trường',
    kpi: 'Chỉ số', active_alerts: 'Cảnh báo', moving: 'Đang di chuyển', max_flood: 'Ngập sâu nhất',
    avg_pm25: 'PM2.5 trung bình', series: 'Chuỗi thời gian',
    transport: 'Giao thông', port_t: 'Cảng vụ', police: 'Công an', health: 'Y tế', fire: 'PCCC & CNCH',
    environment: 'Môi trường', vessel: 'Tàu', fishing_boat: 'Tàu cá', bus: 'Xe buýt', ambulance: 'Cấp cứu',
    fire_truck: 'Xe cứu hỏa', police_unit: 'Tuần tra', camera: 'Camera', drone: 'Drone',
    flood_sensor: 'Cảm biến ngập', rain_gauge: 'Đo mưa', air_quality_station: 'Không khí',
    water_quality_station: 'Chất lượng nước', citizen_report: 'Phản ánh', incident: 'Sự cố', detection: 'Phát hiện',
    simulated: 'mô phỏng',
    camera_cones: 'Vùng nhìn camera', los: 'Mức phục vụ', los_unknown: 'chưa rõ', vehicles_in_view: 'Xe trong khung hình',
    mean_speed: 'Tốc độ trung bình', counts_per_min: 'Lưu lượng (phút trước)', per_min: '/phút',
    camera_alerts: 'Cảnh báo camera', alert_queue: 'Ùn tắc, xếp hàng', alert_stopped_vehicle: 'Xe dừng trong vùng cấm dừng',
    alert_person_restricted: 'Người trong vùng cấm', snapshot: 'Khung hình mới nhất (đã làm mờ khuôn mặt)',
    no_frame: 'Chưa có khung hình', cls_car: 'Ô tô', cls_truck: 'Xe tải', cls_bus: 'Xe buýt', cls_motorcycle: 'Xe máy',
    cls_bicycle: 'Xe đạp', cls_person: 'Người đi bộ',
    signin_title: 'Đăng nhập', signin_intro: 'Đăng nhập để mở bản sao số của thành phố.',
    session_expired: 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.', username: 'Tên đăng nhập',
    password: 'Mật khẩu', signin: 'Đăng nhập', signing_in: 'Đang đăng nhập…', signed_in_as: 'Đã đăng nhập: {user}',
    sign_out: 'Đăng xuất', err_credentials: 'Sai tên đăng nhập hoặc mật khẩu.',
    err_client: 'Máy chủ từ chối thông tin đăng nhập của màn hình này (client_id hoặc client_secret).',
    err_missing: 'Vui lòng nhập tên đăng nhập và mật khẩu.', err_rate: 'Đăng nhập sai quá nhiều lần. Thử lại sau {n} giây.',
    err_unreachable: 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.',
    err_server: 'Máy chủ đang gặp lỗi. Vui lòng thử lại sau ít phút.', err_refused: 'Máy chủ từ chối đăng nhập.',
  },
  en: {
    title: 'Da Nang digital twin', entities: 'entities', layers: 'Layers', themes: 'Agencies',
    kinds: 'Kinds', alerts: 'Alerts', search: 'Search name, call sign, MMSI, route, id…', live: 'Live',
    replay: 'Replay', theme_dark: 'Operations', theme_light: 'Planning', view2d: '2D', view3d: '3D',
    last_update: 'Last update', track: 'Track', close: 'Close', stale: 'stale', no_alerts: 'No alerts',
    connected: 'Connected', reconnecting: 'Reconnecting…', period: 'Period', speed: 'Speed',
    overview: 'City overview', port: 'Port and sea', traffic: 'Traffic', flood: 'Flooding & environment',
    kpi: 'Key figures', active_alerts: 'Alerts', moving: 'Moving', max_flood: 'Deepest flood',
    avg_pm25: 'Mean PM2.5', series: 'Time series',
    transport: 'Transport', port_t: 'Port Authority', police: 'Police', health: 'Health', fire: 'Fire & Rescue',
    environment: 'Environment', vessel: 'Vessel', fishing_boat: 'Fishing boat', bus: 'Bus', ambulance: 'Ambulance',
    fire_truck: 'Fire truck', police_unit: 'Police unit', camera: 'Camera', drone: 'Drone',
    flood_sensor: 'Flood sensor', rain_gauge: 'Rain gauge', air_quality_station: 'Air quality',
    water_quality_station: 'Water quality', citizen_report: 'Citizen report', incident: 'Incident', detection: 'Detection',
    simulated: 'simulated',
    camera_cones: 'Camera views', los: 'Level of service', los_unknown: 'unknown', vehicles_in_view: 'Vehicles in view',
    mean_speed: 'Mean speed', counts_per_min: 'Counts (last minute)', per_min: '/min',
    camera_alerts: 'Camera alerts', alert_queue: 'Queue or jam', alert_stopped_vehicle: 'Vehicle stopped in a no-stopping zone',
    alert_person_restricted: 'Person in a restricted zone', snapshot: 'Latest frame (faces blurred)',
    no_frame: 'No frame yet', cls_car: 'Car', cls_truck: 'Truck', cls_bus: 'Bus', cls_motorcycle: 'Motorcycle',
    cls_bicycle: 'Bicycle', cls_person: 'Pedestrian',
    signin_title: 'Sign in', signin_intro: 'Sign in to open the city digital twin.',
    session_expired: 'Your session has expired. Please sign in again.', username: 'Username',
    password: 'Password', signin: 'Sign in', signing_in: 'Signing in…', signed_in_as: 'Signed in as {user}',
    sign_out: 'Sign out', err_credentials: 'Wrong username or password.',
    err_client: "The server refused this screen's credentials (client_id or client_secret).",
    err_missing: 'Please enter your username and password.', err_rate: 'Too many attempts. Try again in {n} s.',
    err_unreachable: 'Cannot reach the server. Check the network and try again.',
    err_server: 'The server had an error. Please try again in a few minutes.', err_refused: 'The server refused the sign-in.',
  },
} as const;

export type Key = keyof (typeof STRINGS)['en'];

let current: Lang = 'en';

export function setLang(l: Lang): void {
  current = l;
}

export function lang(): Lang {
  return current;
}

/** The string for `key` in the current language (the key itself when unknown). */
export function t(key: string, l: Lang = current): string {
  const table = STRINGS[l] as Record<string, string>;
  return table[key] ?? (STRINGS.en as Record<string, string>)[key] ?? key;
}

/** `t(key)` with `{name}` placeholders filled from `vars`. */
export function tf(key: string, vars: Record<string, string | number>, l: Lang = current): string {
  return t(key, l).replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** `?lang=` wins, then the fallback (the wall passes 'vi'), then the browser language. */
export function pickLang(search: string, fallback?: Lang, navigatorLang = 'en'): Lang {
  const q = new URLSearchParams(search).get('lang');
  if (q === 'vi' || q === 'en') return q;
  if (fallback) return fallback;
  return navigatorLang.toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

/** Theme keys collide with panel names ('port'), so the theme label has its own key. */
export function themeLabel(theme: string): string {
  return t(theme === 'port' ? 'port_t' : theme);
}

export function stringKeys(l: Lang): string[] {
  return Object.keys(STRINGS[l]);
}
