// The full-screen display: the hall's screen (/hall?event=<eid>, on the
// read-only /ws/display socket) and a point's projector view (/p/<token>?display=1,
// driven by app.js on the point's own socket). Legible from the back of a hall:
// the event, the agenda item now and next, the countdown, the launch.

import { backoffMs, ClockSync, countdownText, Launcher, Liveness, localNow } from "./launch.js";
import { hhmm, num, t, translate } from "./i18n.js";
import { keepInFront } from "./screen.js";

const $ = (root, sel) => root.querySelector(sel);

const TEMPLATE = `
<div class="disp">
  <header class="d-top">
    <div class="d-event"></div>
    <div class="d-point"></div>
  </header>
  <main class="d-main">
    <section class="d-agenda" aria-live="polite">
      <div class="d-label d-now-label"></div>
      <div class="d-title"></div>
      <div class="d-meta"></div>
      <div class="d-next" hidden><span class="d-label" data-t="next"></span><span class="d-next-title"></span><span class="d-next-meta"></span></div>
    </section>
    <section class="d-count" hidden aria-live="off">
      <div class="d-label d-count-label"></div>
      <div class="d-digits"></div>
    </section>
  </main>
  <div class="d-notice" role="status" hidden></div>
  <footer class="d-foot">
    <span class="d-conn"></span>
    <span class="d-clock"></span>
    <span class="d-sync"></span>
  </footer>
  <div class="burst" hidden role="alert">
    <div class="burst-glow"></div>
    <div class="burst-word" data-t="burst"></div>
    <div class="burst-name"></div>
  </div>
</div>`;

const NOTICE_SHOW_MS = 60_000;

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
const ABORTED_SHOW_MS = 10_000;

export function agendaParts(agenda, here) {
  const items = (agenda && agenda.items) || [];
  const st = (agenda && agenda.state) || "not_started";
  const i = agenda && Number.isInteger(agenda.current) ? agenda.current : null;
  const meta = (it) => {
    if (!it) return "";
    const parts = [];
    if (it.speaker) parts.push(t("speaker", { s: it.speaker }));
    const loc = here && it.location === here ? t("here") : it.location_name; // a bare code means nothing to a hall
    if (loc) parts.push(t("location", { s: loc }));
    return parts.join(" · ");
  };
  if (!items.length) return { st, label: t("ag_empty"), cur: null, next: null, meta };
  if (st === "not_started") return { st, label: t("ag_not_started"), cur: null, next: items[0], meta };
  if (st === "finished" || i == null) return { st, label: t("ag_finished"), cur: null, next: null, meta };
  return { st, label: st === "paused" ? `${t("now")} · ${t("ag_paused")}` : t("now"), cur: items[i], next: items[i + 1] || null, meta };
}

