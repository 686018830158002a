// Vietnamese first, English on a toggle. Numbers and times follow the
// language (vi-VN: 52.110), times are shown in the event's time zone.
// Level names, statuses, incident kinds and the launch's words come from
// /static/labels.js, made by the server from server/core/labels.py: the one
// source the point page, the hall, the link sheet and the reports use too.

import {LABELS} from '/static/labels.js';

const VI = {
  'login.title': 'Bảng điều khiển Ban tổ chức', 'login.hint': 'Nhập mã truy cập được cấp cho bạn.',
  'login.token': 'Mã truy cập', 'login.submit': 'Đăng nhập', 'login.bad': 'Mã truy cập không đúng hoặc đã bị thu hồi.',
  'nav.dashboard': 'Tổng quan', 'nav.points': 'Điểm cầu', 'nav.incidents': 'Sự cố', 'nav.control': 'Điều hành',
  'nav.reports': 'Báo cáo', 'nav.audit': 'Nhật ký', 'nav.logout': 'Đăng xuất',
  'role.admin': 'quản trị', 'role.operator': 'điều hành', 'role.viewer': 'chỉ xem',
  'conn.connecting': 'Đang kết nối…', 'conn.live': 'Trực tiếp', 'conn.retry': 'Mất kết nối — thử lại sau {s} giây',
  'conn.noevent': 'Chưa có sự kiện nào',
  'fig.checked': 'Điểm cầu đã điểm danh', 'fig.online': 'Đang trực tuyến', 'fig.attendees': 'Người tham dự',
  'fig.incidents': 'Sự cố đang mở', 'fig.of_points': '{pct} số điểm cầu', 'fig.of_expected': '{pct} so với dự kiến',
  'fig.missing': 'còn {n} điểm cầu chưa điểm danh', 'fig.inc_none': 'không có sự cố',
  'fig.inc_oldest': 'lâu nhất {age}',
  'dash.countdowns': 'Mốc thời gian', 'dash.report_deadline': 'Chốt báo cáo', 'dash.ceremony_start': 'Khai mạc',
  'dash.preflight': 'Sẵn sàng trước giờ G', 'dash.timeline': 'Điểm danh theo thời gian', 'dash.by_level': 'Theo cấp',
  'dash.by_district': 'Theo huyện (tỷ lệ điểm danh)', 'dash.at': 'lúc {t}', 'dash.passed': 'đã qua',
  'dash.no_data': 'Chưa có điểm danh nào.',
  'pf.online': 'Điểm cầu trực tuyến', 'pf.checked': 'Điểm cầu đã điểm danh',
  'pf.clock': 'Đồng hồ đã đồng bộ (sai số ≤ {ms} ms)', 'pf.incidents': 'Sự cố đang mở',
  'pf.clock_detail': 'sai số trung vị {med} ms, lớn nhất {max} ms', 'pf.clock_none': 'chưa có điểm cầu nào đồng bộ',
  'pf.go': 'SẴN SÀNG', 'pf.nogo': 'CHƯA SẴN SÀNG', 'pf.need': 'cần ≥ {pct}',
  'col.level': 'Cấp', 'col.points': 'Điểm cầu', 'col.checked': 'Đã điểm danh', 'col.online': 'Trực tuyến',
  'col.attendees': 'Người dự', 'col.expected': 'Dự kiến', 'col.district': 'Huyện', 'col.code': 'Mã',
  'col.name': 'Tên điểm cầu', 'col.chair': 'Người phụ trách', 'col.phone': 'Điện thoại', 'col.status': 'Trạng thái',
  'col.last_seen': 'Lần cuối', 'col.incidents': 'Sự cố', 'col.point': 'Điểm cầu', 'col.total': 'Tổng cộng',
  'status.crowded': 'Quá nhiều kết nối',
  'points.search': 'Tìm theo tên hoặc mã (không cần dấu)', 'points.all_levels': 'Mọi cấp',
  'points.all_districts': 'Mọi huyện', 'points.all_status': 'Mọi trạng thái', 'points.no_district': 'Không thuộc huyện',
  'points.sort_district': 'Xếp theo huyện', 'points.sort_code': 'Xếp theo mã', 'points.sort_name': 'Xếp theo tên',
  'points.sort_recent': 'Mới cập nhật trước', 'points.count': '{shown} / {total} điểm cầu',
  'points.page': 'Trang {page} / {pages}', 'points.import': 'Nhập danh sách (CSV/XLSX)',
  'points.links_html': 'Phiếu liên kết (in)', 'points.links_csv': 'Liên kết (CSV)',
  'points.missing': 'Chưa điểm danh — gọi điện theo huyện', 'points.edit': 'Sửa', 'points.rotate': 'Đổi liên kết',
  'points.rotate_confirm': 'Đổi liên kết của điểm cầu {code}? Liên kết cũ sẽ ngừng hoạt động ngay.',
  'points.new_link': 'Liên kết mới của điểm cầu {code}', 'points.none': 'Không có điểm cầu nào khớp.',
  'points.all_checked': 'Mọi điểm cầu đã điểm danh.',
  'import.title': 'Kết quả nhập danh sách', 'import.summary': 'Thêm mới {created}, cập nhật {updated}, lỗi {errors}.',
  'import.row': 'Dòng', 'import.column': 'Cột', 'import.message': 'Lỗi',
  'edit.title': 'Sửa điểm cầu', 'edit.parent': 'Đơn vị cấp trên (mã)', 'edit.saved': 'Đã lưu điểm cầu {code}.',
  'inc.open': 'Sự cố đang mở (cũ nhất trước)', 'inc.age': 'Đã mở', 'inc.kind': 'Loại', 'inc.note': 'Ghi chú',
  'inc.none': 'Không có sự cố nào đang mở.', 'inc.resolved': 'Đã xử lý gần đây', 'inc.resolve': 'Đã xử lý',
  'inc.resolved_by': '{point}: {kind} — {who} lúc {t}', 'inc.new': 'Sự cố mới tại {point}: {kind}',
  'notice.title': 'Gửi thông báo', 'notice.placeholder': 'Nội dung thông báo tới các điểm cầu',
  'notice.send': 'Gửi', 'notice.all': 'Tới mọi điểm cầu', 'notice.to': 'Tới {name}', 'notice.sent': 'Thông báo đã gửi',
  'notice.toast': 'Thông báo: {text}',
  'agenda.title': 'Chương trình', 'agenda.current': 'Đang diễn ra', 'agenda.offset': 'So với kế hoạch',
  'agenda.next': 'Tiếp theo', 'agenda.start': 'Bắt đầu', 'agenda.prev': '‹ Mục trước', 'agenda.next_btn': 'Mục tiếp ›',
  'agenda.pause': 'Tạm dừng', 'agenda.resume': 'Tiếp tục', 'agenda.finish': 'Kết thúc',
  'agenda.late': 'Chậm {d}', 'agenda.early': 'Sớm {d}', 'agenda.on_time': 'Đúng giờ', 'agenda.planned': 'kế hoạch {d}',
  'agenda.empty': 'Chưa có chương trình.', 'agenda.over': 'quá giờ',
  'agenda.state.not_started': 'Chưa bắt đầu', 'agenda.state.running': 'Đang diễn ra',
  'agenda.state.paused': 'Tạm dừng', 'agenda.state.finished': 'Đã kết thúc',
  'launch.countdown': 'Đếm ngược (giây)', 'launch.keys': 'Số người bấm',
  'launch.rehearsal': 'Diễn tập', 'launch.arm': 'Kích hoạt', 'launch.press': 'BẤM NÚT', 'launch.abort': 'Hủy',
  'launch.reset': 'Đặt lại (diễn tập)', 'launch.hall': 'Mở màn hình hội trường ↗',
  'launch.rehearsal_badge': 'diễn tập',
  'launch.keys_pressed': 'Đã bấm {n}/{of}: {names}', 'launch.waiting': 'Chờ {n} người bấm',
  'launch.spread': 'Độ lệch giữa các điểm cầu',
  'launch.bound': 'Sai số đồng hồ lớn nhất', 'launch.missing': 'Chưa báo',
  'launch.abort_confirm': 'Hủy lần bấm nút này?',
  'key.title': 'Ai đang bấm nút?', 'key.name': 'Họ tên người bấm',
  'rep.live': 'Báo cáo hiện tại', 'rep.xlsx': 'Tải Excel (.xlsx)', 'rep.html': 'Bản in (A4)',
  'rep.snapshots': 'Các bản chốt', 'rep.label': 'Nhãn (không bắt buộc), ví dụ: báo cáo lúc 07:15',
  'rep.take': 'Chốt báo cáo ngay', 'rep.col_label': 'Nhãn', 'rep.col_taken': 'Thời điểm', 'rep.col_by': 'Người chốt',
  'rep.col_files': 'Tải về', 'rep.none': 'Chưa có bản chốt nào.', 'rep.auto': 'tự động',
  'rep.auto_at': 'Báo cáo sẽ được tự động chốt lúc {t}.', 'rep.auto_done': 'Đã tự động chốt lúc {t} (bản số {n}).',
  'rep.auto_missed': 'Hạn chốt {t} đã qua mà không có bản chốt tự động (máy chủ không chạy lúc đó); hãy chốt bằng tay.', 'rep.taken': 'Đã chốt “{label}”.',
  'audit.title': 'Nhật ký thao tác', 'audit.when': 'Thời gian', 'audit.who': 'Người thực hiện',
  'audit.what': 'Thao tác', 'audit.type': 'Loại', 'audit.more': 'Xem cũ hơn', 'audit.system': 'hệ thống',
  'common.cancel': 'Hủy', 'common.save': 'Lưu', 'common.close': 'Đóng', 'common.error': 'Lỗi: {msg}',
  'common.forbidden': 'Bạn không có quyền thực hiện thao tác này.',
  'time.s': '{n} giây', 'time.m': '{n} phút', 'time.h': '{h} giờ {m} phút', 'time.ago': '{d} trước',
  'time.left': 'còn {d}',
};

