// The organizer console: log in, pick the event, follow it live.

import {ApiError, api, get} from './api.js';
import {Control} from './control.js';
import {Dashboard} from './dashboard.js';
import {Desks} from './desks.js';
import {Events} from './events.js';
import {applyStatic, getLang, onLangChange, setLang, setZone, t, time} from './i18n.js';
import {Incidents} from './incidents.js';
import {Live} from './live.js';
import {MapView} from './map.js';
import {Missing} from './missing.js';
import {People} from './people.js';
import {Points} from './points.js';
import {Programme} from './programme.js';
import {Audit, Reports} from './reports.js';
import {$, $$, el, openDialog, setText, toast} from './util.js';

const ROLES = ['viewer', 'operator', 'admin'];
const VIEWS = ['events', 'dashboard', 'points', 'map', 'programme', 'people', 'desks', 'incidents', 'control',
  'reports', 'audit'];

const state = {me: null, eventId: null, live: null, views: {}, frontPage: 'dashboard', events: null};
window.__console = state; // for debugging and tests: the live store and the views

const ctx = {
  eventId: () => state.eventId,
  base: () => `/api/events/${encodeURIComponent(state.eventId || '')}`,
  can: (role) => !!state.me && ROLES.indexOf(state.me.role) >= ROLES.indexOf(role),
  /** A desk's scope ({event, point, point_name, event_name}), or null for the province's console. */
  desk: () => (state.me && state.me.scope) || null,
  fail(err) {
    if (err instanceof ApiError && err.status === 403) toast(t('common.forbidden'), 'error');
    else toast(t('common.error', {msg: err.message}), 'error');
  },
  info(title, body) {
    setText($('#info-title'), title);
    $('#info-body').replaceChildren(body);
    openDialog($('#info-dialog'));
  },
  districtName(code) {
    const live = state.live;
    const d = live && live.totals && live.totals.by_district[code];
    return d ? d.name : code;
  },
  groupName(code) {
    const live = state.live;
    const g = live && live.totals && live.totals.by_group && live.totals.by_group[code];
    return g ? g.name : code;
  },
};

// -- log in ------------------------------------------------------------------------

function showLogin() {
  document.body.classList.remove('booting');
  $('#app').hidden = true;
  $('#login').hidden = false;
  $('#login-token').focus();
}

async function login(ev) {
  ev.preventDefault();
  setText($('#login-error'), '');
  try {
    await api('POST', '/api/session', {token: $('#login-token').value.trim()});
    $('#login-token').value = '';
    // Logged out while the console ran (a revoked token): start afresh rather
    // than bind the screens a second time.
    if (state.live) location.reload();
    else await boot();
  } catch (err) {
    setText($('#login-error'), err.status === 401 ? t('login.bad') : err.message);
  }
}

/** A log-in link (/console/#token=…, from a QR code): exchange the token for
 * the session cookie, then take it out of the address bar and the history. */
async function loginFromLink() {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (!m) return;
  history.replaceState(null, '', location.pathname + location.search);
  try {
    await api('POST', '/api/session', {token: decodeURIComponent(m[1])});
  } catch (err) {
    showLogin();
    setText($('#login-error'), err.status === 401 ? t('login.link_bad') : err.message);
    throw err;
  }
}

async function logout() {
  if (state.live) state.live.close();
  await api('DELETE', '/api/session').catch(() => {});
  location.reload();
}

async function checkSession() {
  try {
    await get('/api/me');
  } catch (err) {
    if (err.status === 401) {
      if (state.live) state.live.close();
      showLogin();
      // A desk is shut out when the province revokes it (docs/protocol.md#desks).
      if (state.me && state.me.scope) setText($('#login-error'), t('desk.shut_out'));
    }
  }
}

// -- the console -----------------------------------------------------------------

