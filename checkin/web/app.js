// The site-lead page, /p/<token> (docs/protocol.md#ws-point).
//
// Every action goes through the OUTBOX: it gets its id when it is made, is
// kept in localStorage (one key per token) until the server acks it, and is
// sent again with the same id after a reconnect or a reload; the server
// applies an id at most once. A new count supersedes an older one that was
// not written to the current socket yet, so only the last count made while
// offline goes out. ?display=1 turns the page into the point's projector view.

import { hhmm, lang, num, setLang, t, translate } from "./i18n.js";
import {
  backoffMs, ClockSync, countdownText, diag, Launcher, Liveness, localNow, reconnectDelayMs, STABLE_MS,
} from "./launch.js";

const $ = (id) => document.getElementById(id);
const token = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const displayMode = new URLSearchParams(location.search).get("display") === "1";
const OUTBOX_KEY = `launchday.outbox.${token}`;
const NOTICES_KEY = `launchday.notices.${token}`;
const SNAP_KEY = `launchday.point.${token}`; // the last welcome's facts, for a reload offline
const MAX_COUNT = 1_000_000;
const RETRY_CODES = new Set(["conflict", "seq_conflict", "internal"]);
const KINDS = ["audio", "video", "power", "network", "other"];
const ASSETS = ["app.js", "launch.js", "i18n.js", "labels.js", "style.css"]; // hall.js, screen.js: cached when used

// -- state ------------------------------------------------------------------------

const S = {
  event: null, point: null, status: { checked_in: false, attendees: 0, incidents: [] },
  agenda: null, notices: load(NOTICES_KEY, []), conn: "connecting", dead: false, flash: null,
};
Object.assign(S, load(SNAP_KEY, {}));
let outbox = load(OUTBOX_KEY, []).filter((e) => e && typeof e.id === "string" && e.frame);
const writtenOn = new Map(); // id -> the socket serial it was written on (not persisted)
let ws = null;
let serial = 0;
let ready = false; // the current socket has sent its welcome
let attempt = 0;
let retryTimer = null;
let welcomedAt = null; // performance.now() of the current socket's welcome
let holdUntil = 0; // rate_limited: nothing is written before this (performance.now())
diag.reconnects = []; // {attempt, established, delay_ms}, for tests and diagnostics
let alive = null; // the Liveness of the current socket
let countDirty = false;
let burstShown = null; // the fire_at_ms whose burst the site lead has seen
let disp = null;

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function store(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode: memory only */ }
}

function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// -- the socket -------------------------------------------------------------------

function send(obj) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  ws.send(JSON.stringify(obj));
  return true;
}

const clock = new ClockSync(send, () => render());
const launcher = new Launcher(clock, onFire, () => render());

function onFire({ fired_ms }) {
  enqueue({ type: "launch.fired", fired_ms, offset_ms: clock.offset, rtt_ms: clock.rtt ?? 0 });
}

function connect() {
  clearTimeout(retryTimer);
  if (S.dead) return;
  if (navigator.onLine === false) { // wait for the "online" event (and retry now and then)
    setConn("no_network");
    retryTimer = setTimeout(connect, backoffMs(attempt++));
    return;
  }
  setConn("connecting");
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const me = new WebSocket(`${proto}//${location.host}/ws/point?token=${encodeURIComponent(token)}`);
  const started = localNow();
  let opened = false;
  ws = me;
  serial++;
  ready = false;
  me.onopen = () => {
    opened = true;
    alive = new Liveness(() => send({ type: "time.ping", t0: localNow() }), () => { lost(me, 1006, true); me.close(); });
  };
  me.onmessage = (ev) => {
    if (ws !== me) return;
    if (alive) alive.seen();
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    onMessage(msg, started);
  };
  me.onclose = (ev) => lost(me, ev.code, opened);
}

function lost(me, code, opened) {
  if (ws !== me) return;
  ws = null;
  if (alive) alive.stop();
  alive = null;
  ready = false;
  clock.stop();
  if (code === 4403 || code === 4404) return linkDead();
  if (!opened) checkLink(); // refused before the upgrade: a 401 looks like 1006 here
  setConn(navigator.onLine === false ? "no_network" : "offline");
  const established = welcomedAt !== null;
  if (established && performance.now() - welcomedAt >= STABLE_MS) attempt = 0;
  welcomedAt = null;
  const delay = reconnectDelayMs(attempt, established);
  diag.reconnects.push({ attempt, established, delay_ms: delay });
  attempt++;
  retryTimer = setTimeout(connect, delay);
}