const EN = {
  'login.title': 'Organizer console', 'login.hint': 'Enter the access token you were given.',
  'login.token': 'Access token', 'login.submit': 'Log in', 'login.bad': 'Unknown or revoked token.',
  'nav.dashboard': 'Dashboard', 'nav.points': 'Points', 'nav.incidents': 'Incidents', 'nav.control': 'Control room',
  'nav.reports': 'Reports', 'nav.audit': 'Audit', 'nav.logout': 'Log out',
  'role.admin': 'admin', 'role.operator': 'operator', 'role.viewer': 'viewer',
  'conn.connecting': 'Connecting…', 'conn.live': 'Live', 'conn.retry': 'Disconnected — retrying in {s} s',
  'conn.noevent': 'No event yet',
  'fig.checked': 'Points checked in', 'fig.online': 'Online', 'fig.attendees': 'Attendees',
  'fig.incidents': 'Open incidents', 'fig.of_points': '{pct} of the points', 'fig.of_expected': '{pct} of expected',
  'fig.missing': '{n} points not checked in', 'fig.inc_none': 'no incidents', 'fig.inc_oldest': 'oldest {age}',
  'dash.countdowns': 'Deadlines', 'dash.report_deadline': 'Report deadline', 'dash.ceremony_start': 'Ceremony start',
  'dash.preflight': 'Pre-flight', 'dash.timeline': 'Check-ins over time', 'dash.by_level': 'By level',
  'dash.by_district': 'By district (checked in)', 'dash.at': 'at {t}', 'dash.passed': 'passed',
  'dash.no_data': 'No check-ins yet.',
  'pf.online': 'Points online', 'pf.checked': 'Points checked in', 'pf.clock': 'Clocks synced (error ≤ {ms} ms)',
  'pf.incidents': 'Open incidents', 'pf.clock_detail': 'median error {med} ms, worst {max} ms',
  'pf.clock_none': 'no point synced yet', 'pf.go': 'GO', 'pf.nogo': 'NO GO', 'pf.need': 'needs ≥ {pct}',
  'col.level': 'Level', 'col.points': 'Points', 'col.checked': 'Checked in', 'col.online': 'Online',
  'col.attendees': 'Attendees', 'col.expected': 'Expected', 'col.district': 'District', 'col.code': 'Code',
  'col.name': 'Point', 'col.chair': 'Chair', 'col.phone': 'Phone', 'col.status': 'Status',
  'col.last_seen': 'Last seen', 'col.incidents': 'Incidents', 'col.point': 'Point', 'col.total': 'Total',
  'status.crowded': 'Too many connections',
  'points.search': 'Search name or code (accents optional)', 'points.all_levels': 'All levels',
  'points.all_districts': 'All districts', 'points.all_status': 'Any status', 'points.no_district': 'No district',
  'points.sort_district': 'By district', 'points.sort_code': 'By code', 'points.sort_name': 'By name',
  'points.sort_recent': 'Recently updated', 'points.count': '{shown} / {total} points',
  'points.page': 'Page {page} / {pages}', 'points.import': 'Import list (CSV/XLSX)',
  'points.links_html': 'Link sheet (print)', 'points.links_csv': 'Links (CSV)',
  'points.missing': 'Not checked in — call by district', 'points.edit': 'Edit', 'points.rotate': 'New link',
  'points.rotate_confirm': 'Give point {code} a new link? The old one stops working at once.',
  'points.new_link': 'New link of point {code}', 'points.none': 'No point matches.',
  'points.all_checked': 'Every point has checked in.',
  'import.title': 'Import result', 'import.summary': '{created} created, {updated} updated, {errors} errors.',
  'import.row': 'Row', 'import.column': 'Column', 'import.message': 'Error',
  'edit.title': 'Edit point', 'edit.parent': 'Parent (code)', 'edit.saved': 'Point {code} saved.',
  'inc.open': 'Open incidents (oldest first)', 'inc.age': 'Open for', 'inc.kind': 'Kind', 'inc.note': 'Note',
  'inc.none': 'No open incidents.', 'inc.resolved': 'Recently resolved', 'inc.resolve': 'Resolve',
  'inc.resolved_by': '{point}: {kind} — {who} at {t}', 'inc.new': 'New incident at {point}: {kind}',
  'notice.title': 'Send a notice', 'notice.placeholder': 'Text shown on the points’ screens',
  'notice.send': 'Send', 'notice.all': 'To every point', 'notice.to': 'To {name}', 'notice.sent': 'Notices sent',
  'notice.toast': 'Notice: {text}',
  'agenda.title': 'Agenda', 'agenda.current': 'Now', 'agenda.offset': 'Against the plan', 'agenda.next': 'Next',
  'agenda.start': 'Start', 'agenda.prev': '‹ Previous', 'agenda.next_btn': 'Next ›', 'agenda.pause': 'Pause',
  'agenda.resume': 'Resume', 'agenda.finish': 'Finish', 'agenda.late': '{d} behind', 'agenda.early': '{d} ahead',
  'agenda.on_time': 'On time', 'agenda.planned': 'planned {d}', 'agenda.empty': 'No agenda yet.',
  'agenda.over': 'over time',
  'agenda.state.not_started': 'Not started', 'agenda.state.running': 'Running', 'agenda.state.paused': 'Paused',
  'agenda.state.finished': 'Finished',
  'launch.countdown': 'Countdown (seconds)', 'launch.keys': 'Keys required',
  'launch.rehearsal': 'Rehearsal', 'launch.arm': 'Arm', 'launch.press': 'PRESS', 'launch.abort': 'Abort',
  'launch.reset': 'Reset (rehearsal)', 'launch.hall': 'Open the hall screen ↗',
  'launch.rehearsal_badge': 'rehearsal',
  'launch.keys_pressed': 'Pressed {n}/{of}: {names}', 'launch.waiting': 'Waiting for {n} keys',
  'launch.spread': 'Spread between points',
  'launch.bound': 'Worst clock error', 'launch.missing': 'Not reported', 'launch.abort_confirm': 'Abort this launch?',
  'key.title': 'Who is pressing?', 'key.name': 'Full name of the person pressing',
  'rep.live': 'Current report', 'rep.xlsx': 'Download Excel (.xlsx)', 'rep.html': 'Printable (A4)',
  'rep.snapshots': 'Snapshots', 'rep.label': 'Label (optional), e.g. report at 07:15', 'rep.take': 'Take a snapshot now',
  'rep.col_label': 'Label', 'rep.col_taken': 'Taken', 'rep.col_by': 'By', 'rep.col_files': 'Download',
  'rep.none': 'No snapshot yet.', 'rep.auto': 'automatic', 'rep.auto_at': 'A snapshot will be taken automatically at {t}.',
  'rep.auto_done': 'Taken automatically at {t} (snapshot {n}).',
  'rep.auto_missed': 'The {t} deadline passed without an automatic snapshot (the server was not running); take one by hand.',
  'rep.taken': 'Snapshot “{label}” taken.',
  'audit.title': 'Audit log', 'audit.when': 'When', 'audit.who': 'Who', 'audit.what': 'What', 'audit.type': 'Type',
  'audit.more': 'Older', 'audit.system': 'system',
  'common.cancel': 'Cancel', 'common.save': 'Save', 'common.close': 'Close', 'common.error': 'Error: {msg}',
  'common.forbidden': 'You are not allowed to do this.',
  'time.s': '{n} s', 'time.m': '{n} min', 'time.h': '{h} h {m} min', 'time.ago': '{d} ago', 'time.left': '{d} left',
};

