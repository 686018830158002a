// The programme (agenda) editor: add, remove and reorder items (title,
// speaker, location chosen from the points with the diacritics-insensitive
// search, planned minutes), paste a table from a spreadsheet or import a
// CSV/TSV file, then save it all with PUT /agenda.
//
// The server refuses to replace a running agenda (agenda_running, see
// docs/protocol.md#agenda): the editor says so and locks itself while the
// agenda runs or is paused.

import {api} from './api.js';
import {clockDuration, onLangChange, t} from './i18n.js';
import {$, el, fold, setText, toast} from './util.js';

const MAX_MATCHES = 8;

/** Cells of a pasted or imported table: tab-separated (a spreadsheet's copy), else ; or , (CSV). */
export function parseTable(text) {
  const lines = String(text || '').replace(/^\ufeff/, '').split(/\r?\n/);
  const sep = lines.some((l) => l.includes('\t')) ? '\t' : lines.some((l) => l.includes(';')) ? ';' : ',';
  return lines.map((line) => (sep === '\t' ? line.split('\t') : splitCsv(line, sep)).map((c) => c.trim()));
}

function splitCsv(line, sep) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false; else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) { out.push(cur); cur = ''; } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** "5", "5,5", "7.5", "1:30" (minutes:seconds) → seconds, or null. */
export function parseMinutes(raw) {
  const s = String(raw ?? '').trim().replace(/\s*(phút|ph|p|min|minutes?)$/i, '');
  let m = /^(\d+):(\d{1,2})$/.exec(s);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  m = /^\d+([.,]\d+)?$/.exec(s);
  return m ? Math.round(Number(s.replace(',', '.')) * 60) : null;
}

