// Incidents (open ones by age, with who to call) and notices to the points.

import {api} from './api.js';
import {humanDuration, kindName, num, onLangChange, t, time} from './i18n.js';
import {KeyedRows} from './tables.js';
import {$, el, setText, toast} from './util.js';

export class Incidents {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-incidents');
    this.table = new KeyedRows($('#incidents-table tbody'), (i) => this.cells(i), {
      classes: ['age', 'name', '', 'note', '', 'phone', 'actions'],
      onAction: (action, id, button) => this.resolve(id, button),
    });
    this.notices = [];
    live.subscribe((ch) => this.onChange(ch));
    onLangChange(() => {
      this.table.clear();
      this.render();
      this.drawNotices();
    });
    $('#notice-form').addEventListener('submit', (ev) => this.sendNotice(ev));
    setInterval(() => {
      if (!this.root.hidden) this.render();
    }, 15000); // the ages move on
  }

  onChange(ch) {
    for (const id of ch.incidents) {
      const inc = this.live.incidents.get(id);
      if (inc && inc.open && !ch.snapshot && this.seen && !this.seen.has(id)) {
        toast(t('inc.new', {point: inc.point_name, kind: kindName(inc.kind)}), 'warn');
      }
    }
    if (ch.snapshot || !this.seen) this.seen = new Set();
    for (const id of this.live.incidents.keys()) this.seen.add(id);
    for (const n of ch.notices) {
      this.notices.unshift(n);
      toast(t('notice.toast', {text: n.text}), 'info');
    }
    if (ch.notices.length) this.drawNotices();
    const open = [...this.live.incidents.values()].filter((i) => i.open).length;
    setText($('#nav-incidents'), open ? num(open) : '');
    if (!this.root.hidden && (ch.snapshot || ch.incidents.size)) this.render();
  }

  shown() {
    this.render();
    this.drawNotices();
  }

  cells(i) {
    const age = this.live.serverNow() - i.opened_ms;
    return [
      {text: humanDuration(Math.floor(age / 60000) * 60000 || age), title: time(i.opened_ms)},
      `${i.point_name} (${i.point})`,
      kindName(i.kind),
      i.note,
      i.chair,
      i.phone ? {text: i.phone, href: `tel:${i.phone.replace(/[^\d+]/g, '')}`} : '',
      this.ctx.can('operator') ? {buttons: [{label: t('inc.resolve'), action: 'resolve', cls: 'primary'}]} : '',
    ];
  }

  render() {
    const all = [...this.live.incidents.values()];
    const open = all.filter((i) => i.open).sort((a, b) => a.opened_ms - b.opened_ms);
    this.table.render(open, (i) => i.id);
    $('#incidents-empty').hidden = open.length > 0;
    const resolved = all.filter((i) => !i.open).sort((a, b) => b.resolved_ms - a.resolved_ms).slice(0, 20);
    $('#resolved').replaceChildren(...resolved.map((i) => el('li', null, t('inc.resolved_by', {
      point: i.point_name, kind: kindName(i.kind), who: i.resolved_by || '', t: time(i.resolved_ms)}))));
  }

  async resolve(id, button) {
    button.disabled = true;
    try {
      await api('POST', `${this.ctx.base()}/incidents/${encodeURIComponent(id)}/resolve`);
    } catch (err) {
      button.disabled = false;
      this.ctx.fail(err);
    }
  }

  async sendNotice(ev) {
    ev.preventDefault();
    const text = $('#notice-text').value.trim();
    if (!text) return;
    const picker = $('#notice-district');
    // The picker lists the event's groups (or districts without a group level).
    const to = picker.value ? {[picker.dataset.field === 'district' ? 'district' : 'group']: picker.value} : {};
    try {
      await api('POST', `${this.ctx.base()}/notices`, {text, ...to});
      $('#notice-text').value = '';
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  drawNotices() {
    $('#notices').replaceChildren(...this.notices.slice(0, 30).map((n) => el('li', null,
      el('small', null, `${time(n.at_ms)} `), n.text,
      n.group ? el('small', null, ` (${this.ctx.groupName(n.group)})`)
        : n.district ? el('small', null, ` (${this.ctx.districtName(n.district)})`) : '')));
  }
}