for (const [dict, L] of [[VI, LABELS.vi], [EN, LABELS.en]]) {
  for (const [group, prefix] of [['levels', 'level'], ['kinds', 'kind'], ['statuses', 'status'],
    ['launch_states', 'launch.state']]) {
    for (const [k, v] of Object.entries(L[group])) dict[`${prefix}.${k}`] = v;
  }
  dict['launch.title'] = L.launch_title;
  dict['launch.fired_count'] = L.launch_figures.fired_count;
}

const DICTS = {vi: VI, en: EN};
const listeners = new Set();
let lang = localStorage.getItem('launchday.lang') === 'en' ? 'en' : 'vi';
let zone = 'Asia/Ho_Chi_Minh';
let numberFmt;
let timeFmt;
let timeShortFmt;
let dateTimeFmt;

function locale() {
  return lang === 'vi' ? 'vi-VN' : 'en-GB';
}

function rebuild() {
  numberFmt = new Intl.NumberFormat(locale());
  const base = {timeZone: zone, hour12: false};
  timeFmt = new Intl.DateTimeFormat(locale(), {...base, hour: '2-digit', minute: '2-digit', second: '2-digit'});
  timeShortFmt = new Intl.DateTimeFormat(locale(), {...base, hour: '2-digit', minute: '2-digit'});
  dateTimeFmt = new Intl.DateTimeFormat(locale(), {...base, hour: '2-digit', minute: '2-digit', day: '2-digit',
    month: '2-digit', year: 'numeric'});
}
rebuild();

