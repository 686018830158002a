// The points still missing, grouped for phoning by the event's group level
// (docs/protocol.md#grouping: districts, or the communes of 2025): one
// <details> per group (a group's rows are drawn only while it is open),
// refreshed at most once a second.

import {levelName, num, onLangChange, t} from './i18n.js';
import {$, el, setText, throttle} from './util.js';

const collator = new Intl.Collator('vi');
const NONE = '';

export class Missing {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#missing');
    this.view = $('#view-points');
    this.groups = new Map(); // group code -> {details, summary, list, sig}
    this.render = throttle(() => this.draw(), 1000);
    live.subscribe((ch) => {
      if (this.view.hidden) return;
      if (ch.snapshot) this.draw();
      else if (ch.points.size || ch.removed.size) this.render();
    });
    onLangChange(() => {
      for (const g of this.groups.values()) g.sig = null;
      this.draw();
    });
    this.root.addEventListener('toggle', (ev) => {
      const g = this.groups.get(ev.target.dataset.group);
      if (g) this.fill(g);
    }, true);
  }

  shown() {
    this.draw();
  }

  draw() {
    const byGroup = new Map();
    let total = 0;
    for (const p of this.live.points.values()) {
      if (p.checked_in) continue;
      total += 1;
      const key = p.group || NONE;
      let list = byGroup.get(key);
      if (!list) byGroup.set(key, (list = []));
      list.push(p);
    }
    setText($('#missing-count'), num(total));
    const groups = (this.live.totals && this.live.totals.by_group) || {};
    const name = (code) => (code === NONE ? t('points.no_group') : (groups[code] ? groups[code].name : code));
    // By group name, then code (two communes may share a name); outside any group last.
    const order = [...byGroup.keys()].sort((a, b) => (a === NONE) - (b === NONE) || collator.compare(name(a), name(b))
      || (a < b ? -1 : a > b ? 1 : 0));
    for (const [code, g] of this.groups) {
      if (!byGroup.has(code)) {
        g.details.remove();
        this.groups.delete(code);
      }
    }
    const frag = document.createDocumentFragment();
    for (const code of order) {
      let g = this.groups.get(code);
      if (!g) {
        const summary = el('summary');
        const list = el('table', {class: 'data compact'}, el('tbody'));
        const details = el('details', {dataset: {group: code}}, summary, list);
        g = {details, summary, list, sig: null, points: []};
        this.groups.set(code, g);
      }
      g.points = byGroup.get(code).sort((a, b) => collator.compare(a.name, b.name));
      setText(g.summary, `${name(code)} — ${num(g.points.length)}`);
      if (g.details.open) this.fill(g);
      frag.append(g.details);
    }
    this.root.replaceChildren(frag);
    if (!total) this.root.append(el('p', {class: 'muted'}, t('points.all_checked')));
  }

  fill(g) {
    if (!g.details.open) return;
    const sig = g.points.map((p) => `${p.code}|${p.name}|${p.chair}|${p.phone}`).join('\n');
    if (sig === g.sig) return;
    g.sig = sig;
    g.list.tBodies[0].replaceChildren(...g.points.map((p) => el('tr', null,
      el('td', {class: 'name'}, p.name, el('small', null, ` ${p.code} · ${levelName(p.level)}`)),
      el('td', null, p.chair),
      el('td', {class: 'phone'}, p.phone ? el('a', {href: `tel:${p.phone.replace(/[^\d+]/g, '')}`}, p.phone) : ''))));
  }
}
