// Keeping the launch screen in front: the hall screen and a point's projector
// view are browser tabs, and a tab that slips behind another window is hidden:
// Chrome throttles its timers (once a second, then once a minute) and may let
// the screen sleep. So, on every display (hall.js createDisplay):
//
// - a Screen Wake Lock where the browser has one, asked for again each time
//   the page becomes visible (the browser releases it when the page is hidden);
// - a full-screen button (and the F key on the hall);
// - when the page becomes visible again: a fresh clock sync, the launch timer
//   re-aimed, and "fired" shown if the moment passed meanwhile (Launcher.missed:
//   no firing is reported that did not happen on this screen at the moment);
// - during an armed launch or a countdown, a hidden page says so in its title
//   (what the operator sees on the taskbar or the tab strip), and once visible
//   again a banner says the screen was hidden.
//
// Not in a secure context (http:// on a public address), the browser gives
// no wake lock and no service worker: a banner says so, on every display.
//
// Diagnostics for tests: window.__launchday.wake_lock ("active", "released",
// "unsupported", "error:<name>"), .wake_requests, .hidden_during_launch.

import { diag } from "./launch.js";
import { t } from "./i18n.js";

export function keepInFront(root, model, render) {
  const lock = { sentinel: null, requests: 0 };
  diag.wake_lock = navigator.wakeLock ? "released" : "unsupported";
  diag.wake_requests = 0;
  diag.hidden_during_launch = false;
  let title = null; // the page's own title while the warning replaces it

  async function wake() {
    if (!navigator.wakeLock || document.visibilityState !== "visible") return;
    if (lock.sentinel && !lock.sentinel.released) return;
    lock.requests += 1;
    diag.wake_requests = lock.requests;
    try {
      const sentinel = await navigator.wakeLock.request("screen");
      lock.sentinel = sentinel;
      diag.wake_lock = "active";
      sentinel.addEventListener("release", () => {
        if (lock.sentinel === sentinel) diag.wake_lock = "released";
      });
    } catch (err) {
      diag.wake_lock = `error:${err.name}`; // refused (battery saver, policy): the screen may sleep
    }
  }
  globalThis.__launchdayWakeLock = lock;

  const full = document.createElement("button");
  full.type = "button";
  full.className = "d-full";
  full.dataset.t = "fullscreen";
  full.addEventListener("click", () => {
    const el = document.documentElement;
    if (el.requestFullscreen) el.requestFullscreen().catch(() => {});
  });
  const warn = document.createElement("div");
  warn.className = "d-warn";
  warn.setAttribute("role", "alert");
  warn.hidden = true;
  const insecure = document.createElement("div");
  insecure.className = "d-insecure";
  insecure.setAttribute("role", "alert");
  insecure.dataset.t = "insecure_warn";
  insecure.hidden = globalThis.isSecureContext !== false;
  root.append(full, warn, insecure);

  const launching = () => {
    const st = model.launcher ? model.launcher.state : "idle";
    return st === "armed" || st === "countdown";
  };
  const hidden = () => document.visibilityState === "hidden";

  // Called on every render: the title warning and the banner follow the state.
  function check() {
    if (model.launcher && model.launcher.hidden !== hidden()) model.launcher.setHidden(hidden());
    full.hidden = !document.fullscreenEnabled || !!document.fullscreenElement;
    full.textContent = t("fullscreen");
    insecure.textContent = t("insecure_warn");
    if (hidden() && launching()) {
      diag.hidden_during_launch = true;
      if (title == null) title = document.title;
      document.title = t("hidden_title");
    } else if (title != null && !hidden()) {
      document.title = title;
      title = null;
    }
    const l = model.launcher;
    const missed = l && l.missedFor != null && l.firedFor === l.missedFor && l.state === "fired";
    if (!launching() && !missed) diag.hidden_during_launch = false;
    warn.hidden = hidden() || !(missed || diag.hidden_during_launch);
    warn.textContent = missed ? t("fired_hidden") : t("hidden_warn");
  }

  document.addEventListener("visibilitychange", () => {
    const l = model.launcher;
    if (l) l.setHidden(hidden());
    if (!hidden()) {
      wake();
      if (model.clock) model.clock.burst(); // timers slept: measure the offset again
      if (l) l.resume(); // re-aim, or show the moment that passed as fired
    }
    render();
  });
  document.addEventListener("fullscreenchange", () => render());
  wake();
  return { check, wake };
}