// The page's own route answers 404 for an unknown or rotated token.
async function checkLink() {
  try {
    const r = await fetch(`/p/${encodeURIComponent(token)}`, { method: "HEAD", cache: "no-store" });
    if (r.status === 404 || r.status === 401) linkDead();
  } catch { /* offline: keep trying */ }
}

function linkDead() {
  S.dead = true;
  clearTimeout(retryTimer);
  clock.stop();
  const w = ws;
  ws = null;
  if (w) w.close();
  render();
}

function setConn(c) {
  S.conn = c;
  render();
}

window.addEventListener("online", () => {
  attempt = 0;
  if (!ws) { clearTimeout(retryTimer); retryTimer = setTimeout(connect, backoffMs(1)); }
});
window.addEventListener("offline", () => {
  // The link is gone: drop the socket now, so what is typed meanwhile stays
  // unsent (and a newer count can supersede it) until the network is back.
  const w = ws;
  if (w) { lost(w, 1006, true); w.close(); }
  setConn("no_network");
});

function onMessage(msg, started) {
  switch (msg.type) {
    case "welcome": {
      welcomedAt = performance.now(); // the backoff resets only if this connection holds
      ready = true;
      S.event = msg.event || null;
      S.point = msg.point;
      S.status = { checked_in: false, attendees: 0, incidents: [], ...msg.status };
      S.agenda = msg.agenda;
      clock.rough(msg.server_ms, localNow() - started);
      clock.start();
      launcher.update(msg.launch);
      S.conn = "online";
      flush();
      break;
    }
    case "time.pong": return clock.onPong(msg);
    case "ack": onAck(msg); break;
    case "error": onError(msg); break;
    case "agenda": S.agenda = msg.agenda; break;
    case "launch":
      if (msg.launch && msg.launch.state === "countdown") clock.burst();
      launcher.update(msg.launch);
      break;
    case "notice":
      S.notices = [{ text: msg.text, at_ms: msg.at_ms }, ...S.notices].slice(0, 20);
      store(NOTICES_KEY, S.notices);
      break;
    default: return;
  }
  store(SNAP_KEY, { event: S.event, point: S.point, status: S.status, agenda: S.agenda });
  render();
}

// -- the outbox -------------------------------------------------------------------

function enqueue(frame) {
  frame.id = newId();
  if (frame.type === "attendees") {
    // Supersede the counts not yet written to the current socket; the ones in
    // flight stay (the server applies them in order, then this one).
    outbox = outbox.filter((e) => e.frame.type !== "attendees" || (ready && writtenOn.get(e.id) === serial));
  }
  outbox.push({ id: frame.id, frame });
  store(OUTBOX_KEY, outbox);
  flush();
  render();
}

function flush() {
  if (!ready) return;
  const held = holdUntil - performance.now();
  if (held > 0) { setTimeout(flush, held + 1); return; }
  for (const e of outbox) {
    if (writtenOn.get(e.id) === serial) continue;
    if (!send(e.frame)) return;
    writtenOn.set(e.id, serial);
  }
}

function take(id) {
  const i = outbox.findIndex((e) => e.id === id);
  if (i < 0) return null;
  const [e] = outbox.splice(i, 1);
  writtenOn.delete(id);
  store(OUTBOX_KEY, outbox);
  return e.frame;
}

function onAck(msg) {
  const f = take(msg.id);
  if (!f) return;
  const st = S.status;
  if (f.type === "checkin") Object.assign(st, { checked_in: true, attendees: f.attendees });
  else if (f.type === "attendees") st.attendees = f.count;
  else if (f.type === "incident" && msg.incident && !st.incidents.some((i) => i.id === msg.incident)) {
    st.incidents.push({ id: msg.incident, kind: f.kind, note: f.note });
  } else if (f.type === "incident.resolve") st.incidents = st.incidents.filter((i) => i.id !== f.incident);
}

