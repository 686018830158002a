// A key holder's page (/k/<token>): only their own key, the countdown and the
// launch's state, phone-sized, Vietnamese first. The token is the path; it is
// sent as a bearer token to the two calls it can make (GET /api/keyholder,
// POST /api/keyholder/press). Live state comes over the read-only hall socket
// (/ws/display), with the point page's clock sync and fire scheduling
// (checkin/web/launch.js), so this screen fires with every other one.

import {backoffMs, ClockSync, countdownText, Launcher, Liveness, localNow} from '/static/checkin/launch.js';
import {LABELS} from '/static/labels.js';

// The page's words, error codes among them: LABELS[lang].keyholder
// (server/core/labels_ui.py), served as /static/labels.js.
const VI = LABELS.vi.keyholder;
const EN = LABELS.en.keyholder;
let lang = localStorage.getItem('launchday.lang') === 'en' ? 'en' : 'vi';
const t = (key, params) => ((lang === 'en' ? EN : VI)[key] || key).replace(/\{(\w+)\}/g, (_, k) => String(params?.[k] ?? ''));
const $ = (id) => document.getElementById(id);
const num = (n, d = 0) => new Intl.NumberFormat(lang === 'vi' ? 'vi-VN' : 'en-GB',
  {minimumFractionDigits: d, maximumFractionDigits: d}).format(n);

const token = decodeURIComponent(location.pathname.replace(/^\/k\//, ''));
const auth = {Authorization: `Bearer ${token}`};
const m = {me: null, conn: 'connecting', error: '', busy: false, invalid: false};

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

const clock = new ClockSync((obj) => send(obj), () => render(), false);
const launcher = new Launcher(clock, () => {}, () => render());

function render() {
  document.documentElement.lang = lang;
  setText($('kh-lang'), t('lang'));
  document.title = m.me ? `${t('title')} · ${m.me.name}` : t('title');
  if (m.invalid) {
    document.body.dataset.state = 'invalid';
    setText($('kh-event'), t('title'));
    setText($('kh-state'), t('invalid'));
    for (const id of ['kh-digits', 'kh-keys', 'kh-hint', 'kh-error']) setText($(id), '');
    $('kh-press').hidden = true;
    return;
  }
  if (!m.me) {
    setText($('kh-state'), t('loading'));
    return;
  }
  const launch = launcher.launch || {state: 'idle'};
  const st = launcher.state;
  const pressed = (launch.keys_pressed || []);
  const mine = pressed.includes(m.me.name);
  const view = st === 'armed' && mine ? 'pressed' : st;
  document.body.dataset.state = view;
  document.body.dataset.mine = mine ? '1' : '0';
  setText($('kh-event'), m.me.event.name);
  setText($('kh-name'), t('holder', {name: m.me.name}));
  setText($('kh-state'), t(view) + (launch.rehearsal && st !== 'idle' ? t('rehearsal') : ''));
  setText($('kh-hint'), {idle: t('idle_hint'), armed: t('armed_hint'), pressed: t('pressed_hint'),
    aborted: t('aborted_hint')}[view] || '');
  const press = $('kh-press');
  setText(press, t('press'));
  press.disabled = st !== 'armed' || mine || m.busy;
  press.hidden = st === 'fired' || st === 'countdown';
  setText($('kh-keys'), st === 'armed' || st === 'countdown'
    ? t('keys', {n: pressed.length, of: launch.keys_required, names: pressed.join(', ') || '—'}) : '');
  if (st !== 'countdown') setText($('kh-digits'), '');
  setText($('kh-error'), m.error);
  setText($('kh-conn'), t(m.conn));
  const b = clock.bound();
  setText($('kh-sync'), b == null ? t('not_synced') : t('synced', {b: num(b, b < 10 ? 1 : 0)}));
}

(function loop() {
  const left = launcher.remaining();
  if (left != null) setText($('kh-digits'), countdownText(left, num));
  if (left != null) requestAnimationFrame(loop);
  else setTimeout(loop, 250);
})();

async function press() {
  m.busy = true;
  m.error = '';
  render();
  try {
    const resp = await fetch('/api/keyholder/press', {method: 'POST', headers: auth, credentials: 'omit'});
    const data = await resp.json().catch(() => ({}));
    if (resp.status === 401) m.invalid = true;
    else if (!resp.ok) {
      const code = data.error && data.error.code;
      const known = code && (lang === 'en' ? EN : VI)[code];
      m.error = t('error', {msg: known || (data.error ? data.error.message : resp.status)});
    }
    else launcher.update(data);
  } catch (err) {
    m.error = t('error', {msg: err.message});
  } finally {
    m.busy = false;
    render();
  }
}

let ws = null;
let attempt = 0;
function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify(obj));
    return true;
  }
  return false;
}

function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/ws/display?event=${encodeURIComponent(m.me.event.id)}`);
  const me = ws;
  const started = localNow();
  m.conn = 'connecting';
  const alive = new Liveness(() => send({type: 'time.ping', t0: localNow()}), () => { dropped(); me.close(); });
  ws.onmessage = (ev) => {
    if (me !== ws) return;
    alive.seen();
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg.type === 'time.pong') return clock.onPong(msg);
    if (msg.type === 'welcome') {
      attempt = 0;
      m.conn = 'online';
      clock.rough(msg.server_ms, localNow() - started);
      clock.start();
      launcher.update(msg.launch);
    } else if (msg.type === 'launch') {
      if (msg.launch.state === 'countdown') clock.burst();
      launcher.update(msg.launch);
    }
    render();
  };
  function dropped() {
    alive.stop();
    if (me !== ws) return;
    ws = null;
    clock.stop();
    m.conn = 'offline';
    render();
    setTimeout(connect, backoffMs(attempt++));
  }
  ws.onclose = dropped;
}

async function main() {
  $('kh-lang').addEventListener('click', () => {
    lang = lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('launchday.lang', lang);
    render();
  });
  $('kh-press').addEventListener('click', press);
  render();
  const resp = await fetch('/api/keyholder', {headers: auth, credentials: 'omit'});
  if (!resp.ok) {
    m.invalid = true;
    return render();
  }
  m.me = await resp.json();
  launcher.update(m.me.launch);
  render();
  connect();
  // A revoked link stops at once on the server; the page learns it here (or on
  // its next press) and says so. A handful of key holders: the polling is cheap.
  setInterval(async () => {
    const again = await fetch('/api/keyholder', {headers: auth, credentials: 'omit'}).catch(() => null);
    if (again && again.status === 401 && !m.invalid) {
      m.invalid = true;
      render();
    }
  }, 15_000);
}

main();
