// The dashboard: big figures, countdowns, the pre-flight board, the
// timeline, and the breakdowns by level and by group (the event's group
// level: districts, or the communes of 2025; docs/protocol.md#grouping).

import {get} from './api.js';
import {AreaChart, BarChart} from './charts.js';
import {clockDuration, humanDuration, levelName, num, onLangChange, pct, t, time, timeShort} from './i18n.js';
import {KeyedRows} from './tables.js';
import {$, $$, el, setText} from './util.js';

const LEVELS = ['province', 'department', 'district', 'commune', 'village', 'school', 'market', 'enterprise', 'other'];
// Pre-flight thresholds: what "ready" means a few minutes before the start.
const READY = 0.95;
const WARN = 0.8;
const CLOCK_BOUND_MS = 50; // a clock is synced when its error bound (rtt/2) is at most this
// Bucket sizes for the timeline: about 120 buckets across what has happened
// so far (a morning: a minute each; a quick rehearsal: seconds).
const NICE_BUCKETS_S = [1, 2, 5, 10, 15, 30, 60];
const TIMELINE_REFRESH_MS = 60000;

const collator = new Intl.Collator('vi');
// The panels below the big figures are redrawn one per animation frame, in
// turn (the figures every frame): at 5 deltas a second each panel is at most
// a second old, and no frame has to lay out and paint the whole page.
const PANELS = ['levels', 'districtTable', 'districtChart', 'preflight', 'timeline'];
const DRAIN_MS = 200;