function onError(msg) {
  if (msg.id == null) return;
  const e = outbox.find((x) => x.id === msg.id);
  if (!e) return;
  if (msg.code === "rate_limited" || msg.code === "unavailable") {
    // Not acknowledged and the server says when (rate_limited: nothing was
    // applied; unavailable: its journal or Redis is away, docs/protocol.md):
    // hold the whole outbox that long, then resend from here, same ids, in order.
    const wait = Number.isFinite(msg.retry_after_ms) ? Math.min(60_000, Math.max(0, msg.retry_after_ms)) : 1000;
    holdUntil = Math.max(holdUntil, performance.now() + wait);
    writtenOn.delete(msg.id);
    setTimeout(flush, wait + 1);
    return;
  }
  const later = outbox.slice(outbox.indexOf(e) + 1);
  const retry = RETRY_CODES.has(msg.code)
    || (msg.code === "not_checked_in" && outbox.some((x) => x.frame.type === "checkin"));
  if (retry && !(e.frame.type === "attendees" && later.some((x) => x.frame.type === "attendees"))) {
    // Nothing was applied: send it again, same id, in the outbox's order
    // (unless a later count, already on its way, makes it moot).
    writtenOn.delete(msg.id);
    setTimeout(flush, 200 + backoffMs(2));
    return;
  }
  if (retry) { take(msg.id); return; }
  const f = take(msg.id);
  if (f.type === "incident.resolve" && (msg.code === "incident_closed" || msg.code === "incident_not_found")) {
    S.status.incidents = S.status.incidents.filter((i) => i.id !== f.incident);
    return;
  }
  if (f.type === "launch.fired") return;
  if (msg.code === "not_checked_in") S.status.checked_in = false;
  const known = t(`e_${msg.code}`);
  S.flash = { where: f.type.startsWith("incident") ? "inc" : "count", text: known !== `e_${msg.code}` ? known : t("refused", { m: msg.message || msg.code }) };
}

// What the site lead sees: the server's status with the outbox applied on top.
function view() {
  let checked = S.status.checked_in;
  let count = S.status.attendees;
  const pendingInc = [];
  const resolving = new Set();
  for (const { frame: f } of outbox) {
    if (f.type === "checkin") { checked = true; count = f.attendees; }
    if (f.type === "attendees") count = f.count;
    if (f.type === "incident") pendingInc.push(f);
    if (f.type === "incident.resolve") resolving.add(f.incident);
  }
  return { checked, count, pendingInc, resolving };
}

// -- actions --------------------------------------------------------------------------

function parseCount(raw) {
  const s = String(raw).trim();
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n <= MAX_COUNT ? n : null;
}

function submitCount(ev) {
  ev.preventDefault();
  const n = parseCount($("count").value);
  S.flash = null;
  if (n == null) {
    S.flash = { where: "count", text: t("bad_count") };
    render();
    $("count").focus();
    return;
  }
  const e = S.point ? S.point.expected || 0 : 0;
  if (n > 2 * e && n > e + 50 && !confirm(t("confirm_big", { n: num(n), e: num(e) }))) return;
  countDirty = false;
  if (view().checked) enqueue({ type: "attendees", count: n });
  else enqueue({ type: "checkin", attendees: n });
}

function step(delta) {
  const cur = parseCount($("count").value) ?? view().count;
  $("count").value = String(Math.max(0, Math.min(MAX_COUNT, cur + delta)));
  countDirty = true;
  S.flash = null;
  render();
}

function submitIncident(ev) {
  ev.preventDefault();
  const form = $("inc-form");
  const kind = form.elements.kind.value;
  S.flash = null;
  if (!KINDS.includes(kind)) {
    S.flash = { where: "inc", text: t("pick_kind") };
    return render();
  }
  enqueue({ type: "incident", kind, note: $("note").value.trim().slice(0, 500) });
  form.reset();
}

// -- rendering --------------------------------------------------------------------------

function li(text, cls) {
  const el = document.createElement("li");
  if (cls) el.className = cls;
  el.textContent = text;
  return el;
}

