// The points: a virtualized, keyed table with diacritic-free search and
// filters; editing a point, giving it a new link, importing a list.
//
// Only the rows in view (and a few around them) are in the DOM: with a
// thousand points changing every second, the browser lays out and paints
// a screenful of rows, never a thousand.

import {api, ApiError} from './api.js';
import {getLang, levelName, num, onLangChange, t, time} from './i18n.js';
import {KeyedRows} from './tables.js';
import {$, debounce, el, fold, openDialog, setText, toast} from './util.js';

const LEVELS = ['province', 'department', 'district', 'commune', 'village', 'school', 'market', 'enterprise', 'other'];
const STATUSES = ['pending', 'checked_in', 'online', 'offline', 'incident'];
const BUFFER = 8; // rows drawn above and below the visible ones
const ROW_H = 36; // px, until measured: every row is one line high (see console.css)
const NO_DISTRICT = '-';
const COLUMN_KEYS = {code: 'col.code', name: 'col.name', level: 'col.level', parent: 'edit.parent',
  chair: 'col.chair', phone: 'col.phone', expected: 'col.expected'};
const REGISTRY = '/api/admin-units/registry.csv';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A sort key in which "xa 0-2" comes before "xa 0-10". */
const natural = (text) => text.replace(/\d+/g, (d) => d.padStart(8, '0'));

/** Search and sort keys of a point, recomputed only when its name changes. */
const keys = new Map(); // code -> {name, folded}
function searchKey(p) {
  let k = keys.get(p.code);
  if (!k || k.name !== p.name) {
    k = {name: p.name, folded: fold(`${p.code} ${p.name}`), nameKey: natural(fold(p.name))};
    keys.set(p.code, k);
  }
  return k;
}

/** The event's grouping as the totals give it: by its group level (the
 * communes of 2025, or districts), or by district for a registry without one. */
export function grouping(totals) {
  if (totals && totals.group_level) {
    return {field: 'group', level: totals.group_level, by: totals.by_group || {}};
  }
  return {field: 'district', level: null, by: (totals && totals.by_district) || {}};
}

export function matches(p, f) {
  if (f.level && p.level !== f.level) return false;
  if (f.group) {
    const mine = p[f.groupField || 'group'];
    if (f.group === NO_DISTRICT ? mine : mine !== f.group) return false;
  }
  switch (f.status) {
    case 'pending': if (p.checked_in) return false; break;
    case 'checked_in': if (!p.checked_in) return false; break;
    case 'online': if (!p.online) return false; break;
    case 'offline': if (p.online) return false; break;
    case 'incident': if (!p.incidents_open) return false; break;
    default: break;
  }
  return !f.q || searchKey(p).folded.includes(f.q);
}