export function createDisplay(root) {
  root.innerHTML = TEMPLATE;
  const el = {
    event: $(root, ".d-event"), point: $(root, ".d-point"), nowLabel: $(root, ".d-now-label"),
    title: $(root, ".d-title"), meta: $(root, ".d-meta"), next: $(root, ".d-next"),
    nextTitle: $(root, ".d-next-title"), nextMeta: $(root, ".d-next-meta"), agenda: $(root, ".d-agenda"),
    count: $(root, ".d-count"), countLabel: $(root, ".d-count-label"), digits: $(root, ".d-digits"),
    notice: $(root, ".d-notice"), conn: $(root, ".d-conn"), clockEl: $(root, ".d-clock"), sync: $(root, ".d-sync"),
    burst: $(root, ".burst"), burstName: $(root, ".burst-name"),
  };
  const model = { event: null, point: null, agenda: null, notice: null, conn: "connecting", clock: null, launcher: null };
  const front = keepInFront($(root, ".disp"), model, () => render()); // wake lock, full screen, hidden tab

  // The clock, the countdown digits and the notice's expiry: every frame
  // during the countdown, a few times a second otherwise.
  // Text is only written when it changes: the frames just before the moment
  // must cost nothing (no layout, no Intl formatting), or they delay it.
  let clockSecond = null;
  function paint() {
    const { clock, launcher } = model;
    const now = clock ? clock.serverNow() : 0;
    const second = clock && model.event ? Math.floor(now / 1000) : null;
    if (second !== clockSecond) {
      clockSecond = second;
      el.clockEl.textContent = second == null ? "" : hhmm(second * 1000, model.event.timezone, true);
    }
    const left = launcher ? launcher.remaining() : null;
    if (left != null) setText(el.digits, countdownText(left, num));
    if (model.notice && clock && now - model.notice.at_ms > NOTICE_SHOW_MS) {
      model.notice = null;
      el.notice.hidden = true;
    }
    return left != null;
  }
  (function loop() {
    if (paint()) requestAnimationFrame(loop);
    else setTimeout(loop, 250);
  })();

  // Shrink the agenda's type until it fits its box (long Vietnamese titles).
  let fitted = "";
  let abortedAt = null;
  function fit() {
    const box = el.agenda.parentElement;
    const key = `${el.agenda.textContent}|${innerWidth}x${innerHeight}|${el.agenda.hidden}|${el.notice.textContent}`;
    if (key === fitted || el.agenda.hidden) return;
    fitted = key;
    let k = 1;
    el.agenda.style.setProperty("--k", "1");
    while (k > 0.35 && (el.agenda.offsetHeight > box.clientHeight || el.agenda.scrollWidth > el.agenda.clientWidth)) {
      k -= 0.05;
      el.agenda.style.setProperty("--k", String(k));
    }
  }
  addEventListener("resize", () => fit());

  function render() {
    translate(root);
    const { event, point, agenda, launcher, clock } = model;
    el.event.textContent = event ? event.name : t("waiting");
    el.point.textContent = point ? point.name : "";
    el.point.hidden = !point;
    const a = agendaParts(agenda, point && point.code);
    el.nowLabel.textContent = a.label;
    el.title.textContent = a.cur ? a.cur.title : "";
    el.meta.textContent = a.meta(a.cur);
    el.next.hidden = !a.next;
    el.nextTitle.textContent = a.next ? a.next.title : "";
    el.nextMeta.textContent = a.meta(a.next);
    const st = launcher ? launcher.state : "idle";
    const counting = st === "countdown" || st === "armed";
    // "Launch stopped" stays up for ABORTED_SHOW_MS, then the agenda returns.
    if (st !== "aborted") abortedAt = null;
    else if (abortedAt == null) {
      abortedAt = performance.now();
      setTimeout(render, ABORTED_SHOW_MS + 50);
    }
    const aborted = abortedAt != null && performance.now() - abortedAt < ABORTED_SHOW_MS;
    el.count.hidden = !counting && !aborted;
    el.agenda.hidden = !el.count.hidden;
    el.countLabel.textContent = t({ armed: "l_armed", countdown: "l_countdown", aborted: "l_aborted" }[st] || "launch_h");
    if (st !== "countdown") setText(el.digits, st === "armed" ? "—" : "");
    el.burst.hidden = st !== "fired";
    el.burstName.textContent = event ? event.name : "";
    el.notice.hidden = !model.notice;
    el.notice.textContent = model.notice ? model.notice.text : "";
    el.conn.textContent = t(model.conn);
    el.conn.className = `d-conn is-${model.conn}`;
    const b = clock && clock.bound();
    el.sync.textContent = b == null ? t("not_synced") : t("synced", { b: num(b, b < 10 ? 1 : 0) });
    front.check();
    paint();
    fit();
  }

  return { model, render, el };
}

// /hall?event=<eid>: the hall's screen on /ws/display (no token, read-only).
export function hallMain() {
  const params = new URLSearchParams(location.search);
  const eid = params.get("event");
  const disp = createDisplay(document.getElementById("app"));
  const m = disp.model;
  let ws = null;
  let attempt = 0;
  let retry = null;
  const send = (obj) => {
    if (ws && ws.readyState === WebSocket.OPEN) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  };
  m.clock = new ClockSync(send, () => disp.render(), false);
  m.launcher = new Launcher(m.clock, () => {}, () => disp.render());
  document.title = t("hall_title");

  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = eid ? `?event=${encodeURIComponent(eid)}` : "";
    ws = new WebSocket(`${proto}//${location.host}/ws/display${q}`);
    const me = ws;
    const started = localNow();
    m.conn = "connecting";
    const alive = new Liveness(() => send({ type: "time.ping", t0: localNow() }), () => { dropped(); me.close(); });
    ws.onmessage = (ev) => {
      if (me !== ws) return;
      alive.seen();
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg.type === "time.pong") return m.clock.onPong(msg);
      if (msg.type === "welcome") {
        attempt = 0;
        m.conn = "online";
        m.event = msg.event;
        m.agenda = msg.agenda;
        m.clock.rough(msg.server_ms, localNow() - started);
        m.clock.start();
        document.title = `${msg.event.name} · ${t("hall_title")}`;
        m.launcher.update(msg.launch);
      } else if (msg.type === "agenda") {
        m.agenda = msg.agenda;
      } else if (msg.type === "launch") {
        if (msg.launch.state === "countdown") m.clock.burst();
        m.launcher.update(msg.launch);
      } else if (msg.type === "notice") {
        m.notice = { text: msg.text, at_ms: msg.at_ms };
      }
      disp.render();
    };
    function dropped() {
      alive.stop();
      if (me !== ws) return;
      ws = null;
      m.clock.stop();
      m.conn = navigator.onLine === false ? "no_network" : "offline";
      disp.render();
      retry = setTimeout(connect, backoffMs(attempt++));
    }
    ws.onclose = dropped;
  }
  window.addEventListener("online", () => {
    attempt = 0;
    if (!ws) { clearTimeout(retry); retry = setTimeout(connect, backoffMs(1)); }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "f" && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  });
  disp.render();
  connect();
}

if (document.body && document.body.dataset.view === "hall") hallMain();
