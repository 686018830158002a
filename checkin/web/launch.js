// Clock sync with the server and the synchronized launch (docs/protocol.md#time,
// #launch). Shared by the site-lead page, its projector view and the hall screen.
//
// offset = server - local, so server_ms = local_ms + offset. The local clock
// is performance.timeOrigin + performance.now(): monotonic (a phone fixing
// its date mid-ceremony changes nothing) and epoch-anchored. Date.now() is
// never used for scheduling.
//
// Test hook: window.__launchdayClockSkewMs (a number, default 0) is added to
// the local clock, so a test can make the device's clock wrong by seconds and
// check that the launch still fires at the server's fire_at_ms.
//
// State for tests and diagnostics: window.__launchday = {offset_ms, rtt_ms,
// fired_at_server_ms, fired_at_local_ms, fired_by ("timer", or "push" when the
// server's fired push came first), state, samples, woke_ms / spun_ms (how
// long before the moment the coarse timer woke and the busy wait began)}.
// fired_by is "missed" when the moment passed while the page was hidden (see
// Launcher.setHidden): the screen shows "fired" and reports no firing.

export const PINGS = 6; // per burst; the lowest round trip wins
export const PING_GAP_MS = 100;
export const RESYNC_MS = 60_000;
const KEEP_SAMPLES = 30; // about five bursts
const MAX_SAMPLE_AGE_MS = 10 * 60_000;
const EARLY_MS = 40; // the coarse timer wakes this long before the moment...
// ...then yields in a tight loop (other tasks may run), and busy-waits the last
// SPIN_MS: long enough to cover one frame's rendering or a short GC pause that
// would otherwise land between two turns of the loop.
const SPIN_MS = 16;
// A page hidden at the moment (a background tab: Chrome runs its timers once a
// second or less) wakes after it. Later than this, and hidden meanwhile, it
// did not fire at the moment: it shows "fired" but reports nothing.
export const LATE_MS = 250;

export const diag = (globalThis.__launchday = {
  offset_ms: null, rtt_ms: null, fired_at_server_ms: null, fired_at_local_ms: null, fired_by: null, state: "idle", samples: 0,
  woke_ms: null, spun_ms: null,
});

export function localNow() {
  return performance.timeOrigin + performance.now() + (Number(globalThis.__launchdayClockSkewMs) || 0);
}

// Capped exponential backoff with full jitter: random(0, min(30 s, 0.5 s·2^attempt)).
export function backoffMs(attempt) {
  return Math.random() * Math.min(30_000, 500 * 2 ** Math.min(attempt, 16));
}

// docs/protocol.md#reconnect. After losing an established connection (one
// that got its welcome) the retry is spread uniformly over the storm window,
// never narrower: when a server restarts every point loses it at once, and a
// short first window brings a thousand phones back in the same half second.
// The backoff is reset only by a connection that held STABLE_MS, so a server
// that welcomes and drops at once is not hammered.
export const STORM_MS = 10_000;
export const STABLE_MS = 10_000;
export function reconnectDelayMs(attempt, established) {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(attempt, 16));
  if (!established) return Math.random() * ceiling;
  const storm = Number(globalThis.__launchdayStormMs) || STORM_MS; // test hook, like __launchdayClockSkewMs
  return Math.random() * (attempt === 0 ? storm : Math.max(storm, ceiling));
}

// A socket that hears nothing may be half-open (a phone that changed
// networks keeps a dead TCP connection for minutes). When it has been quiet
// for quietMs, ping it; if that ping goes unanswered for answerMs, call dead().
// Judged on timestamps, so a throttled background tab does not give up early.
export class Liveness {
  constructor(ping, dead, quietMs = 15_000, answerMs = 10_000) {
    Object.assign(this, { ping, dead, quietMs, answerMs, last: performance.now(), pingedAt: 0 });
    this.timer = setInterval(() => this.check(), 2_500);
  }

  seen() {
    this.last = performance.now();
  }

  check() {
    const now = performance.now();
    if (this.pingedAt > this.last) {
      if (now - this.pingedAt > this.answerMs) { this.stop(); this.dead(); }
    } else if (now - this.last > this.quietMs) {
      this.pingedAt = now;
      this.ping();
    }
  }

