// The province's Desks view (docs/protocol.md#desks): every unit's desk with
// its unit's progress (points checked in, attendees out of expected), its open
// incidents and when it was last active, the desks furthest behind first.
// Read from GET /api/events/{eid}/desks every few seconds while shown.

import {api} from './api.js';
import {dateTime, levelName, num, onLangChange, pct, t} from './i18n.js';
import {$, el, toast} from './util.js';

const REFRESH_MS = 5000;

/** How far a desk is: checked-in share first, then attendees (0..1; a unit with nothing to do is done). */
export function progress(d) {
  const checked = d.points ? d.checked_in / d.points : 1;
  const people = d.expected ? Math.min(1, d.attendees / d.expected) : 1;
  return [checked, people];
}

function behindFirst(a, b) {
  if (a.revoked !== b.revoked) return a.revoked ? 1 : -1; // revoked desks last
  const [ca, pa] = progress(a);
  const [cb, pb] = progress(b);
  return ca - cb || pa - pb || (b.incidents_open || 0) - (a.incidents_open || 0)
    || String(a.point_name || a.point).localeCompare(String(b.point_name || b.point), 'vi');
}

export class Desks {
  constructor(ctx) {
    this.ctx = ctx;
    this.root = $('#view-desks');
    this.desks = [];
    this.timer = null;
    $('#desks-table').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action=revoke]');
      if (b) this.revoke(b.dataset.id);
    });
    onLangChange(() => this.render());
  }

  shown() {
    this.load();
    clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.root.hidden) {
        clearInterval(this.timer);
        this.timer = null;
      } else {
        this.load();
      }
    }, REFRESH_MS);
  }

  async load() {
    if (!this.ctx.eventId() || this.ctx.desk()) return;
    try {
      this.desks = await api('GET', `${this.ctx.base()}/desks`);
    } catch (err) {
      clearInterval(this.timer);
      this.ctx.fail(err);
      return;
    }
    this.render();
  }

  render() {
    const rows = [...this.desks].sort(behindFirst);
    const canRevoke = this.ctx.can('admin');
    // "Behind": in the slower half of the live desks that still have points to check in.
    const live = rows.filter((d) => !d.revoked);
    const cut = live.length > 1 ? progress(live[Math.floor((live.length - 1) / 2)])[0] : -1;
    $('#desks-table tbody').replaceChildren(...rows.map((d) => {
      const [share] = progress(d);
      const behind = !d.revoked && share < 1 && share <= cut;
      return el('tr', {dataset: {key: d.id, point: d.point}, class: d.revoked ? 'revoked' : behind ? 'behind' : null},
        el('td', null, d.name, ' ', el('small', null, `(${t(`role.${d.role}`)})`)),
        el('td', null, d.point_name || t('desks.gone'), ' ', el('small', null,
          d.level ? `${d.point} · ${levelName(d.level)}` : d.point)),
        el('td', {class: 'n'}, `${num(d.checked_in)} / ${num(d.points)} · ${pct(d.checked_in, d.points)}`,
          el('span', {class: 'bar'}, el('i', {style: `width:${Math.round(100 * share)}%`}))),
        el('td', {class: 'n'}, `${num(d.attendees)} / ${num(d.expected)}`),
        el('td', {class: 'n'}, num(d.online)),
        el('td', {class: 'n'}, d.incidents_open ? num(d.incidents_open) : ''),
        el('td', null, d.last_used_ms ? dateTime(d.last_used_ms) : t('org.never')),
        el('td', null, el('span', {class: d.revoked ? 'status-revoked' : ''},
          t(d.revoked ? 'people.revoked' : 'people.active'))),
        el('td', {class: 'actions'}, canRevoke && !d.revoked ? el('button', {type: 'button', class: 'small danger',
          dataset: {action: 'revoke', id: d.id}}, t('people.revoke')) : null));
    }));
    $('#desks-empty').hidden = rows.length > 0;
  }

  async revoke(id) {
    const d = this.desks.find((x) => x.id === id);
    try {
      await api('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
      toast(t('org.revoked', {name: d ? d.name : id}));
      await this.load();
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}