export function getLang() {
  return lang;
}

/** The translation of `key`, with {name} placeholders filled from `params`. */
export function t(key, params) {
  const text = DICTS[lang][key] ?? VI[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? ''));
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'vi';
  localStorage.setItem('launchday.lang', lang);
  rebuild();
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** The event's IANA time zone, for every time shown. */
export function setZone(tz) {
  if (tz && tz !== zone) {
    zone = tz;
    rebuild();
  }
}

/** Translate the static page: [data-i18n] text and [data-i18n-placeholder]. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of root.querySelectorAll('.lang-toggle')) node.textContent = lang === 'vi' ? 'English' : 'Tiếng Việt';
}

export const num = (n) => (n === null || n === undefined || Number.isNaN(n) ? '—' : numberFmt.format(n));
export const pct = (part, whole) => (whole ? `${new Intl.NumberFormat(locale(), {maximumFractionDigits: 1})
  .format((100 * part) / whole)}%` : '—');
export const time = (ms) => (ms ? timeFmt.format(ms) : '—');
export const timeShort = (ms) => (ms ? timeShortFmt.format(ms) : '—');
export const dateTime = (ms) => (ms ? dateTimeFmt.format(ms) : '—');

/** 75 → "1:15", 3725 → "1:02:05"; signed: "+1:15" / "−0:40". */
export function clockDuration(seconds, signed = false) {
  if (seconds === null || seconds === undefined) return '—';
  const sign = seconds < 0 ? '−' : signed ? '+' : '';
  let rest = Math.round(Math.abs(seconds));
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  const mm = h ? String(m).padStart(2, '0') : String(m);
  return `${sign}${h ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** A human duration: "45 giây", "12 phút", "1 giờ 5 phút". */
export function humanDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('time.s', {n: s});
  if (s < 3600) return t('time.m', {n: Math.floor(s / 60)});
  return t('time.h', {h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60)});
}

export const levelName = (level) => t(`level.${level}`);
export const kindName = (kind) => t(`kind.${kind}`);

// -- Self-service: events, the programme editor, people (issue 12) ----------
// Kept in their own block so they merge apart from the label dictionary above.
Object.assign(VI, {
  'nav.events': 'Sự kiện', 'nav.programme': 'Chương trình', 'nav.people': 'Người dùng',
  'events.title': 'Các sự kiện', 'events.name': 'Tên sự kiện', 'events.starts': 'Khai mạc',
  'events.deadline': 'Chốt báo cáo', 'events.tz': 'Múi giờ', 'events.none': 'Chưa có sự kiện nào.',
  'events.create': 'Tạo sự kiện mới', 'events.create_btn': 'Tạo sự kiện', 'events.edit': 'Sửa sự kiện',
  'events.open': 'Mở', 'events.current': 'đang mở', 'events.created': 'Đã tạo sự kiện “{name}”.',
  'events.saved': 'Đã lưu sự kiện.', 'events.pick': 'Chọn một sự kiện để theo dõi.',
  'events.bad_tz': 'Múi giờ “{tz}” không tồn tại (ví dụ đúng: Asia/Ho_Chi_Minh).',
  'prog.title': 'Soạn chương trình', 'prog.item_title': 'Nội dung', 'prog.speaker': 'Người thực hiện',
  'prog.location': 'Địa điểm (điểm cầu)', 'prog.minutes': 'Phút', 'prog.add': '+ Thêm mục',
  'prog.revert': 'Hoàn tác', 'prog.save': 'Lưu chương trình', 'prog.saved': 'Đã lưu chương trình ({n} mục).',
  'prog.unchanged': 'Chương trình không thay đổi.',
  'prog.empty': 'Chưa có mục nào. Thêm từng mục hoặc dán bảng từ Excel.',
  'prog.locked': 'Chương trình đang chạy: không sửa được. Bấm “Kết thúc” ở màn hình Điều hành trước khi sửa.',
  'prog.running': 'Chương trình đang chạy nên không lưu được. Kết thúc chương trình trước khi sửa.',
  'prog.total': 'Tổng thời lượng dự kiến: {d}', 'prog.up': 'Lên', 'prog.down': 'Xuống', 'prog.remove': 'Xóa',
  'prog.loc_ph': 'Tìm điểm cầu (không cần dấu)', 'prog.loc_none': 'Không có điểm cầu nào khớp.',
  'prog.loc_clear': 'Bỏ địa điểm', 'prog.dirty': 'Có thay đổi chưa lưu.',
  'prog.paste_title': 'Dán hoặc nhập chương trình từ bảng tính',
  'prog.paste_hint': 'Bốn cột theo thứ tự: nội dung, người thực hiện, địa điểm (mã hoặc tên điểm cầu, có thể để trống), số phút. Chép các dòng trong Excel rồi dán vào đây.',
  'prog.paste_apply': 'Đưa vào chương trình', 'prog.file': 'Chọn tệp (CSV/TSV)',
  'prog.pasted': 'Đã đưa {n} mục vào chương trình. Kiểm tra rồi bấm “Lưu chương trình”.',
  'prog.err_title': 'Dòng {row}: thiếu nội dung.', 'prog.err_minutes': 'Dòng {row}: số phút “{v}” không hợp lệ.',
  'prog.err_location': 'Dòng {row}: không tìm thấy điểm cầu “{v}”.',
  'prog.err_ambiguous': 'Dòng {row}: có nhiều điểm cầu khớp “{v}”; hãy ghi mã điểm cầu.',
  'prog.err_item': 'Mục {item}: {field} — {message}',
  'kh.title': 'Người bấm nút phát động', 'kh.hint': 'Mỗi người có một liên kết và mã QR riêng, chỉ để bấm nút của mình.',
  'kh.name': 'Người bấm nút', 'kh.name_ph': 'Ví dụ: Chủ tịch UBND tỉnh', 'kh.add': 'Thêm người bấm nút',
  'kh.added': 'Thêm lúc', 'kh.none': 'Chưa có người bấm nút nào.', 'kh.link_title': 'Liên kết bấm nút của {name}',
  'kh.link_hint': 'Mở trên điện thoại của người bấm nút: trang chỉ có nút của họ, đồng hồ đếm ngược và trạng thái.',
  'kh.revoked': 'Đã thu hồi liên kết của {name}.',
  'people.status': 'Trạng thái', 'people.active': 'Đang dùng', 'people.revoked': 'Đã thu hồi', 'people.revoke': 'Thu hồi',
  'org.title': 'Mã truy cập của Ban tổ chức', 'org.name': 'Tên', 'org.name_ph': 'Ví dụ: Máy tính bảng bàn điều hành',
  'org.role': 'Vai trò', 'org.add': 'Cấp mã', 'org.issued': 'Cấp lúc', 'org.last_used': 'Dùng lần cuối',
  'org.never': 'chưa dùng', 'org.link_title': 'Đăng nhập cho {name} ({role})',
  'org.link_hint': 'Quét mã QR bằng máy tính bảng hoặc mở liên kết: máy sẽ đăng nhập vào bảng điều khiển.',
  'org.last_used_note': '“Dùng lần cuối” do máy chủ này ghi nhớ kể từ lần bật gần nhất.',
  'org.audit': 'Nhật ký cấp và thu hồi mã', 'org.revoked': 'Đã thu hồi mã của {name}.',
  'secret.once': 'Liên kết này chỉ hiện một lần. Hãy in, chụp mã QR hoặc gửi ngay cho người nhận.',
  'secret.copy': 'Chép liên kết', 'secret.copied': 'Đã chép liên kết.', 'secret.print': 'In',
  'login.link_bad': 'Liên kết đăng nhập không đúng hoặc đã bị thu hồi.',
});
Object.assign(EN, {
  'nav.events': 'Events', 'nav.programme': 'Programme', 'nav.people': 'People',
  'events.title': 'Events', 'events.name': 'Event name', 'events.starts': 'Start', 'events.deadline': 'Report deadline',
  'events.tz': 'Time zone', 'events.none': 'No event yet.', 'events.create': 'New event', 'events.create_btn': 'Create the event',
  'events.edit': 'Edit the event', 'events.open': 'Open', 'events.current': 'open now',
  'events.created': 'Created the event “{name}”.', 'events.saved': 'Event saved.', 'events.pick': 'Pick an event to follow.',
  'events.bad_tz': 'Unknown time zone “{tz}” (for example: Asia/Ho_Chi_Minh).',
  'prog.title': 'Programme editor', 'prog.item_title': 'Item', 'prog.speaker': 'Speaker',
  'prog.location': 'Location (point)', 'prog.minutes': 'Minutes', 'prog.add': '+ Add an item', 'prog.revert': 'Undo changes',
  'prog.save': 'Save the programme', 'prog.saved': 'Programme saved ({n} items).', 'prog.unchanged': 'The programme did not change.',
  'prog.empty': 'No item yet. Add items one by one or paste a table from Excel.',
  'prog.locked': 'The programme is running and cannot be edited. Press “Finish” in the control room first.',
  'prog.running': 'The programme is running, so it was not saved. Finish it before editing.',
  'prog.total': 'Planned length: {d}', 'prog.up': 'Up', 'prog.down': 'Down', 'prog.remove': 'Remove',
  'prog.loc_ph': 'Search a point (diacritics optional)', 'prog.loc_none': 'No point matches.', 'prog.loc_clear': 'No location',
  'prog.dirty': 'Unsaved changes.', 'prog.paste_title': 'Paste or import the programme from a spreadsheet',
  'prog.paste_hint': 'Four columns in this order: item, speaker, location (a point code or name, may be empty), minutes. Copy the rows in Excel and paste them here.',
  'prog.paste_apply': 'Put into the programme', 'prog.file': 'Choose a file (CSV/TSV)',
  'prog.pasted': 'Put {n} items into the programme. Check them, then press “Save the programme”.',
  'prog.err_title': 'Row {row}: the item has no title.', 'prog.err_minutes': 'Row {row}: “{v}” is not a number of minutes.',
  'prog.err_location': 'Row {row}: no point “{v}”.', 'prog.err_ambiguous': 'Row {row}: several points match “{v}”; use the point code.',
  'prog.err_item': 'Item {item}: {field} — {message}',
  'kh.title': 'Launch key holders', 'kh.hint': 'Each has a personal link and QR code that can only press their own key.',
  'kh.name': 'Key holder', 'kh.name_ph': 'e.g. Chairman of the Provincial People’s Committee', 'kh.add': 'Add a key holder',
  'kh.added': 'Added', 'kh.none': 'No key holder yet.', 'kh.link_title': 'Launch key link of {name}',
  'kh.link_hint': 'Open it on the key holder’s phone: the page has only their key, the countdown and the state.',
  'kh.revoked': 'Revoked the link of {name}.',
  'people.status': 'Status', 'people.active': 'Active', 'people.revoked': 'Revoked', 'people.revoke': 'Revoke',
  'org.title': 'Organizer access tokens', 'org.name': 'Name', 'org.name_ph': 'e.g. Control desk tablet', 'org.role': 'Role',
  'org.add': 'Issue a token', 'org.issued': 'Issued', 'org.last_used': 'Last used', 'org.never': 'never',
  'org.link_title': 'Log-in for {name} ({role})',
  'org.link_hint': 'Scan the QR code with the tablet or open the link: it logs the tablet in to the console.',
  'org.last_used_note': '“Last used” is remembered by this server since it started.',
  'org.audit': 'Tokens issued and revoked', 'org.revoked': 'Revoked the token of {name}.',
  'secret.once': 'This link is shown only once. Print it, photograph the QR code or send it to its holder now.',
  'secret.copy': 'Copy the link', 'secret.copied': 'Link copied.', 'secret.print': 'Print',
  'login.link_bad': 'The log-in link is wrong or was revoked.',
});
