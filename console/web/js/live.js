// The live state of one event, kept from /ws/console frames.
//
// Frames are applied to the maps as they arrive (cheap); the screens are
// told once per animation frame, with the set of what changed, so a burst of
// frames costs one render. Reconnects with capped exponential backoff and
// jitter; each (re)connection starts from a fresh snapshot.
//
// window.__consoleStats is the page's measuring hook (tests read it): frames
// received by type, each delta's arrival and server time, and each render.

const MAX_LOG = 20000;

function emptyChanges() {
  return {snapshot: false, points: new Set(), removed: new Set(), incidents: new Set(), totals: false,
    agenda: false, launch: false, fired: false, notices: [], snapshots: [], event: false, keyholders: null};
}

const stats = {
  frames: {},
  deltas: [], // {recv: Date.now(), as_of: totals.as_of_ms, points: n}
  renders: [], // {at: Date.now(), as_of, ms: time spent rendering}
  parse: [], // ms spent parsing and applying each frame
  reset() {
    this.frames = {};
    this.deltas = [];
    this.renders = [];
    this.parse = [];
  },
};
window.__consoleStats = stats;

export class Live {
  constructor(eventId, {onStatus, onAuthLost} = {}) {
    this.eventId = eventId;
    this.points = new Map();
    this.incidents = new Map();
    this.totals = null;
    this.agenda = null;
    this.launch = null;
    this.launchFired = null;
    this.event = null;
    this.scope = null;
    this.seq = 0;
    this.offsets = [];
    this.offset = 0;
    this.ws = null;
    this.attempt = 0;
    this.closed = false;
    this.onStatus = onStatus || (() => {});
    this.onAuthLost = onAuthLost || (() => {});
    this.listeners = new Set();
    this.changes = emptyChanges();
    this.scheduled = false;
    this.retryTimer = null;
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The server's clock, estimated from the frames' server times. */
  serverNow() {
    return Date.now() + this.offset;
  }

  connect() {
    if (this.closed) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = this.eventId ? `?event=${encodeURIComponent(this.eventId)}` : '';
    const ws = new WebSocket(`${proto}://${location.host}/ws/console${query}`);
    this.ws = ws;
    this.onStatus('connecting');
    ws.onmessage = (msg) => this.onFrame(msg.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      // 4403: the credential was revoked (a desk shut out by the province,
      // docs/protocol.md#desks): ask at once whether the session still stands.
      if (ev.code === 4403) this.onAuthLost(ev.code);
      this.retry();
    };
  }

  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.close();
    }
  }

  retry() {
    if (this.closed) return;
    const ceiling = Math.min(15000, 500 * 2 ** Math.min(this.attempt, 10));
    const delay = ceiling * (0.5 + Math.random() * 0.5);
    this.attempt += 1;
    this.onStatus('retry', delay);
    if (this.attempt >= 2) this.onAuthLost();
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  clockSample(serverMs) {
    if (typeof serverMs !== 'number') return;
    this.offsets.push(serverMs - Date.now());
    if (this.offsets.length > 30) this.offsets.shift();
    // The frame left the server before it arrived: the largest sample is the
    // one with the least delay in it.
    this.offset = Math.max(...this.offsets);
  }

  onFrame(text) {
    const started = performance.now();
    this.apply(text);
    if (stats.parse.length < MAX_LOG) stats.parse.push(performance.now() - started);
  }

  apply(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    stats.frames[frame.type] = (stats.frames[frame.type] || 0) + 1;
    const ch = this.changes;
    switch (frame.type) {
      case 'snapshot':
        this.attempt = 0;
        this.event = frame.event;
        this.seq = frame.seq;
        this.points = new Map(frame.points.map((p) => [p.code, p]));
        this.incidents = new Map(frame.incidents.map((i) => [i.id, i]));
        this.totals = frame.totals;
        this.agenda = frame.agenda;
        this.launch = frame.launch;
        this.launchFired = frame.launch_fired || null;
        this.scope = frame.scope || null; // a desk's console: {point, name} (docs/protocol.md#desks)
        this.clockSample(frame.totals && frame.totals.as_of_ms);
        ch.snapshot = true;
        this.onStatus('live');
        break;
      case 'delta':
        this.seq = frame.seq;
        for (const p of frame.points) {
          this.points.set(p.code, p);
          ch.points.add(p.code);
        }
        for (const code of frame.removed || []) {
          this.points.delete(code);
          ch.removed.add(code);
        }
        for (const i of frame.incidents) {
          this.incidents.set(i.id, i);
          ch.incidents.add(i.id);
        }
        // Points whose screens fired (or a reset cleared it): their fired_ms only.
        for (const [code, firedMs] of Object.entries(frame.fired || {})) {
          const p = this.points.get(code);
          if (p) {
            this.points.set(code, {...p, fired_ms: firedMs});
            ch.points.add(code);
          }
        }
        this.totals = frame.totals;
        ch.totals = true;
        if (frame.launch_fired) {
          this.launchFired = frame.launch_fired;
          ch.fired = true;
        }
        this.clockSample(frame.totals.as_of_ms);
        if (stats.deltas.length < MAX_LOG) {
          stats.deltas.push({recv: Date.now(), as_of: frame.totals.as_of_ms, points: frame.points.length});
        }
        break;
      case 'agenda':
        this.agenda = frame.agenda;
        ch.agenda = true;
        break;
      case 'launch':
        this.launch = frame.launch;
        ch.launch = true;
        break;
      case 'notice':
        ch.notices.push(frame);
        break;
      case 'report.snapshot':
        ch.snapshots.push(frame.snapshot);
        break;
      case 'event': // the event was edited (name, times, time zone)
        this.event = frame.event;
        ch.event = true;
        break;
      case 'keyholders':
        ch.keyholders = frame.keyholders;
        break;
      default:
        return;
    }
    this.schedule();
  }

  schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    // requestAnimationFrame batches a burst into one render; the timer is a
    // fallback for a hidden tab, where animation frames stop.
    const run = () => this.flush();
    requestAnimationFrame(run);
    this.fallback = setTimeout(run, 500);
  }

  flush() {
    if (!this.scheduled) return;
    this.scheduled = false;
    clearTimeout(this.fallback);
    const started = performance.now();
    const changes = this.changes;
    this.changes = emptyChanges();
    for (const fn of this.listeners) {
      try {
        fn(changes, this);
      } catch (err) {
        console.error(err);
      }
    }
    if (this.totals && stats.renders.length < MAX_LOG) {
      stats.renders.push({at: Date.now(), as_of: this.totals.as_of_ms, ms: performance.now() - started});
    }
  }

  /** Ask every screen to redraw everything (a language change). */
  redrawAll() {
    this.changes.snapshot = true;
    this.schedule();
  }
}