  stop() {
    clearInterval(this.timer);
  }
}

export class ClockSync {
  // send(obj) writes a frame if the socket is open (returns false otherwise);
  // onChange() is called when the estimate changes; report: send time.sync.
  constructor(send, onChange = () => {}, report = true) {
    this.send = send;
    this.onChange = onChange;
    this.report = report;
    this.samples = [];
    this.offset = 0;
    this.rtt = null; // null: only the rough estimate from the welcome
    this.timers = [];
    this.every = null;
    this.burstPongs = 0;
  }

  // A first guess from the welcome, before any pong: it was stamped with
  // server_ms somewhere within the tripMs since we dialled, so the offset is
  // known within ± tripMs / 2 (reported as rtt = tripMs).
  rough(serverMs, tripMs) {
    if (this.samples.length === 0 && Number.isFinite(serverMs) && Number.isFinite(tripMs)) {
      this.offset = serverMs - localNow() + tripMs / 2;
      this.rtt = tripMs;
      this.publish();
    }
  }

  start() {
    this.stop();
    this.burst();
    this.every = setInterval(() => this.burst(), RESYNC_MS);
  }

  stop() {
    for (const id of this.timers) clearTimeout(id);
    this.timers = [];
    clearInterval(this.every);
    this.every = null;
  }

  // PINGS pings PING_GAP_MS apart; time.sync once they are answered (or soon after).
  burst() {
    for (const id of this.timers) clearTimeout(id);
    this.timers = [];
    this.burstPongs = 0;
    for (let i = 0; i < PINGS; i++) {
      this.timers.push(setTimeout(() => this.send({ type: "time.ping", t0: localNow() }), i * PING_GAP_MS));
    }
    this.timers.push(setTimeout(() => this.sendSync(), PINGS * PING_GAP_MS + 2000));
  }

  onPong(m) {
    const t3 = localNow();
    const { t0, t1, t2 } = m;
    if (![t0, t1, t2].every(Number.isFinite) || t0 > t3) return;
    const offset = ((t1 - t0) + (t2 - t3)) / 2;
    const rtt = Math.max(0, (t3 - t0) - (t2 - t1));
    this.samples.push({ offset, rtt, at: t3 });
    const oldest = t3 - MAX_SAMPLE_AGE_MS;
    this.samples = this.samples.filter((s) => s.at >= oldest).slice(-KEEP_SAMPLES);
    let best = this.samples[0];
    for (const s of this.samples) if (s.rtt < best.rtt) best = s;
    this.offset = best.offset;
    this.rtt = best.rtt;
    this.publish();
    if (++this.burstPongs === PINGS) this.sendSync();
  }

  sendSync() {
    if (this.report && this.rtt != null && this.sentFor !== this.samples.length) {
      this.sentFor = this.samples.length;
      // secure: whether this page has a secure context (wake lock, offline copy); the console counts those without.
      this.send({ type: "time.sync", offset_ms: this.offset, rtt_ms: this.rtt, secure: globalThis.isSecureContext === true });
    }
  }

  publish() {
    diag.offset_ms = this.offset;
    diag.rtt_ms = this.rtt;
    diag.samples = this.samples.length;
    this.onChange();
  }

  serverNow() {
    return localNow() + this.offset;
  }

  // The true offset is within ± rtt/2 of the estimate, whatever the path asymmetry.
  bound() {
    return this.rtt == null ? null : this.rtt / 2;
  }
}

// Fires once per fire_at_ms, by the clock estimate: a coarse setTimeout until
// EARLY_MS before the moment (re-aimed at least every second, so a better
// estimate moves it), a MessageChannel loop that yields to other work, and a
// busy wait on performance.now() for the last SPIN_MS.
export class Launcher {
  constructor(clock, onFire, onChange = () => {}) {
    this.clock = clock;
    this.onFire = onFire;
    this.onChange = onChange;
    this.launch = { state: "idle" };
    this.pendingFor = null;
    this.firedFor = null;
    this.firedLive = false; // fired here at the moment (not only seen as fired)
    this.timer = null;
    this.hidden = false; // the page is hidden (screen.js tells us)
    this.sawHidden = false; // ...at some time since the pending moment was scheduled
    this.missedFor = null;
    this.channel = new MessageChannel();
    this.channel.port1.onmessage = () => this.tick();
  }