function agendaNode(agenda) {
  const frag = document.createDocumentFragment();
  const items = (agenda && agenda.items) || [];
  const i = agenda && Number.isInteger(agenda.current) ? agenda.current : null;
  const st = (agenda && agenda.state) || "not_started";
  const here = S.point && S.point.code;
  const row = (label, it) => {
    const d = document.createElement("div");
    d.className = "ag-row";
    const l = document.createElement("p");
    l.className = "ag-label";
    l.textContent = label;
    d.append(l);
    if (it) {
      const ti = document.createElement("p");
      ti.className = "ag-title";
      ti.textContent = it.title;
      d.append(ti);
      const meta = [];
      if (it.speaker) meta.push(t("speaker", { s: it.speaker }));
      const loc = here && it.location === here ? t("here") : it.location_name; // the name, when the server sends it
      if (loc) meta.push(t("location", { s: loc }));
      if (meta.length) {
        const m = document.createElement("p");
        m.className = "ag-meta";
        m.textContent = meta.join(" · ");
        d.append(m);
      }
    }
    frag.append(d);
  };
  if (!items.length) row(t("ag_empty"));
  else if (st === "not_started") { row(t("ag_not_started")); row(t("next"), items[0]); }
  else if (st === "finished" || i == null) row(t("ag_finished"));
  else {
    row(st === "paused" ? `${t("now")} · ${t("ag_paused")}` : t("now"), items[i]);
    if (items[i + 1]) row(t("next"), items[i + 1]);
  }
  return frag;
}

const built = new Map();
function fill(id, data, build) {
  const key = JSON.stringify([lang, data]);
  if (built.get(id) === key) return;
  built.set(id, key);
  $(id).replaceChildren(...build());
}

function render() {
  if (S.dead) {
    $("app").hidden = true;
    $("display").hidden = true;
    $("burst").hidden = true;
    $("invalid").hidden = false;
    document.title = t("invalid_h");
    translate();
    return;
  }
  if (disp) return renderDisplay();
  translate();
  const v = view();
  const p = S.point;
  document.title = p ? `${p.name} · ${t("page_title")}` : t("page_title");
  const conn = navigator.onLine === false ? "no_network" : S.conn;
  $("conn").textContent = t(conn);
  $("conn").className = `conn is-${conn}`;
  $("event").textContent = S.event ? S.event.name : "";
  $("name").textContent = p ? p.name : "…";
  const area = p && (p.group_name !== undefined ? [p.group, p.group_name] : [p.district, p.district_name]);
  $("where").textContent = p ? [t(p.level), area[1] && area[0] !== p.code ? area[1] : ""].filter(Boolean).join(" · ") : "";
  $("pending").hidden = outbox.length === 0;
  $("insecure").hidden = globalThis.isSecureContext !== false; // http:// on a public address: no wake lock, no offline copy
  $("pending").textContent = t("pending", { n: outbox.length });

  // count
  const unsent = outbox.some((e) => e.frame.type === "checkin" || e.frame.type === "attendees");
  $("count-status").textContent = !v.checked ? t("not_checked_in")
    : t(unsent ? "checked_in_pending" : "checked_in", { n: num(v.count) });
  $("count-status").className = `status ${v.checked ? "is-ok" : ""}`;
  $("count-send").textContent = t(v.checked ? "update" : "checkin");
  if (!countDirty && document.activeElement !== $("count") && (v.checked || $("count").value === "")) {
    $("count").value = v.checked ? String(v.count) : "";
  }
  $("expected").textContent = p ? t("expected", { n: num(p.expected || 0) }) : "";
  for (const [id, where] of [["count-error", "count"], ["inc-error", "inc"]]) {
    const show = S.flash && S.flash.where === where;
    $(id).hidden = !show;
    $(id).textContent = show ? S.flash.text : "";
  }

  // launch
  const st = launcher.state;
  $("launch").hidden = st === "idle";
  $("launch").className = `card launch is-${st}`;
  $("launch-state").textContent = t({ armed: "l_armed", countdown: "l_countdown", fired: "l_fired", aborted: "l_aborted" }[st] || "launch_h")
    + (st === "fired" && diagFired() ? ` · ${hhmm(diagFired(), S.event && S.event.timezone, true)}` : "");
  paintDigits();
  const showBurst = st === "fired" && launcher.firedLive && burstShown !== launcher.firedFor;
  $("burst").hidden = !showBurst;
  $("burst-name").textContent = S.event ? S.event.name : "";

  // agenda, notices, incidents: rebuilt only when they change (a button under
  // the site lead's finger must not be replaced by a clock tick)
  const tz = S.event && S.event.timezone;
  fill("agenda", [S.agenda, S.point && S.point.code], () => [agendaNode(S.agenda)]);
  fill("notices", [S.notices, tz], () => (S.notices.length
    ? S.notices.map((n) => li(`${hhmm(n.at_ms, tz)} · ${n.text}`))
    : [li(t("no_notice"), "muted")]));
  fill("incidents", [S.status.incidents, v.pendingInc, [...v.resolving]], () => {
    const incs = S.status.incidents.map((inc) => {
      const el = li(`${t(`k_${inc.kind}`)}${inc.note ? ` · ${inc.note}` : ""}`);
      const b = document.createElement("button");
      b.type = "button";
      b.className = "secondary";
      if (v.resolving.has(inc.id)) { b.textContent = t("sending"); b.disabled = true; }
      else { b.textContent = t("resolve"); b.onclick = () => enqueue({ type: "incident.resolve", incident: inc.id }); }
      el.append(b);
      return el;
    });
    for (const f of v.pendingInc) incs.push(li(`${t(`k_${f.kind}`)}${f.note ? ` · ${f.note}` : ""} · ${t("sending")}`, "is-pending"));
    return incs.length ? incs : [li(t("no_incident"), "muted")];
  });
  const b = clock.bound();
  $("sync").textContent = ready ? t("synced", { b: num(b, b < 10 ? 1 : 0) }) : t("not_synced");
  $("display-link").href = `${location.pathname}?display=1`;
  $("lang").lang = lang === "vi" ? "en" : "vi";
}