export class Dashboard {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-dashboard');
    this.figs = $$('[data-k]', this.root);
    this.levels = new KeyedRows($('#levels tbody'), (r) => r.cells, {classes: ['', 'n', 'n', 'n', 'n', 'n', 'n']});
    this.levelsFoot = el('tfoot');
    $('#levels').append(this.levelsFoot);
    this.districtSort = {key: 'name', dir: 1};
    this.districts = new KeyedRows($('#districts tbody'), (r) => r.cells,
      {classes: ['', 'n', 'n', 'n', 'n', 'n', 'n']});
    this.chart = new BarChart($('#district-chart'));
    const tl = $('#timeline');
    this.tlChecked = new AreaChart(tl, {color: 'var(--accent)'});
    this.tlAttendees = new AreaChart(tl, {color: 'var(--green)'});
    this.timeline = null;
    for (const th of $$('#districts th[data-sort]')) {
      th.addEventListener('click', () => {
        const key = th.dataset.sort;
        this.districtSort = {key, dir: this.districtSort.key === key ? -this.districtSort.dir : key === 'name' ? 1 : -1};
        this.renderDistricts();
      });
    }
    live.subscribe((ch) => this.onChange(ch));
    onLangChange(() => {
      this.levels.clear();
      this.districts.clear();
      this.chart.keys = [];
      this.render();
    });
    setInterval(() => this.tick(), 1000);
    this.loadTimeline();
    setInterval(() => this.loadTimeline(), TIMELINE_REFRESH_MS);
  }

  visible() {
    return !this.root.hidden;
  }

  onChange(ch) {
    if (ch.snapshot) this.loadTimeline();
    if (ch.totals || ch.snapshot) this.extendTimeline();
    if (!this.visible()) return;
    const totals = this.live.totals;
    if (!totals) return;
    this.renderFigures(totals);
    this.dirty = new Set(PANELS);
    if (ch.snapshot) this.render();
    else this.step();
  }

  shown() {
    this.render();
  }

  /** Everything at once (shown, a snapshot, a language change). */
  render() {
    const totals = this.live.totals;
    if (!totals) return;
    this.renderFigures(totals);
    for (const panel of PANELS) this.renderPanel(panel);
    this.dirty = new Set();
    this.tick();
  }

  /** Redraw the next panel that changed; the rest follow in later frames. */
  step() {
    clearTimeout(this.drainTimer);
    if (!this.dirty || !this.dirty.size || !this.visible()) return;
    this.turn = this.turn || 0;
    for (let i = 0; i < PANELS.length; i++) {
      const panel = PANELS[(this.turn + i) % PANELS.length];
      if (this.dirty.has(panel)) {
        this.turn = (this.turn + i + 1) % PANELS.length;
        this.dirty.delete(panel);
        this.renderPanel(panel);
        break;
      }
    }
    if (this.dirty.size) this.drainTimer = setTimeout(() => requestAnimationFrame(() => this.step()), DRAIN_MS);
  }

  renderPanel(panel) {
    const totals = this.live.totals;
    if (panel === 'levels') this.renderLevels(totals);
    else if (panel === 'districtTable') this.renderDistricts(true, false);
    else if (panel === 'districtChart') this.renderDistricts(false, true);
    else if (panel === 'preflight') this.renderPreflight(totals);
    else this.renderTimeline();
  }

  renderFigures(tot) {
    const values = {
      checked_in: num(tot.checked_in), points: num(tot.points), online: num(tot.online),
      attendees: num(tot.attendees), expected: num(tot.expected), incidents_open: num(tot.incidents_open),
      checked_pct: `${t('fig.of_points', {pct: pct(tot.checked_in, tot.points)})} · ${t('fig.missing',
        {n: num(tot.points - tot.checked_in)})}`,
      online_pct: t('fig.of_points', {pct: pct(tot.online, tot.points)}),
      attendees_pct: t('fig.of_expected', {pct: pct(tot.attendees, tot.expected)}),
      incidents_sub: this.oldestIncident(),
    };
    for (const node of this.figs) setText(node, values[node.dataset.k] ?? '');
    const bars = [['#fig-checked', tot.checked_in, tot.points], ['#fig-online', tot.online, tot.points],
      ['#fig-attendees', tot.attendees, tot.expected]];
    for (const [sel, part, whole] of bars) {
      const w = `scaleX(${whole ? Math.min(1, part / whole).toFixed(3) : 0})`;
      const bar = $(`${sel} .bar i`, this.root);
      if (bar.style.transform !== w) bar.style.transform = w;
    }
    $('#fig-incidents').classList.toggle('alert', tot.incidents_open > 0);
  }

  oldestIncident() {
    let oldest = null;
    for (const inc of this.live.incidents.values()) {
      if (inc.open && (oldest === null || inc.opened_ms < oldest)) oldest = inc.opened_ms;
    }
    if (oldest === null) return t('fig.inc_none');
    // Minutes are enough here, so the text does not change every second.
    const age = Math.floor((this.live.serverNow() - oldest) / 60000) * 60000;
    return t('fig.inc_oldest', {age: humanDuration(Math.max(60000, age))});
  }

  renderLevels(tot) {
    const rows = LEVELS.filter((l) => tot.by_level[l]).map((l) => ({level: l, cells: this.breakdownCells(
      levelName(l), tot.by_level[l])}));
    this.levels.render(rows, (r) => r.level);
    const total = this.breakdownCells(t('col.total'), tot).map((c) => String(c)).join('\u0001');
    if (this.levelsFootSig !== total) {
      this.levelsFootSig = total;
      this.levelsFoot.replaceChildren(el('tr', null, ...this.breakdownCells(t('col.total'), tot)
        .map((c, i) => el('td', {class: i ? 'n' : ''}, c))));
    }
  }

  breakdownCells(label, b) {
    return [label, num(b.points), num(b.checked_in), pct(b.checked_in, b.points), num(b.online), num(b.attendees),
      num(b.expected)];
  }

  renderDistricts(table = true, chart = true) {
    const tot = this.live.totals;
    if (!tot) return;
    const {key, dir} = this.districtSort;
    const level = tot.group_level;
    setText($('#by-group-title'), level ? t('dash.by_group', {level: levelName(level)}) : t('dash.by_district'));
    setText($('#group-col'), level ? levelName(level) : t('col.district'));
    const rows = Object.entries(tot.by_group || tot.by_district).map(([code, d]) => ({code, ...d,
      pct: d.points ? d.checked_in / d.points : 0}));
    rows.sort((a, b) => {
      const c = key === 'name' ? collator.compare(a.name, b.name) : a[key] - b[key];
      return dir * c || collator.compare(a.name, b.name);
    });
    if (table) {
      this.districts.render(rows.map((r) => ({code: r.code, cells: this.breakdownCells(r.name, r)})), (r) => r.code);
      for (const th of $$('#districts th[data-sort]')) {
        th.dataset.dir = th.dataset.sort === key ? (dir > 0 ? 'asc' : 'desc') : '';
      }
    }
    if (chart) this.chart.update(rows.map((r) => ({key: r.code, label: r.name, value: r.checked_in, max: r.points,
      text: `${num(r.checked_in)}/${num(r.points)}`})));
  }

  renderPreflight(tot) {
    const bounds = [];
    let online = 0;
    let insecure = 0; // online pages that said they have no secure context (no wake lock, no offline copy)
    for (const p of this.live.points.values()) {
      if (!p.online) continue;
      online += 1;
      if (p.rtt_ms !== null && p.rtt_ms !== undefined) bounds.push(p.rtt_ms / 2);
      if (p.secure === false) insecure += 1;
    }
    bounds.sort((a, b) => a - b);
    const synced = bounds.filter((b) => b <= CLOCK_BOUND_MS).length;
    const ratio = (a, b) => (b ? a / b : 0);
    const grade = (r) => (r >= READY ? 'ok' : r >= WARN ? 'warn' : 'bad');
    const need = t('pf.need', {pct: pct(READY, 1)});
    const clockDetail = bounds.length
      ? t('pf.clock_detail', {med: num(Math.round(bounds[Math.floor(bounds.length / 2)])),
        max: num(Math.round(bounds[bounds.length - 1]))})
      : t('pf.clock_none');
    const checks = [
      {key: 'online', label: t('pf.online'), value: `${num(tot.online)} / ${num(tot.points)}`,
        detail: `${pct(tot.online, tot.points)} · ${need}`, grade: grade(ratio(tot.online, tot.points))},
      {key: 'checked', label: t('pf.checked'), value: `${num(tot.checked_in)} / ${num(tot.points)}`,
        detail: `${pct(tot.checked_in, tot.points)} · ${need}`, grade: grade(ratio(tot.checked_in, tot.points))},
      {key: 'clock', label: t('pf.clock', {ms: CLOCK_BOUND_MS}), value: `${num(synced)} / ${num(online)}`,
        detail: clockDetail, grade: online ? grade(ratio(synced, online)) : 'bad'},
      {key: 'insecure', label: t('pf.insecure'), value: num(insecure),
        detail: insecure ? t('pf.insecure_detail', {n: num(insecure)}) : '', grade: insecure ? 'warn' : 'ok'},
      {key: 'incidents', label: t('pf.incidents'), value: num(tot.incidents_open), detail: '',
        grade: tot.incidents_open === 0 ? 'ok' : tot.incidents_open <= 3 ? 'warn' : 'bad'},
    ];
    const list = $('#preflight-list');
    const sig = JSON.stringify(checks);
    if (sig !== this.preflightSig) {
      this.preflightSig = sig;
      list.replaceChildren(...checks.map((c) => el('li', {class: c.grade, dataset: {check: c.key}},
        el('i', {class: 'dot'}), el('span', {class: 'what'}, c.label), el('b', null, c.value),
        el('small', null, c.detail))));
    }
    const go = checks.every((c) => c.grade === 'ok');
    const badge = $('#go');
    setText(badge, go ? t('pf.go') : t('pf.nogo'));
    badge.className = `go ${go ? 'ok' : 'bad'}`;
  }

  tick() {
    const ev = this.live.event;
    if (!ev || !this.visible()) return;
    const now = this.live.serverNow();
    const show = (id, iso) => {
      const at = Date.parse(iso);
      const left = at - now;
      setText($(`#${id}`), left > 0 ? clockDuration(left / 1000) : t('dash.passed'));
      setText($(`#${id}-at`), t('dash.at', {t: timeShort(at)}));
      $(`#${id}`).classList.toggle('soon', left > 0 && left < 10 * 60000);
    };
    show('cd-report', ev.report_deadline);
    show('cd-start', ev.starts_at);
    if (this.live.totals) setText($('[data-k="incidents_sub"]', this.root), this.oldestIncident());
  }

  // -- the timeline: from /timeline, its last bucket kept live from the totals --

  async loadTimeline() {
    const ev = this.ctx.eventId();
    if (!ev) return;
    const fetchLine = (s) => get(`/api/events/${encodeURIComponent(ev)}/timeline?bucket_s=${s}`);
    try {
      let bucket = this.bucketS || 5;
      let line = await fetchLine(bucket);
      const span = line.buckets.length ? line.as_of_ms - line.buckets[0].start_ms : 0;
      const nice = NICE_BUCKETS_S.find((b) => b * 1000 * 120 >= span) || 60;
      if (nice !== bucket) {
        bucket = nice;
        line = await fetchLine(bucket);
      }
      this.bucketS = bucket;
      this.timeline = line;
      this.extendTimeline();
      if (this.visible() && this.live.totals) this.renderTimeline();
    } catch (err) {
      console.warn('timeline', err);
    }
  }

  extendTimeline() {
    const tl = this.timeline;
    const tot = this.live.totals;
    if (!tl || !tot || tot.as_of_ms < tl.as_of_ms) return;
    const size = tl.bucket_s * 1000;
    const buckets = tl.buckets;
    if (!buckets.length) {
      if (!tot.checked_in) return;
      const start = Math.floor(tot.as_of_ms / size) * size;
      buckets.push({start_ms: start, end_ms: start + size, checked_in: 0, attendees: 0, checkins: 0});
    }
    while (buckets[buckets.length - 1].end_ms <= tot.as_of_ms) {
      const last = buckets[buckets.length - 1];
      buckets.push({...last, start_ms: last.end_ms, end_ms: last.end_ms + size, checkins: 0});
    }
    const last = buckets[buckets.length - 1];
    last.checked_in = tot.checked_in;
    last.attendees = tot.attendees;
    tl.live_ms = tot.as_of_ms;
  }

  renderTimeline() {
    const tl = this.timeline;
    const tot = this.live.totals;
    const empty = !tl || !tl.buckets.length;
    if (!tl) return;
    this.root.querySelector('#timeline').classList.toggle('empty', empty);
    const series = (field) => {
      if (empty) return [];
      const out = [[tl.buckets[0].start_ms, 0]];
      tl.buckets.forEach((b, i) => {
        const last = i === tl.buckets.length - 1;
        out.push([last && tl.live_ms ? Math.min(b.end_ms, tl.live_ms) : b.end_ms, b[field]]);
      });
      return out;
    };
    const minSpan = 12 * tl.bucket_s * 1000;
    this.tlChecked.update(series('checked_in'), {minSpan, max: tot ? tot.points : 0, fmtX: timeShort, fmtXFine: time, fmtY: num,
      title: empty ? t('dash.no_data') : t('fig.checked')});
    this.tlAttendees.update(series('attendees'), {minSpan, max: tot ? tot.expected : 0, fmtX: timeShort, fmtXFine: time, fmtY: num,
      title: empty ? '' : t('fig.attendees')});
  }
}
