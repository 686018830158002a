// Strings of the site-lead page and the hall screen: Vietnamese first,
// English on request (the toggle, or ?lang=en). t("key", {n: 3}) fills {n}.
// Level names, incident kinds and launch states come from ./labels.js, made
// by the server from server/core/labels.py, the one source every surface uses.

import { LABELS } from "./labels.js";

const vi = {
  page_title: "Điểm cầu",
  online: "Trực tuyến",
  connecting: "Đang kết nối…",
  offline: "Mất kết nối",
  no_network: "Không có mạng",
  pending: "Đang chờ gửi: {n}",
  all_sent: "Đã gửi hết",
  attendees_label: "Số người tham dự",
  expected: "Dự kiến: {n} người",
  minus: "Bớt 1 người",
  plus: "Thêm 1 người",
  checkin: "Điểm danh",
  update: "Cập nhật số người",
  checked_in: "Đã điểm danh: {n} người",
  checked_in_pending: "Đã ghi nhận {n} người, đang chờ gửi",
  not_checked_in: "Chưa điểm danh",
  bad_count: "Số người phải là số nguyên từ 0 đến 1.000.000.",
  confirm_big: "{n} người là nhiều hơn hẳn số dự kiến ({e} người). Bạn có chắc chắn số này đúng?",
  incident_h: "Báo sự cố",
  incident_kind: "Loại sự cố",
  note_label: "Ghi chú (không bắt buộc)",
  report: "Gửi báo sự cố",
  pick_kind: "Chọn loại sự cố trước.",
  open_incidents: "Sự cố đang mở",
  no_incident: "Không có sự cố nào đang mở.",
  resolve: "Đã khắc phục",
  sending: "Đang gửi…",
  agenda_h: "Chương trình",
  now: "Đang diễn ra",
  next: "Tiếp theo",
  ag_not_started: "Chương trình chưa bắt đầu",
  ag_finished: "Chương trình đã kết thúc",
  ag_paused: "Tạm dừng",
  ag_empty: "Chưa có chương trình.",
  speaker: "Trình bày: {s}",
  location: "Tại: {s}",
  here: "điểm cầu này",
  notices_h: "Thông báo của Ban tổ chức",
  no_notice: "Chưa có thông báo.",
  close: "Đóng",
  invalid_h: "Liên kết không còn hiệu lực",
  invalid_p: "Liên kết điểm cầu này không đúng hoặc đã được thay bằng liên kết mới. Vui lòng liên hệ Ban tổ chức để nhận liên kết mới.",
  display_link: "Mở màn hình trình chiếu",
  synced: "Giờ ±{b} ms",
  not_synced: "Chưa đồng bộ giờ",
  lang_toggle: "English",
  lang_toggle_label: "Switch to English",
  refused: "Máy chủ từ chối: {m}",
  e_invalid_count: "Số người không hợp lệ.",
  e_not_checked_in: "Cần điểm danh trước khi cập nhật số người.",
  e_invalid_note: "Ghi chú quá dài (tối đa 500 ký tự).",
  e_incident_closed: "Sự cố này đã được đóng.",
  hall_title: "Màn hình hội trường",
  waiting: "Đang chờ kết nối…",
  clock: "Giờ máy chủ",
  fullscreen: "Toàn màn hình",
  hidden_title: "⚠ Màn hình phát động đang bị ẩn!",
  hidden_warn: "Màn hình này đã bị ẩn trong lúc chờ phát động. Hãy giữ cửa sổ này luôn ở trên cùng.",
  fired_hidden: "Đã phát động trong lúc màn hình này bị ẩn.",
};