async function boot() {
  let me;
  try {
    me = await get('/api/me');
  } catch (err) {
    if (err.status === 401 || err.status === 403) return showLogin();
    throw err;
  }
  state.me = me;
  document.body.classList.remove('booting', 'role-viewer', 'role-operator', 'role-admin');
  document.body.classList.add(`role-${me.role}`);
  document.body.dataset.role = me.role;
  applyDesk(me.scope);
  $('#login').hidden = true;
  $('#app').hidden = false;
  showWho();
  const events = await get('/api/events');
  const wanted = new URLSearchParams(location.search).get('event');
  const home = me.scope && events.find((e) => e.id === me.scope.event);
  const chosen = home || events.find((e) => e.id === wanted) || events[events.length - 1];
  fillEventSelect(events, chosen);
  // The event list is the front page when there are several and none was chosen.
  state.frontPage = events.length > 1 && !wanted && !home ? 'events' : 'dashboard';
  if (!state.views.events) state.views.events = new Events(ctx);
  document.body.classList.toggle('no-event', !chosen);
  if (!chosen) {
    setConn('noevent');
    state.frontPage = 'events';
    route();
    return;
  }
  state.eventId = chosen.id;
  setZone(chosen.timezone);
  setText($('#event-name'), chosen.name);
  document.title = `${chosen.name} — launchday`;
  if (state.live) state.live.close();
  const live = new Live(chosen.id, {onStatus: setConn, onAuthLost: checkSession});
  state.live = live;
  live.subscribe((ch) => {
    if ((ch.snapshot || ch.event) && live.event) {
      setZone(live.event.timezone);
      setText($('#event-name'), live.event.name);
    }
    if (ch.snapshot && live.scope && state.me.scope) {
      state.me.scope.point_name = live.scope.name || state.me.scope.point_name;
      showDesk();
    }
  });
  state.views = {
    events: state.views.events,
    dashboard: new Dashboard(live, ctx),
    points: new Points(live, ctx),
    map: new MapView(live, ctx),
    missing: new Missing(live, ctx),
    incidents: new Incidents(live, ctx),
    control: new Control(live, ctx),
    reports: new Reports(live, ctx),
    audit: new Audit(live, ctx),
    programme: new Programme(live, ctx),
    people: new People(live, ctx),
    desks: new Desks(ctx),
  };
  live.connect();
  route();
}

function showWho() {
  const me = state.me;
  if (me) setText($('#who'), `${me.name} (${t(`role.${me.role}`)})`);
  showDesk();
}

/** A desk's console (docs/protocol.md#desks): only the tabs and controls it
 * may use (`data-desk="hide"` elsewhere; `data-desk-need` the role a desk needs
 * where it differs from the province's), its unit's name in the header. */
function applyDesk(scope) {
  document.body.classList.toggle('desk', !!scope);
  if (!scope) return;
  for (const node of $$('[data-desk-need]')) node.dataset.need = node.dataset.deskNeed;
}

function showDesk() {
  const scope = state.me && state.me.scope;
  const node = $('#desk-unit');
  node.hidden = !scope;
  if (!scope) return;
  setText(node, t('desk.unit', {name: scope.point_name || scope.point}));
  node.title = t('desk.unit_title');
}

/** May this console show `name`? A desk sees no view hidden from it. */
function allowed(name) {
  if (!ctx.desk()) return true;
  const tab = $(`.tabs a[data-view="${name}"]`);
  return !tab || tab.dataset.desk !== 'hide';
}

function fillEventSelect(events, chosen) {
  const select = $('#event-select');
  select.hidden = events.length < 2;
  select.replaceChildren(...[...events].reverse().map((e) => el('option', {value: e.id,
    selected: chosen && e.id === chosen.id}, e.name)));
}

let connState = ['connecting'];
function setConn(kind, delay) {
  connState = [kind, delay];
  const node = $('#conn');
  node.dataset.state = kind;
  const text = kind === 'retry' ? t('conn.retry', {s: Math.ceil(delay / 1000)}) : t(`conn.${kind}`);
  setText(node, text);
}

function route() {
  let name = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : state.frontPage;
  if (!allowed(name)) name = 'dashboard';
  if (!state.eventId) name = 'events';
  for (const section of $$('.view')) section.hidden = section.dataset.view !== name;
  for (const a of $$('.tabs a')) a.classList.toggle('active', a.dataset.view === name);
  // Drawn after the browser has painted the switch: the view's layout and
  // its rows then cost two tasks, not one long one.
  requestAnimationFrame(() => setTimeout(() => {
    const view = state.views[name];
    if (view) view.shown();
    if (name === 'points' && state.views.missing) state.views.missing.shown();
  }, 0));
}

function tickClock() {
  if (state.live) setText($('#clock'), time(state.live.serverNow()));
}

function init() {
  applyStatic();
  for (const button of $$('.lang-toggle')) {
    button.addEventListener('click', () => setLang(getLang() === 'vi' ? 'en' : 'vi'));
  }
  onLangChange(() => {
    showWho();
    setConn(...connState);
    route();
  });
  $('#login-form').addEventListener('submit', login);
  $('#logout').addEventListener('click', logout);
  $('#event-select').addEventListener('change', (ev) => {
    const url = new URL(location.href);
    url.searchParams.set('event', ev.target.value);
    location.href = url.toString();
  });
  window.addEventListener('hashchange', route);
  setInterval(tickClock, 1000);
  loginFromLink().then(boot).catch((err) => {
    if (err && err.status === 401) return;
    console.error(err);
    toast(t('common.error', {msg: err.message}), 'error', 20000);
  });
}

init();
