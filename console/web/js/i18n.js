// Vietnamese first, English on a toggle. Numbers and times follow the
// language (vi-VN: 52.110), times are shown in the event's time zone.
// Every word comes from /static/labels.js, made by the server from
// server/core/labels.py (the console's own words: server/core/labels_ui.py),
// the one source the point page, the hall, the link sheet and the reports
// use too. Write no word here: add it there.

import {LABELS} from '/static/labels.js';

// The console's own words: LABELS[lang].console (server/core/labels_ui.py).
const VI = {...LABELS.vi.console};
const EN = {...LABELS.en.console};

for (const [dict, L] of [[VI, LABELS.vi], [EN, LABELS.en]]) {
  for (const [group, prefix] of [['levels', 'level'], ['kinds', 'kind'], ['statuses', 'status'],
    ['launch_states', 'launch.state'], ['agenda_states', 'agenda.state']]) {
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
  for (const node of root.querySelectorAll('.lang-toggle')) node.textContent = t('lang.toggle');
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