function diagFired() {
  return globalThis.__launchday && globalThis.__launchday.fired_at_server_ms;
}

function paintDigits() {
  const left = launcher.remaining();
  const text = left == null ? "" : countdownText(left, num);
  if ($("launch-digits").textContent !== text) $("launch-digits").textContent = text; // no layout when unchanged
  return left != null;
}

(function loop() {
  if (!disp && paintDigits()) requestAnimationFrame(loop);
  else setTimeout(loop, 250);
})();

function renderDisplay() {
  Object.assign(disp.model, {
    event: S.event, point: S.point, agenda: S.agenda, clock, launcher,
    conn: navigator.onLine === false ? "no_network" : S.conn,
    notice: S.notices[0] && clock.serverNow() - S.notices[0].at_ms < 60_000 ? S.notices[0] : null,
  });
  disp.render();
}

// -- start ----------------------------------------------------------------------------------

async function start() {
  if (displayMode) {
    const { createDisplay } = await import("./hall.js");
    document.body.dataset.view = "display";
    $("app").hidden = true;
    $("display").hidden = false;
    disp = createDisplay($("display"));
  }
  $("count-form").addEventListener("submit", submitCount);
  $("minus").addEventListener("click", () => step(-1));
  $("plus").addEventListener("click", () => step(1));
  $("count").addEventListener("input", () => { countDirty = true; });
  $("inc-form").addEventListener("submit", submitIncident);
  $("burst-close").addEventListener("click", () => { burstShown = launcher.firedFor; render(); });
  $("lang").addEventListener("click", () => { setLang(lang === "vi" ? "en" : "vi"); render(); });
  render();
  connect();
  // Keep the page and its assets for a reload without network (sw.js serves
  // them from the cache only when the network fails).
  if ("serviceWorker" in navigator && window.caches) {
    const keep = () => navigator.serviceWorker.register("/checkin-sw.js", { scope: "/p/" })
      .then(() => caches.open("launchday-checkin-v1"))
      .then((c) => c.addAll([location.pathname, ...ASSETS.map((f) => `/static/checkin/${f}`)]))
      .then(() => { globalThis.__launchdayOfflineReady = true; })
      .catch(() => {});
    if (document.readyState === "complete") keep();
    else addEventListener("load", keep);
  }
}

start();