  get state() {
    return this.launch?.state || "idle";
  }

  update(launch) {
    this.launch = launch && launch.state ? launch : { state: "idle" };
    const at = this.launch.fire_at_ms;
    const st = this.launch.state;
    if (st === "countdown" && Number.isFinite(at)) {
      if (this.firedFor !== at && this.pendingFor !== at) this.schedule(at);
    } else if (st === "fired" && Number.isFinite(at)) {
      if (this.pendingFor === at) {
        if (this.sawHidden) this.missed(); // the push woke a hidden page after the moment
        else this.fire("push"); // our estimate runs late: the server's fired push came first
      } else if (this.firedFor !== at) {
        this.cancel();
        this.firedFor = at; // connected after the moment: show it, report nothing
        this.firedLive = false;
      }
    } else {
      this.cancel();
      if (st !== "fired") this.firedFor = null;
    }
    diag.state = this.state;
    this.onChange();
  }

  schedule(at) {
    this.cancel();
    this.pendingFor = at;
    this.sawHidden = this.hidden;
    this.tick();
  }

  // The page was hidden or shown (document.visibilityState, from screen.js).
  setHidden(hidden) {
    this.hidden = hidden;
    if (hidden && this.pendingFor != null) this.sawHidden = true;
  }

  // Visible again: re-aim now (a throttled timer may be seconds late); if the
  // moment passed meanwhile, show it as fired.
  resume() {
    const at = this.pendingFor;
    if (at == null) return;
    if (at - this.clock.serverNow() > LATE_MS) this.sawHidden = this.hidden; // still ahead: on time again
    this.tick();
  }

  // The moment passed while the page was hidden: "fired", without a report.
  missed() {
    const at = this.pendingFor;
    this.cancel();
    this.firedFor = at;
    this.firedLive = false;
    this.missedFor = at;
    Object.assign(diag, { fired_by: "missed", state: "fired" });
    this.launch = { ...this.launch, state: "fired" };
    this.onChange();
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = null;
    this.pendingFor = null;
  }

  tick() {
    const at = this.pendingFor;
    if (at == null) return;
    clearTimeout(this.timer);
    const target = at - this.clock.offset; // local ms
    const left = target - localNow();
    if (left < -LATE_MS && this.sawHidden) {
      this.missed();
    } else if (left > EARLY_MS) {
      this.timer = setTimeout(() => this.tick(), Math.min(left - EARLY_MS, 1000));
      this.coarse = true;
    } else if (left > SPIN_MS) {
      if (this.coarse) diag.woke_ms = left; // how early the coarse timer woke
      this.coarse = false;
      this.channel.port2.postMessage(0);
    } else {
      if (this.coarse) diag.woke_ms = left;
      diag.spun_ms = left;
      while (localNow() < at - this.clock.offset) { /* the last few ms */ }
      this.fire("timer");
    }
  }

  fire(by) {
    const at = this.pendingFor;
    this.cancel();
    const local = localNow();
    const server = local + this.clock.offset;
    this.firedFor = at;
    this.firedLive = true;
    Object.assign(diag, { fired_at_local_ms: local, fired_at_server_ms: server, fired_by: by, state: "fired" });
    this.launch = { ...this.launch, state: "fired" };
    this.onFire({ fire_at_ms: at, fired_ms: server, by });
    this.onChange();
  }

  // ms left before the moment, by the server clock estimate (null if none).
  remaining() {
    const at = this.launch.fire_at_ms;
    return this.state === "countdown" && Number.isFinite(at) ? Math.max(0, at - this.clock.serverNow()) : null;
  }
}

// Whole seconds (m:ss above a minute), one decimal in the last 10 s.
export function countdownText(ms, num) {
  if (ms >= 10_000) {
    const s = Math.ceil(ms / 1000);
    return s >= 60 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}` : String(s);
  }
  return num(Math.ceil(ms / 100) / 10, 1);
}
