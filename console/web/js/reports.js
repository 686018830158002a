// Reports (downloads of the live report, snapshots) and the audit log.

import {api, get} from './api.js';
import {getLang, num, onLangChange, t, time, timeShort} from './i18n.js';
import {KeyedRows} from './tables.js';
import {$, el, toast} from './util.js';

const FORMATS = ['xlsx', 'html', 'csv', 'json'];

export class Reports {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-reports');
    this.snapshots = [];
    this.table = new KeyedRows($('#snapshots tbody'), (s) => this.cells(s), {classes: ['n', '', '', '', 'n', 'n', 'files']});
    $('#snap-form').addEventListener('submit', (ev) => this.take(ev));
    live.subscribe((ch) => {
      if (ch.snapshot) this.load();
      for (const s of ch.snapshots) this.add(s);
    });
    onLangChange(() => {
      this.table.clear();
      this.render();
    });
  }

  shown() {
    const base = this.ctx.base();
    for (const fmt of FORMATS) $(`#dl-${fmt}`).href = `${base}/report.${fmt}`;
    this.load();
  }

  async load() {
    if (!this.ctx.eventId() || this.ctx.desk()) return; // a desk has no snapshots (docs/protocol.md#desks)
    try {
      this.snapshots = await get(`${this.ctx.base()}/report/snapshots`);
    } catch (err) {
      console.warn('snapshots', err);
    }
    this.render();
  }

  add(snap) {
    if (!this.snapshots.some((s) => s.n === snap.n)) this.snapshots.push(snap);
    this.render();
  }

  cells(s) {
    return [
      num(s.n),
      s.label,
      time(s.taken_ms),
      s.automatic ? t('rep.auto') : s.actor || '',
      s.overall ? `${num(s.overall.checked_in)} / ${num(s.overall.points)}` : '',
      s.overall ? num(s.overall.attendees) : '',
      '', // the links, drawn in render()
    ];
  }

  render() {
    const ev = this.live.event;
    if (ev) {
      const at = Date.parse(ev.report_deadline);
      const auto = this.snapshots.find((s) => s.automatic);
      $('#rep-auto').textContent = auto ? t('rep.auto_done', {t: timeShort(auto.taken_ms), n: num(auto.n)})
        : at > this.live.serverNow() ? t('rep.auto_at', {t: timeShort(at)}) : t('rep.auto_missed', {t: timeShort(at)});
    }
    const list = [...this.snapshots].sort((a, b) => b.n - a.n);
    this.table.render(list, (s) => s.n);
    // The download cell holds several links: drawn here, once per snapshot.
    for (const tr of $('#snapshots tbody').children) {
      const td = tr.lastElementChild;
      if (td.dataset.done === getLang()) continue;
      td.dataset.done = getLang();
      const base = `${this.ctx.base()}/report/snapshots/${tr.dataset.key}`;
      td.replaceChildren(...FORMATS.map((fmt) => el('a', {href: `${base}.${fmt}`, class: 'button small',
        target: fmt === 'html' || fmt === 'json' ? '_blank' : null, dataset: {fmt}}, fmt.toUpperCase())));
    }
    $('#snapshots-empty').hidden = list.length > 0;
  }

  async take(ev) {
    ev.preventDefault();
    const label = $('#snap-label').value.trim();
    try {
      const snap = await api('POST', `${this.ctx.base()}/report/snapshots`, label ? {label} : {});
      $('#snap-label').value = '';
      this.add(snap);
      toast(t('rep.taken', {label: snap.label}), 'ok');
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}

export class Audit {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-audit');
    this.items = [];
    this.table = new KeyedRows($('#audit tbody'), (i) => [
      {text: time(i.at_ms), title: new Date(i.at_ms).toISOString()},
      i.actor || t('audit.system'),
      getLang() === 'en' ? i.summary_en : i.summary,
      {text: i.type, cls: 'type'},
    ], {classes: ['when', 'who', 'what', 'type']});
    $('#audit-more').addEventListener('click', () => this.older());
    onLangChange(() => {
      this.table.clear();
      this.render();
    });
    setInterval(() => {
      if (!this.root.hidden) this.newer();
    }, 5000);
  }

  shown() {
    if (this.loadedFor !== this.ctx.eventId()) {
      this.items = [];
      this.table.clear();
      this.loadedFor = this.ctx.eventId();
    }
    this.newer();
  }

  async fetch(params) {
    const q = new URLSearchParams({limit: '100', ...params});
    return get(`${this.ctx.base()}/audit?${q}`);
  }

  async newer() {
    if (!this.ctx.eventId() || this.ctx.desk()) return; // a desk has no snapshots (docs/protocol.md#desks)
    try {
      const after = this.items.length ? this.items[0].seq : 0;
      const page = await this.fetch({after_seq: String(after)});
      if (!this.items.length) this.more = page.more;
      this.items = [...page.items, ...this.items];
      this.render();
    } catch (err) {
      console.warn('audit', err);
    }
  }

  async older() {
    if (!this.items.length) return;
    try {
      const page = await this.fetch({before_seq: String(this.items[this.items.length - 1].first_seq)});
      this.items.push(...page.items);
      this.more = page.more;
      this.render();
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  render() {
    this.table.render(this.items, (i) => i.seq);
    $('#audit-more').hidden = !this.more;
  }
}
