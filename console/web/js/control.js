// The control room: the agenda (now, next, over/under) and the launch panel
// (arm, key presses — one tablet per leader —, countdown, abort, reset, and
// after the fire the fired count and spread).

import {api} from './api.js';
import {clockDuration, num, onLangChange, t, time} from './i18n.js';
import {$, $$, el, openDialog, setText, toast} from './util.js';

const KEY_NAME = 'launchday.keyName';

export class Control {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-control');
    this.agendaAt = 0; // server time the agenda frame was received at
    for (const button of $$('[data-agenda]')) {
      button.addEventListener('click', () => this.agendaAction(button.dataset.agenda, button));
    }
    $('#arm-form').addEventListener('submit', (ev) => this.arm(ev));
    $('#press').addEventListener('click', () => this.press());
    $('#abort').addEventListener('click', () => this.launchAction('abort', t('launch.abort_confirm')));
    $('#reset').addEventListener('click', () => this.launchAction('reset'));
    live.subscribe((ch) => {
      if (ch.agenda || ch.snapshot) this.agendaAt = this.live.serverNow();
      if (!this.root.hidden && (ch.agenda || ch.launch || ch.fired || ch.snapshot)) this.render();
    });
    onLangChange(() => this.render());
    setInterval(() => {
      if (!this.root.hidden) this.tick();
    }, 100);
  }

  shown() {
    $('#hall-link').href = `/hall?event=${encodeURIComponent(this.ctx.eventId() || '')}`;
    this.render();
  }

  render() {
    this.renderAgenda();
    this.renderLaunch();
    this.tick();
  }

  // -- agenda -------------------------------------------------------------

  renderAgenda() {
    const a = this.live.agenda || {};
    const items = a.items || [];
    const state = a.state || 'not_started';
    const badge = $('#agenda-state');
    setText(badge, t(`agenda.state.${state}`));
    badge.className = `badge ${state}`;
    const cur = a.current;
    const moving = state === 'running' || state === 'paused';
    const enabled = {
      start: state === 'not_started' && items.length > 0,
      prev: moving && cur > 0,
      next: moving && cur < items.length - 1,
      pause: state === 'running',
      resume: state === 'paused',
      finish: moving,
    };
    for (const button of $$('[data-agenda]')) button.disabled = !enabled[button.dataset.agenda];
    const current = cur !== null && cur !== undefined ? items[cur] : null;
    setText($('#agenda-current'), current ? current.title : items.length ? '—' : t('agenda.empty'));
    setText($('#agenda-current-meta'), current ? [current.speaker, current.location_name || current.location].filter(Boolean).join(' · ') : '');
    const nextItem = cur !== null && cur !== undefined ? items[cur + 1] : state === 'not_started' ? items[0] : null;
    setText($('#agenda-next'), nextItem ? `${nextItem.title} (${clockDuration(nextItem.planned_s)})` : '—');
    $('#agenda-items').replaceChildren(...items.map((item, i) => el('li', {
      class: [i === cur ? 'current' : '', item.actual_end_ms ? 'done' : '', item.over ? 'over' : ''].join(' ').trim(),
    }, el('span', {class: 'title'}, item.title), el('small', null, item.speaker || ''),
    el('span', {class: 'times'}, item.actual_start_ms ? time(item.actual_start_ms) : '',
      ` ${clockDuration(item.elapsed_s)} / ${clockDuration(item.planned_s)}`))));
  }

  /** The current item's time and the offset, moved on since the frame arrived. */
  agendaClock() {
    const a = this.live.agenda || {};
    if (a.current === null || a.current === undefined || !a.items) return null;
    const item = a.items[a.current];
    const since = a.state === 'running' ? Math.max(0, (this.live.serverNow() - this.agendaAt) / 1000) : 0;
    const elapsed = (a.current_elapsed_s || 0) + since;
    const over = (s) => Math.max(0, s - item.planned_s);
    const offset = (a.offset_s || 0) - over(a.current_elapsed_s || 0) + over(elapsed);
    return {item, elapsed, offset};
  }

  // -- launch ---------------------------------------------------------------

  renderLaunch() {
    const l = this.live.launch || {state: 'idle'};
    const state = this.launchState(l);
    const badge = $('#launch-state');
    setText(badge, t(`launch.state.${state}`) + (l.rehearsal ? ` · ${t('launch.rehearsal_badge')}` : ''));
    badge.className = `badge ${state}`;
    this.root.dataset.launch = state;
    const pressed = l.keys_pressed || [];
    setText($('#launch-keys'), state === 'armed' || state === 'countdown' || (state === 'fired' && pressed.length)
      ? t('launch.keys_pressed', {n: num(pressed.length), of: num(l.keys_required), names: pressed.join(', ')}) : '');
    const canArm = state === 'idle' || state === 'aborted' || (state === 'fired' && l.rehearsal);
    for (const input of $$('#arm-form input, #arm-form button')) input.disabled = !canArm;
    $('#press').disabled = state !== 'armed';
    $('#abort').disabled = !(state === 'armed' || state === 'countdown');
    $('#reset').disabled = !(state === 'aborted' || (state === 'fired' && l.rehearsal));
    const fired = this.live.launchFired;
    const dl = $('#launch-fired');
    if (fired && fired.fire_at_ms && (state === 'fired' || fired.count)) {
      const pts = this.live.totals ? this.live.totals.points : 0;
      const rows = [
        [t('launch.fired_count'), `${num(fired.count)} / ${num(pts)}`],
        [t('launch.missing'), num(fired.missing)],
        [t('launch.spread'), fired.spread_ms === null ? '—' : `${num(Math.round(fired.spread_ms))} ms`],
        [t('launch.bound'), fired.worst_bound_ms === null ? '—' : `${num(Math.round(fired.worst_bound_ms))} ms`],
      ];
      dl.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', null, k), el('dd', null, v)]));
    } else {
      dl.replaceChildren();
    }
  }

  /** The state now: a countdown past its fire time is fired even before the push. */
  launchState(l) {
    if (l.state === 'countdown' && l.fire_at_ms && this.live.serverNow() >= l.fire_at_ms) return 'fired';
    return l.state || 'idle';
  }

  tick() {
    const clock = this.agendaClock();
    if (clock) {
      setText($('#agenda-elapsed'), clockDuration(clock.elapsed));
      setText($('#agenda-planned'), t('agenda.planned', {d: clockDuration(clock.item.planned_s)}));
      $('#agenda-elapsed').classList.toggle('over', clock.elapsed > clock.item.planned_s);
    } else {
      setText($('#agenda-elapsed'), '—');
      setText($('#agenda-planned'), '');
    }
    const offset = clock ? clock.offset : (this.live.agenda && this.live.agenda.offset_s) || 0;
    const rounded = Math.round(offset);
    setText($('#agenda-offset'), rounded > 0 ? t('agenda.late', {d: clockDuration(rounded)})
      : rounded < 0 ? t('agenda.early', {d: clockDuration(-rounded)}) : t('agenda.on_time'));
    $('#agenda-offset').className = rounded > 0 ? 'late' : rounded < 0 ? 'early' : '';
    const l = this.live.launch || {state: 'idle'};
    const state = this.launchState(l);
    if (state !== this.root.dataset.launch) this.renderLaunch();
    const big = $('#launch-big');
    let text = t(`launch.state.${state}`);
    if (state === 'armed') text = t('launch.waiting', {n: num(l.keys_required - (l.keys_pressed || []).length)});
    if (state === 'countdown') {
      // Never more than the countdown itself: this clock's estimate of the
      // server's may lag it by the frames' transit time.
      const left = Math.ceil((l.fire_at_ms - this.live.serverNow()) / 1000);
      text = String(Math.max(0, Math.min(left, Math.ceil(l.countdown_ms / 1000))));
    }
    setText(big, text);
    big.className = `launch-big ${state}`;
  }

  // -- commands ------------------------------------------------------------------

  async agendaAction(action, button) {
    button.disabled = true;
    try {
      this.live.agenda = await api('POST', `${this.ctx.base()}/agenda/${action}`);
      this.agendaAt = this.live.serverNow();
    } catch (err) {
      this.ctx.fail(err);
    }
    this.render();
  }

  async arm(ev) {
    ev.preventDefault();
    const body = {
      countdown_ms: Math.round(Number($('#arm-countdown').value) * 1000),
      keys_required: Number($('#arm-keys').value),
      rehearsal: $('#arm-rehearsal').checked,
    };
    await this.call('arm', body);
  }

  async press() {
    const input = $('#key-name');
    input.value = localStorage.getItem(KEY_NAME) || '';
    const answer = await openDialog($('#key-dialog'));
    const key = input.value.trim();
    if (answer !== 'ok' || !key) return;
    localStorage.setItem(KEY_NAME, key);
    await this.call('press', {key});
  }

  async launchAction(action, question) {
    // eslint-disable-next-line no-alert
    if (question && !window.confirm(question)) return;
    await this.call(action, {});
  }

  async call(action, body) {
    try {
      this.live.launch = await api('POST', `${this.ctx.base()}/launch/${action}`, body);
    } catch (err) {
      this.ctx.fail(err);
    }
    this.render();
    if (action === 'press' && this.live.launch.state === 'countdown') toast(t('launch.state.countdown'), 'warn', 3000);
  }
}
