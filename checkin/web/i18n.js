// Strings of the site-lead page and the hall screen: Vietnamese first,
// English on request (the toggle, or ?lang=en). t("key", {n: 3}) fills {n}.
// Every word comes from ./labels.js, made by the server from
// server/core/labels.py (these pages' own words: server/core/labels_ui.py),
// the one source every surface uses. Write no word here: add it there.

import { LABELS } from "./labels.js";

// The pages' own words: LABELS[lang].checkin (server/core/labels_ui.py).
const vi = { ...LABELS.vi.checkin };
const en = { ...LABELS.en.checkin };

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