export class Points {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-points');
    this.filter = {q: '', level: '', group: '', groupField: 'district', status: '', sort: 'group'};
    this.list = [];
    this.scroller = $('#points-scroll');
    this.table = new KeyedRows($('#points-rows'), (p) => this.cells(p), {
      classes: ['code', 'name', '', '', '', 'phone', '', 'n', '', 'n', 'n', 'actions'],
      rowClass: (p) => (p.incidents_open ? 'incident' : p.checked_in ? '' : 'pending'),
      onAction: (action, code) => (action === 'edit' ? this.edit(code) : this.rotate(code)),
    });
    this.empty = el('p', {class: 'muted empty'}, '');
    $('#points-table').after(this.empty);
    this.bindControls();
    // The link sheets (one link and QR code per point) are served by the server.
    $('#links-html').href = `${ctx.base()}/links.html`;
    $('#links-csv').href = `${ctx.base()}/links.csv`;
    live.subscribe((ch) => this.onChange(ch));
    onLangChange(() => {
      this.fillSelects();
      this.table.clear();
      this.render();
    });
  }

  bindControls() {
    const refilter = () => {
      this.scroller.scrollTop = 0;
      this.render();
    };
    $('#q').addEventListener('input', debounce((ev) => {
      this.filter.q = fold(ev.target.value);
      refilter();
    }, 120));
    for (const [id, field] of [['#f-level', 'level'], ['#f-district', 'group'], ['#f-status', 'status'],
      ['#f-sort', 'sort']]) {
      $(id).addEventListener('change', (ev) => {
        this.filter[field] = ev.target.value;
        refilter();
      });
    }
    let pending = false;
    this.scroller.addEventListener('scroll', () => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        this.drawRows();
      });
    }, {passive: true});
    $('#import-file').addEventListener('change', (ev) => this.importFile(ev.target));
    $('#registry-form').addEventListener('submit', (ev) => this.downloadRegistry(ev));
    $('#registry-province').addEventListener('focus', () => this.fillProvinces(), {once: true});
    $('#edit-form').addEventListener('submit', (ev) => this.saveEdit(ev));
    this.fillSelects();
  }

  fillSelects() {
    const opts = (select, entries, current) => {
      select.replaceChildren(...entries.map(([value, label]) => el('option', {value, selected: value === current},
        label)));
    };
    opts($('#f-level'), [['', t('points.all_levels')], ...LEVELS.map((l) => [l, levelName(l)])], this.filter.level);
    opts($('#f-status'), [['', t('points.all_status')], ...STATUSES.map((s) => [s, t(`status.${s}`)])],
      this.filter.status);
    const level = grouping(this.live.totals).level;
    opts($('#f-sort'), [['group', level ? t('points.sort_group', {level: levelName(level)}) : t('points.sort_district')],
      ['code', t('points.sort_code')],
      ['name', t('points.sort_name')], ['recent', t('points.sort_recent')]], this.filter.sort);
    opts($('#edit-form select[name=level]'), LEVELS.map((l) => [l, levelName(l)]), '');
    this.fillDistricts(true);
  }

  /** The group filter (and the notice picker) follow the groups known in the
   * totals: the event's group level, or districts for a registry without one. */
  fillDistricts(force = false) {
    const g = grouping(this.live.totals);
    const entries = Object.entries(g.by).map(([code, d]) => [code, d.name]);
    entries.sort((a, b) => a[1].localeCompare(b[1], 'vi') || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const sig = g.field + (g.level || '') + entries.map((e) => e.join('=')).join('|') + getLang();
    if (!force && sig === this.districtSig) return;
    const relabel = this.districtSig !== undefined && !force;
    this.districtSig = sig;
    if (this.filter.groupField !== g.field) {
      this.filter.groupField = g.field;
      this.filter.group = '';
    }
    const level = g.level ? levelName(g.level) : null;
    const select = $('#f-district');
    select.dataset.field = g.field;
    select.replaceChildren(el('option', {value: ''}, level ? t('points.all_groups', {level}) : t('points.all_districts')),
      ...entries.map(([code, name]) => el('option', {value: code, selected: code === this.filter.group}, name)),
      el('option', {value: NO_DISTRICT, selected: this.filter.group === NO_DISTRICT},
        level ? t('points.no_group') : t('points.no_district')));
    const notice = $('#notice-district');
    const keep = notice.dataset.field === g.field ? notice.value : '';
    notice.dataset.field = g.field; // incidents.js sends it as "group" or "district"
    notice.replaceChildren(el('option', {value: ''}, t('notice.all')),
      ...entries.map(([code, name]) => el('option', {value: code, selected: code === keep}, t('notice.to', {name}))));
    if (relabel) this.fillSort();
    const head = $('#points-group-col');
    if (head) setText(head, level || t('col.district'));
  }

  fillSort() {
    const level = grouping(this.live.totals).level;
    const select = $('#f-sort');
    const first = select.querySelector('option[value=group]');
    if (first) first.textContent = level ? t('points.sort_group', {level: levelName(level)}) : t('points.sort_district');
  }

  groupName(p) {
    const g = grouping(this.live.totals);
    const code = p[g.field];
    if (!code) return '';
    if (g.field === 'group' && p.group_name) return p.group_name;
    const d = g.by[code];
    if (d) return d.name;
    const other = this.live.points.get(code);
    return other ? other.name : code;
  }

  onChange(ch) {
    if (ch.snapshot || ch.totals) this.fillDistricts();
    if (ch.snapshot) {
      this.table.clear();
      this.warmKeys();
    }
    if (this.root.hidden) return;
    if (ch.snapshot || ch.points.size || ch.removed.size || ch.totals) this.render();
  }

  shown() {
    this.render();
  }

  sorted(list) {
    const sort = this.filter.sort;
    const dn = new Map();
    const field = grouping(this.live.totals).field;
    const districtKey = (p) => {
      const code = p[field];
      let k = dn.get(code);
      if (k === undefined) {
        // By the group's name, then its code (two communes may share a name); no group last.
        k = code ? `${natural(fold(this.groupName(p)))}\u0000${code}` : '\uffff';
        dn.set(code, k);
      }
      return k;
    };
    const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    if (sort === 'code') return list.sort((a, b) => cmp(a.code, b.code));
    // (codes sort as text: they are identifiers, often with fixed-width numbers)
    if (sort === 'name') return list.sort((a, b) => cmp(searchKey(a).nameKey, searchKey(b).nameKey) || cmp(a.code, b.code));
    if (sort === 'recent') {
      return list.sort((a, b) => (b.updated_ms || 0) - (a.updated_ms || 0) || cmp(a.code, b.code));
    }
    return list.sort((a, b) => cmp(districtKey(a), districtKey(b))
      || LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || cmp(searchKey(a).nameKey, searchKey(b).nameKey));
  }

  render() {
    const all = this.live.points;
    const list = [];
    for (const p of all.values()) if (matches(p, this.filter)) list.push(p);
    this.list = this.sorted(list);
    this.root.dataset.matches = String(list.length);
    setText($('#points-count'), t('points.count', {shown: num(list.length), total: num(all.size)}));
    setText(this.empty, list.length ? '' : t('points.none'));
    this.drawRows();
  }

  /** Draw the rows in view of the scroller (and BUFFER more each side). */
  drawRows() {
    const list = this.list;
    const rowH = this.rowH || ROW_H;
    const view = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.min(Math.floor(this.scroller.scrollTop / rowH) - BUFFER, list.length - 1));
    const count = Math.ceil(view / rowH) + 2 * BUFFER;
    const shown = list.slice(first, first + count);
    const before = `${first * rowH}px`;
    const after = `${Math.max(0, list.length - first - shown.length) * rowH}px`;
    const top = $('#points-before');
    const bottom = $('#points-after');
    if (top.style.height !== before) top.style.height = before;
    if (bottom.style.height !== after) bottom.style.height = after;
    this.table.render(shown, (p) => p.code);
    if (!this.rowH && shown.length > 1 && !this.measuring) {
      // Measured after the browser has laid the rows out anyway: reading a
      // size right now would force a layout inside this task.
      this.measuring = true;
      requestAnimationFrame(() => setTimeout(() => this.measure(), 0));
    }
  }

  measure() {
    this.measuring = false;
    const rows = $('#points-rows').children;
    if (this.root.hidden || rows.length < 2) return;
    const h = rows[1].getBoundingClientRect().top - rows[0].getBoundingClientRect().top;
    if (h > 10) {
      this.rowH = h;
      if (Math.abs(h - ROW_H) > 0.5) this.drawRows();
    }
  }

  /** Fold every point's name for search and sort in idle time, not in a render. */
  warmKeys() {
    const todo = [...this.live.points.values()];
    const idle = window.requestIdleCallback || ((fn) => setTimeout(() => fn({timeRemaining: () => 8}), 1));
    const step = (deadline) => {
      while (todo.length && deadline.timeRemaining() > 1) searchKey(todo.pop());
      if (todo.length) idle(step);
    };
    idle(step);
  }

  cells(p) {
    const cells = [
      p.code,
      p.name,
      levelName(p.level),
      this.groupName(p),
      p.chair,
      p.phone ? {text: p.phone, href: `tel:${p.phone.replace(/[^\d+]/g, '')}`} : '',
      {badge: t(`status.${p.status}`), cls: `${p.status} ${p.online ? 'on' : 'off'}`},
      p.checked_in ? `${num(p.attendees)} / ${num(p.expected)}` : `— / ${num(p.expected)}`,
      p.too_many_connections ? {text: `⚠ ${t('status.crowded')}`, cls: 'off'}  // a leaked link: rotate it
        : p.online ? {text: t('status.online'), cls: 'on'} : time(p.last_seen_ms),
      p.rtt_ms === null || p.rtt_ms === undefined ? '' : `${num(Math.round(p.rtt_ms))} ms`,
      p.incidents_open ? num(p.incidents_open) : '',
    ];
    if (this.ctx.can('admin') && !this.ctx.desk()) {
      cells.push({buttons: [{label: t('points.edit'), action: 'edit'}, {label: t('points.rotate'), action: 'rotate'}]});
    } else if (this.ctx.desk() && this.ctx.can('operator')) { // a desk rotates its own points' links
      cells.push({buttons: [{label: t('points.rotate'), action: 'rotate'}]});
    } else {
      cells.push('');
    }
    return cells;
  }

  // -- editing ------------------------------------------------------------

  edit(code) {
    const p = this.live.points.get(code);
    if (!p) return;
    const form = $('#edit-form');
    form.dataset.code = code;
    setText($('#edit-code'), code);
    setText($('#edit-error'), '');
    for (const name of ['name', 'level', 'parent', 'chair', 'phone', 'expected']) {
      form.elements[name].value = p[name] ?? '';
    }
    this.editing = p;
    openDialog($('#edit-dialog'));
  }

  async saveEdit(ev) {
    ev.preventDefault();
    if (ev.submitter && ev.submitter.value === 'cancel') {
      $('#edit-dialog').close('cancel');
      return;
    }
    const form = ev.target;
    const p = this.editing;
    const body = {};
    for (const name of ['name', 'level', 'parent', 'chair', 'phone', 'expected']) {
      let value = form.elements[name].value.trim();
      if (name === 'expected') value = Number(value || 0);
      if (name === 'parent') value = value || null;
      if (value !== (p[name] ?? (name === 'parent' ? null : ''))) body[name] = value;
    }
    try {
      if (Object.keys(body).length) {
        await api('PATCH', `${this.ctx.base()}/points/${encodeURIComponent(p.code)}`, body);
      }
      $('#edit-dialog').close('save');
      toast(t('edit.saved', {code: p.code}), 'ok');
    } catch (err) {
      const details = err instanceof ApiError && Array.isArray(err.details)
        ? `: ${err.details.map((d) => `${d.column || d.field}: ${d.message}`).join('; ')}` : '';
      setText($('#edit-error'), `${err.message}${details}`);
    }
  }

  async rotate(code) {
    // eslint-disable-next-line no-alert
    if (!window.confirm(t('points.rotate_confirm', {code}))) return;
    try {
      const p = await api('POST', `${this.ctx.base()}/points/${encodeURIComponent(code)}/token`);
      const link = `${location.origin}/p/${p.token}`;
      this.ctx.info(t('points.new_link', {code}), el('p', null, el('a', {href: link, target: '_blank'}, link)));
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  // -- the official list of administrative units (docs/protocol.md#admin-units-registry) --

  /** The province picker's suggestions: the route without a name answers every province as candidates. */
  async fillProvinces() {
    const resp = await fetch(REGISTRY, {credentials: 'same-origin'}).catch(() => null);
    const body = resp && !resp.ok ? await resp.json().catch(() => null) : null;
    const names = (body && body.error && body.error.details && body.error.details.candidates) || [];
    $('#registry-provinces').replaceChildren(...names.map((name) => el('option', {value: name})));
  }

  async downloadRegistry(ev) {
    ev.preventDefault();
    const name = $('#registry-province').value.trim();
    try {
      const resp = await fetch(`${REGISTRY}?province=${encodeURIComponent(name)}`, {credentials: 'same-origin'});
      if (!resp.ok) {
        const body = await resp.json().catch(() => ({}));
        const err = body.error || {};
        const names = (err.details && err.details.candidates) || [];
        throw new ApiError(resp.status, err.code, names.length
          ? `${err.message} — ${t('points.registry_candidates', {names: names.join(', ')})}` : err.message);
      }
      const url = URL.createObjectURL(await resp.blob());
      const match = /filename="([^"]+)"/.exec(resp.headers.get('Content-Disposition') || '');
      const a = el('a', {href: url, download: match ? match[1] : 'registry.csv'});
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async importFile(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    input.value = '';
    const isXlsx = file.name.toLowerCase().endsWith('.xlsx');
    try {
      const data = await file.arrayBuffer();
      const result = await api('POST', `${this.ctx.base()}/points/import`, data, isXlsx ? XLSX : 'text/csv');
      const body = el('div', {id: 'import-result'}, el('p', null, t('import.summary', {
        created: num(result.created), updated: num(result.updated), errors: num(result.errors.length)})));
      if (result.errors.length) {
        body.append(el('table', {class: 'data'}, el('thead', null, el('tr', null, el('th', null, t('import.row')),
          el('th', null, t('import.column')), el('th', null, t('import.message')))),
        el('tbody', null, ...result.errors.slice(0, 500).map((e) => el('tr', null, el('td', {class: 'n'}, num(e.row)),
          el('td', null, COLUMN_KEYS[e.column] ? t(COLUMN_KEYS[e.column]) : e.column || ''),
          el('td', null, getLang() === 'en' ? e.message : e.message_vi || e.message))))));
      }
      this.ctx.info(t('import.title'), body);
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}