const en = {
  page_title: "Connection point",
  online: "Online",
  connecting: "Connecting…",
  offline: "Disconnected",
  no_network: "No network",
  pending: "Waiting to send: {n}",
  all_sent: "All sent",
  attendees_label: "Attendees",
  expected: "Expected: {n}",
  minus: "One fewer",
  plus: "One more",
  checkin: "Check in",
  update: "Update the count",
  checked_in: "Checked in: {n} attendees",
  checked_in_pending: "{n} attendees recorded, waiting to send",
  not_checked_in: "Not checked in",
  bad_count: "The count must be a whole number from 0 to 1,000,000.",
  confirm_big: "{n} is far more than expected ({e}). Are you sure this count is right?",
  incident_h: "Report a problem",
  incident_kind: "Kind of problem",
  note_label: "Note (optional)",
  report: "Send the report",
  pick_kind: "Pick the kind of problem first.",
  open_incidents: "Open problems",
  no_incident: "No open problem.",
  resolve: "Resolved",
  sending: "Sending…",
  agenda_h: "Programme",
  now: "Now",
  next: "Next",
  ag_not_started: "The programme has not started",
  ag_finished: "The programme has ended",
  ag_paused: "Paused",
  ag_empty: "No programme yet.",
  speaker: "Speaker: {s}",
  location: "At: {s}",
  here: "this point",
  notices_h: "Notices from the organizers",
  no_notice: "No notice yet.",
  close: "Close",
  invalid_h: "This link is not valid any more",
  invalid_p: "This point's link is wrong or was replaced by a new one. Please ask the organizers for the new link.",
  display_link: "Open the projector view",
  synced: "Clock ±{b} ms",
  not_synced: "Clock not synced",
  lang_toggle: "Tiếng Việt",
  lang_toggle_label: "Chuyển sang tiếng Việt",
  refused: "The server refused: {m}",
  e_invalid_count: "The count is not valid.",
  e_not_checked_in: "Check in before updating the count.",
  e_invalid_note: "The note is too long (500 characters at most).",
  e_incident_closed: "This problem is already closed.",
  hall_title: "Hall screen",
  waiting: "Waiting for the connection…",
  clock: "Server time",
  fullscreen: "Full screen",
  hidden_title: "⚠ The launch screen is hidden!",
  hidden_warn: "This screen was hidden while the launch was waiting. Keep this window in front.",
  fired_hidden: "Launched while this screen was hidden.",
};

// The shared words: t("commune"), t("k_audio"), t("l_fired").
for (const [lang, table] of [["vi", vi], ["en", en]]) {
  const L = LABELS[lang];
  Object.assign(table, L.levels);
  for (const [k, v] of Object.entries(L.kinds)) table[`k_${k}`] = v;
  for (const [k, v] of Object.entries(L.launch_states)) table[`l_${k}`] = v;
  table.launch_h = L.launch_word[0].toUpperCase() + L.launch_word.slice(1);
  table.burst = L.launch_word.toUpperCase();
}

const TABLES = { vi, en };
const KEY = "launchday.lang";

function initial() {
  const q = new URLSearchParams(location.search).get("lang");
  if (q in TABLES) return q;
  try {
    const saved = localStorage.getItem(KEY);
    if (saved in TABLES) return saved;
  } catch { /* storage off: Vietnamese */ }
  return "vi";
}

export let lang = initial();

export function setLang(next) {
  lang = next in TABLES ? next : "vi";
  try { localStorage.setItem(KEY, lang); } catch { /* ignore */ }
  document.documentElement.lang = lang;
}

export function t(key, vars) {
  let s = TABLES[lang][key] ?? vi[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : ""));
  return s;
}

// Numbers and times the way the reader writes them (1.000 and 9,4 in Vietnamese).
export function num(n, digits = 0) {
  return Number(n).toLocaleString(lang === "vi" ? "vi-VN" : "en-GB",
    { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function hhmm(ms, tz, seconds = false) {
  const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (seconds) opts.second = "2-digit";
  try {
    return new Date(ms).toLocaleTimeString(lang === "vi" ? "vi-VN" : "en-GB", { ...opts, timeZone: tz || undefined });
  } catch {
    return new Date(ms).toLocaleTimeString(undefined, opts);
  }
}

// Fill every [data-t] element's text (and [data-t-label] aria-label) in root.
export function translate(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll("[data-t-label]")) el.setAttribute("aria-label", t(el.dataset.tLabel));
}