export class Programme {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-programme');
    this.rows = [];
    this.dirty = false;
    $('#prog-add').addEventListener('click', () => {
      this.rows.push({title: '', speaker: '', location: null, planned_s: 300});
      this.changed();
      const inputs = this.root.querySelectorAll('#prog-table tbody input[name=title]');
      if (inputs.length) inputs[inputs.length - 1].focus();
    });
    $('#prog-revert').addEventListener('click', () => this.load(true));
    $('#prog-save').addEventListener('click', () => this.save());
    $('#prog-paste-apply').addEventListener('click', () => this.paste($('#prog-paste').value));
    $('#prog-file').addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      ev.target.value = '';
      if (file) this.paste(await file.text());
    });
    const body = $('#prog-table tbody');
    body.addEventListener('input', (ev) => this.edited(ev));
    body.addEventListener('click', (ev) => this.clicked(ev));
    body.addEventListener('keydown', (ev) => this.keyed(ev));
    body.addEventListener('focusout', (ev) => {
      // Let a click on a match land before the list closes.
      if (ev.target.name === 'loc') setTimeout(() => this.closeMatches(ev.target), 150);
    });
    live.subscribe((ch) => {
      if (ch.agenda || ch.snapshot) {
        if (!this.dirty) this.load(false);
        if (!this.root.hidden) this.renderState();
      }
      if (ch.snapshot && !this.root.hidden && !this.dirty) this.render();
    });
    onLangChange(() => this.render());
  }

  shown() {
    if (!this.dirty) this.load(false);
    this.render();
  }

  locked() {
    const st = (this.live.agenda && this.live.agenda.state) || 'not_started';
    return st === 'running' || st === 'paused';
  }

  load(render = true) {
    const items = (this.live.agenda && this.live.agenda.items) || [];
    this.rows = items.map((i) => ({title: i.title, speaker: i.speaker || '', location: i.location || null,
      planned_s: i.planned_s}));
    this.dirty = false;
    setText($('#prog-error'), '');
    if (render || !this.root.hidden) this.render();
  }

  changed() {
    this.dirty = true;
    this.render();
  }

  pointName(code) {
    const p = code && this.live.points.get(code);
    return p ? p.name : code || '';
  }

  renderState() {
    const st = (this.live.agenda && this.live.agenda.state) || 'not_started';
    const badge = $('#prog-state');
    setText(badge, t(`agenda.state.${st}`));
    badge.className = `badge ${st}`;
    const locked = this.locked();
    $('#prog-locked').hidden = !locked;
    for (const id of ['#prog-add', '#prog-save', '#prog-paste-apply']) $(id).disabled = locked;
    for (const input of this.root.querySelectorAll('#prog-table input, #prog-table button')) input.disabled = locked;
  }

  render() {
    const body = $('#prog-table tbody');
    body.replaceChildren(...this.rows.map((r, i) => el('tr', {dataset: {i}},
      el('td', {class: 'n'}, String(i + 1)),
      el('td', null, el('input', {name: 'title', value: r.title, maxlength: 300, required: true,
        'aria-label': t('prog.item_title')})),
      el('td', null, el('input', {name: 'speaker', value: r.speaker, maxlength: 200, 'aria-label': t('prog.speaker')})),
      el('td', {class: 'loc'}, el('input', {name: 'loc', value: r.location ? this.pointName(r.location) : '',
        placeholder: t('prog.loc_ph'), autocomplete: 'off', 'aria-label': t('prog.location')}),
      el('small', {class: 'loc-code'}, r.location || '')),
      el('td', {class: 'n'}, el('input', {name: 'minutes', type: 'number', min: 0, max: 1440, step: 'any',
        value: String(Math.round((r.planned_s / 60) * 100) / 100), 'aria-label': t('prog.minutes')})),
      el('td', {class: 'move'},
        el('button', {type: 'button', class: 'small', dataset: {action: 'up'}, title: t('prog.up'), disabled: i === 0}, '↑'),
        el('button', {type: 'button', class: 'small', dataset: {action: 'down'}, title: t('prog.down'),
          disabled: i === this.rows.length - 1}, '↓'),
        el('button', {type: 'button', class: 'small', dataset: {action: 'remove'}, title: t('prog.remove')}, '✕')))));
    $('#prog-empty').hidden = this.rows.length > 0;
    const total = this.rows.reduce((s, r) => s + (r.planned_s || 0), 0);
    setText($('#prog-total'), this.rows.length ? t('prog.total', {d: clockDuration(total)}) +
      (this.dirty ? ` · ${t('prog.dirty')}` : '') : '');
    this.renderState();
  }

  rowOf(node) {
    const tr = node.closest('tr[data-i]');
    return tr ? Number(tr.dataset.i) : -1;
  }

  edited(ev) {
    const i = this.rowOf(ev.target);
    if (i < 0) return;
    const row = this.rows[i];
    const name = ev.target.name;
    if (name === 'title' || name === 'speaker') row[name] = ev.target.value;
    else if (name === 'minutes') {
      const v = Number(ev.target.value);
      row.planned_s = Number.isFinite(v) && v >= 0 ? Math.round(v * 60) : row.planned_s;
    } else if (name === 'loc') {
      if (!ev.target.value.trim()) {
        row.location = null;
        setText(ev.target.parentElement.querySelector('.loc-code'), '');
      }
      this.showMatches(ev.target);
    }
    this.dirty = true;
  }

  /** The diacritics-insensitive search of the points (as the points list's search). */
  matches(query) {
    const words = fold(query).split(' ').filter(Boolean);
    if (!words.length) return [];
    const found = [];
    for (const p of this.live.points.values()) {
      const hay = fold(`${p.code} ${p.name}`);
      if (words.every((w) => hay.includes(w))) {
        found.push(p);
        if (found.length >= MAX_MATCHES) break;
      }
    }
    return found;
  }

  showMatches(input) {
    this.closeMatches(input);
    const found = this.matches(input.value);
    const list = el('ul', {role: 'listbox'}, ...(found.length ? found.map((p, k) => el('li', {role: 'option',
      class: k === 0 ? 'active' : '', dataset: {code: p.code}}, p.name, ' ', el('small', null, p.code)))
      : [el('li', {class: 'none'}, t('prog.loc_none'))]));
    input.parentElement.append(list);
  }

  closeMatches(input) {
    const list = input.parentElement && input.parentElement.querySelector('ul');
    if (list) list.remove();
  }

  pick(input, code) {
    const i = this.rowOf(input);
    if (i < 0 || !code) return;
    this.rows[i].location = code;
    this.dirty = true;
    input.value = this.pointName(code);
    setText(input.parentElement.querySelector('.loc-code'), code);
    this.closeMatches(input);
  }

  keyed(ev) {
    if (ev.target.name !== 'loc') return;
    const list = ev.target.parentElement.querySelector('ul');
    if (!list) return;
    const items = [...list.querySelectorAll('li[data-code]')];
    const at = items.findIndex((li) => li.classList.contains('active'));
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = (at + (ev.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items.forEach((li, k) => li.classList.toggle('active', k === next));
    } else if (ev.key === 'Enter' && at >= 0) {
      ev.preventDefault();
      this.pick(ev.target, items[at].dataset.code);
    } else if (ev.key === 'Escape') this.closeMatches(ev.target);
  }

  clicked(ev) {
    const li = ev.target.closest('li[data-code]');
    if (li) {
      this.pick(li.closest('td').querySelector('input[name=loc]'), li.dataset.code);
      return;
    }
    const button = ev.target.closest('button[data-action]');
    if (!button) return;
    const i = this.rowOf(button);
    const {action} = button.dataset;
    if (action === 'remove') this.rows.splice(i, 1);
    else {
      const j = action === 'up' ? i - 1 : i + 1;
      if (j < 0 || j >= this.rows.length) return;
      [this.rows[i], this.rows[j]] = [this.rows[j], this.rows[i]];
    }
    this.changed();
  }

  /** A location cell: a point code, else a unique point by name (diacritics ignored). */
  resolveLocation(raw) {
    const text = String(raw || '').trim();
    if (!text) return {code: null};
    const byCode = [...this.live.points.values()].find((p) => p.code.toLowerCase() === text.toLowerCase());
    if (byCode) return {code: byCode.code};
    const q = fold(text);
    const exact = [...this.live.points.values()].filter((p) => fold(p.name) === q);
    if (exact.length === 1) return {code: exact[0].code};
    const found = exact.length ? exact : this.matches(text);
    if (found.length === 1) return {code: found[0].code};
    return {error: found.length ? 'prog.err_ambiguous' : 'prog.err_location'};
  }

  paste(text) {
    const table = parseTable(text);
    const rows = [];
    const errors = [];
    table.forEach((cells, k) => {
      const n = k + 1;
      if (cells.every((c) => !c)) return;
      const [title = '', speaker = '', where = '', minutes = ''] = cells;
      const seconds = parseMinutes(minutes);
      if (k === 0 && seconds === null && /phut|min|thoi/.test(fold(minutes))) return; // a header row ("Phút")
      if (!title) errors.push(t('prog.err_title', {row: n}));
      if (seconds === null) errors.push(t('prog.err_minutes', {row: n, v: minutes}));
      const loc = this.resolveLocation(where);
      if (loc.error) errors.push(t(loc.error, {row: n, v: where}));
      if (title && seconds !== null && !loc.error) rows.push({title, speaker, location: loc.code, planned_s: seconds});
    });
    $('#prog-paste-errors').replaceChildren(...errors.map((e) => el('li', null, e)));
    if (errors.length) return;
    this.rows = rows;
    $('#prog-paste').value = '';
    toast(t('prog.pasted', {n: rows.length}));
    this.changed();
  }

  async save() {
    setText($('#prog-error'), '');
    const items = this.rows.map((r) => ({title: r.title.trim(), speaker: r.speaker.trim(), location: r.location,
      planned_s: r.planned_s}));
    try {
      const agenda = await api('PUT', `${this.ctx.base()}/agenda`, {items});
      this.live.agenda = agenda;
      this.dirty = false;
      this.load(true);
      toast(t('prog.saved', {n: items.length}));
    } catch (err) {
      if (err.code === 'agenda_running') setText($('#prog-error'), t('prog.running'));
      else if (Array.isArray(err.details) && err.details.length) {
        setText($('#prog-error'), err.details.map((d) => t('prog.err_item', {item: (d.item ?? 0) + 1,
          field: t({title: 'prog.item_title', speaker: 'prog.speaker', location: 'prog.location',
            planned_s: 'prog.minutes'}[d.field] || d.field), message: d.message})).join(' '));
      } else setText($('#prog-error'), err.message);
    }
  }
}
