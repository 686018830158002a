// Events: the list (the console's front page when there are several), create
// and edit (name, start, report deadline, time zone, group level). Times are typed as the
// event's local time and sent as ISO 8601 with that zone's offset.

import {api} from './api.js';
import {getLang, levelName, onLangChange, t} from './i18n.js';
import {$, $$, el, openDialog, setText, toast} from './util.js';

const ZONES = ['Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Jakarta', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/Paris', 'UTC'];

/** Minutes the zone is ahead of UTC at the instant `ms`. */
function zoneOffsetMin(ms, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {timeZone: tz, hourCycle: 'h23', year: 'numeric',
    month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit'})
    .formatToParts(ms).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

/** "2025-05-08T08:00[:ss]" read in `tz` → "2025-05-08T08:00:00+07:00". */
export function localToIso(local, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(local || '');
  if (!m) return local;
  const sec = m[6] || '00';
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +sec);
  let off = zoneOffsetMin(guess, tz);
  off = zoneOffsetMin(guess - off * 60000, tz); // across a DST change, the offset at the instant itself
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  const pad = (n) => String(n).padStart(2, '0');
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${sec}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An ISO time → "YYYY-MM-DDTHH:MM" in `tz` (for a datetime-local field). */
export function isoToLocal(iso, tz) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', {timeZone: tz, hourCycle: 'h23', year: 'numeric',
    month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'}).formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

function shown(iso, tz) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Intl.DateTimeFormat(getLang() === 'vi' ? 'vi-VN' : 'en-GB', {timeZone: tz, hour: '2-digit', minute: '2-digit',
    day: '2-digit', month: '2-digit', year: 'numeric', hour12: false}).format(ms);
}

class ZoneError extends Error {}

function formBody(form) {
  const data = Object.fromEntries(new FormData(form));
  const tz = (data.timezone || 'Asia/Ho_Chi_Minh').trim();
  try {
    new Intl.DateTimeFormat('en', {timeZone: tz}); // eslint-disable-line no-new
  } catch {
    throw new ZoneError(t('events.bad_tz', {tz}));
  }
  return {name: data.name, timezone: tz, starts_at: localToIso(data.starts_at, tz),
    report_deadline: localToIso(data.report_deadline, tz), group_level: data.group_level || null};
}

function errorText(err) {
  if (err instanceof ZoneError) return err.message;
  const d = Array.isArray(err.details) ? err.details.map((x) => x.field).filter(Boolean) : [];
  return d.length ? `${err.message} (${d.map((f) => t(`events.${{starts_at: 'starts', report_deadline: 'deadline',
    timezone: 'tz', name: 'name', group_level: 'group_level'}[f] || f}`)).join(', ')})` : err.message;
}

const LEVELS = ['province', 'department', 'district', 'commune', 'village', 'school', 'market', 'enterprise', 'other'];

/** The group level's choices: the default (the server picks: docs/protocol.md#grouping), then every level. */
function fillLevels() {
  for (const select of $$('select.group-levels')) {
    const value = select.value;
    select.replaceChildren(el('option', {value: ''}, t('events.group_default')),
      ...LEVELS.map((l) => el('option', {value: l}, levelName(l))));
    select.value = value;
  }
}

export class Events {
  constructor(ctx) {
    this.ctx = ctx;
    this.events = [];
    this.editing = null;
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ZONES;
    $('#tz-list').replaceChildren(...[...new Set([...ZONES, ...zones])].map((z) => el('option', {value: z})));
    fillLevels();
    this.prefill();
    $('#event-create').addEventListener('submit', (ev) => this.create(ev));
    $('#events-table').addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-action=edit]');
      if (button) this.edit(button.dataset.id);
    });
    onLangChange(() => {
      fillLevels();
      this.render();
    });
  }

  /** Tomorrow 08:00 and 07:30, the usual shape of a ceremony morning. */
  prefill() {
    const form = $('#event-create');
    const tomorrow = new Date(Date.now() + 86400000);
    const day = isoToLocal(tomorrow.toISOString(), 'Asia/Ho_Chi_Minh').slice(0, 10);
    form.elements.starts_at.value = `${day}T08:00`;
    form.elements.report_deadline.value = `${day}T07:30`;
  }

  async load() {
    this.events = await api('GET', '/api/events');
    this.render();
    return this.events;
  }

  shown() {
    this.load().catch((err) => this.ctx.fail(err));
  }

  render() {
    const current = this.ctx.eventId();
    const rows = [...this.events].reverse().map((e) => el('tr', {dataset: {key: e.id}, class: e.id === current ? 'current' : ''},
      el('td', null, e.name, e.id === current ? el('small', null, ` (${t('events.current')})`) : null),
      el('td', null, shown(e.starts_at, e.timezone)), el('td', null, shown(e.report_deadline, e.timezone)),
      el('td', null, e.timezone),
      el('td', {class: 'actions'},
        el('a', {class: 'button small primary', href: `/console/?event=${encodeURIComponent(e.id)}#dashboard`,
          dataset: {action: 'open'}}, t('events.open')), ' ',
        this.ctx.can('admin') ? el('button', {type: 'button', class: 'small', dataset: {action: 'edit', id: e.id}},
          t('events.edit')) : null)));
    $('#events-table tbody').replaceChildren(...rows);
    $('#events-empty').hidden = this.events.length > 0;
  }

  async create(ev) {
    ev.preventDefault();
    const form = ev.target;
    setText($('#event-create-error'), '');
    try {
      const made = await api('POST', '/api/events', formBody(form));
      toast(t('events.created', {name: made.name}));
      location.href = `/console/?event=${encodeURIComponent(made.id)}#points`;
    } catch (err) {
      setText($('#event-create-error'), errorText(err));
    }
  }

  async edit(id) {
    const e = this.events.find((x) => x.id === id);
    if (!e) return;
    const dialog = $('#event-dialog');
    const form = $('#event-edit');
    form.elements.name.value = e.name;
    form.elements.timezone.value = e.timezone;
    form.elements.starts_at.value = isoToLocal(e.starts_at, e.timezone);
    form.elements.report_deadline.value = isoToLocal(e.report_deadline, e.timezone);
    form.elements.group_level.value = e.group_level || '';
    setText($('#event-edit-error'), '');
    for (;;) {
      if (await openDialog(dialog) !== 'save') return;
      try {
        const saved = await api('PATCH', `/api/events/${encodeURIComponent(id)}`, formBody(form));
        Object.assign(e, saved);
        toast(t('events.saved'));
        this.render();
        return;
      } catch (err) {
        setText($('#event-edit-error'), errorText(err));
      }
    }
  }
}
