// Inline SVG charts, no library: horizontal bars (districts) and an area
// chart over time (the check-in timeline). Both keep their nodes and only
// change attributes on update, so a live refresh is cheap.

import {svg} from './util.js';

/** Horizontal bars: one row per key, the bar = value / max. */
export class BarChart {
  constructor(container, {width = 640, row = 22, label = 190, valueWidth = 90} = {}) {
    this.container = container;
    this.width = width;
    this.row = row;
    this.labelW = label;
    this.valueW = valueWidth;
    this.keys = [];
    this.nodes = new Map();
    this.root = svg('svg', {class: 'bars', role: 'img'});
    container.replaceChildren(this.root);
  }

  /** rows: [{key, label, value, max, text, warn}] in display order. */
  update(rows) {
    const keys = rows.map((r) => r.key);
    const same = keys.length === this.keys.length && keys.every((k, i) => k === this.keys[i]);
    if (!same) this.rebuild(rows);
    const barW = this.width - this.labelW - this.valueW;
    for (const r of rows) {
      const n = this.nodes.get(r.key);
      const frac = r.max ? Math.max(0, Math.min(1, r.value / r.max)) : 0;
      const w = (barW * frac).toFixed(1);
      if (n.bar.getAttribute('width') !== w) n.bar.setAttribute('width', w);
      if (n.value.textContent !== r.text) n.value.textContent = r.text;
      if (n.label.textContent !== r.label) n.label.textContent = r.label;
      const cls = frac >= 0.95 ? 'bar ok' : frac >= 0.8 ? 'bar mid' : 'bar low';
      if (n.bar.getAttribute('class') !== cls) n.bar.setAttribute('class', cls);
    }
  }

  rebuild(rows) {
    this.keys = rows.map((r) => r.key);
    this.nodes.clear();
    const h = Math.max(1, rows.length) * this.row + 4;
    this.root.setAttribute('viewBox', `0 0 ${this.width} ${h}`);
    this.root.replaceChildren();
    const barW = this.width - this.labelW - this.valueW;
    rows.forEach((r, i) => {
      const y = i * this.row + 2;
      const label = svg('text', {x: this.labelW - 8, y: y + this.row * 0.68, 'text-anchor': 'end', class: 'lbl'});
      const track = svg('rect', {x: this.labelW, y: y + 3, width: barW, height: this.row - 6, class: 'track', rx: 3});
      const bar = svg('rect', {x: this.labelW, y: y + 3, width: 0, height: this.row - 6, class: 'bar', rx: 3});
      const value = svg('text', {x: this.labelW + barW + 8, y: y + this.row * 0.68, class: 'val'});
      this.root.append(label, track, bar, value);
      this.nodes.set(r.key, {label, bar, value});
    });
  }
}

/** One area chart of a cumulative series over time. */
export class AreaChart {
  constructor(container, {title = '', width = 900, height = 150, color = 'var(--accent)'} = {}) {
    this.width = width;
    this.height = height;
    this.pad = {l: 56, r: 12, t: 34, b: 22};
    this.root = svg('svg', {class: 'area', viewBox: `0 0 ${width} ${height}`, role: 'img'});
    this.title = svg('text', {x: this.pad.l, y: 14, class: 'title'}, title);
    this.area = svg('path', {class: 'fill', fill: color});
    this.line = svg('path', {class: 'line', stroke: color});
    this.axis = svg('g', {class: 'axis'});
    this.last = svg('text', {class: 'last', 'text-anchor': 'end'});
    this.root.append(this.axis, this.area, this.line, this.title, this.last);
    container.append(this.root);
  }

  /** points: [[t_ms, value]], sorted; max: the y scale's top; fmtX/fmtY format labels
   * (fmtXFine for spans under a quarter of an hour: with seconds). */
  update(points, {max, fmtX, fmtXFine, fmtY, title, minSpan = 60000}) {
    if (title !== undefined && this.title.textContent !== title) this.title.textContent = title;
    const {l, r, t, b} = this.pad;
    const w = this.width - l - r;
    const h = this.height - t - b;
    if (!points.length) {
      this.area.setAttribute('d', '');
      this.line.setAttribute('d', '');
      this.axis.replaceChildren();
      this.last.textContent = '';
      return;
    }
    const t0 = points[0][0];
    const t1 = Math.max(points[points.length - 1][0], t0 + minSpan);
    const fmtT = fmtXFine && t1 - t0 < 15 * 60000 ? fmtXFine : fmtX;
    const top = Math.max(1, max || 0, ...points.map((p) => p[1]));
    const x = (tm) => l + ((tm - t0) / (t1 - t0)) * w;
    const y = (v) => t + h - (v / top) * h;
    let d = '';
    for (const [tm, v] of points) d += `${d ? 'L' : 'M'}${x(tm).toFixed(1)},${y(v).toFixed(1)}`;
    this.line.setAttribute('d', d);
    this.area.setAttribute('d', `${d}L${x(points[points.length - 1][0]).toFixed(1)},${t + h}L${x(t0).toFixed(1)},${t + h}Z`);
    const [lt, lv] = points[points.length - 1];
    this.last.setAttribute('x', Math.min(x(lt), l + w).toFixed(1));
    this.last.setAttribute('y', Math.max(t + 10, y(lv) - 6).toFixed(1));
    this.last.textContent = fmtY(lv);
    const key = `${t0}|${t1}|${fmtY(top)}|${fmtT(t0)}`;
    if (this.axisKey === key) return;
    this.axisKey = key;
    const nodes = [
      svg('line', {x1: l, x2: l + w, y1: t + h, y2: t + h}),
      svg('line', {x1: l, x2: l + w, y1: t, y2: t, class: 'grid'}),
      svg('text', {x: l - 6, y: t + 4, 'text-anchor': 'end'}, fmtY(top)),
      svg('text', {x: l - 6, y: t + h, 'text-anchor': 'end'}, fmtY(0)),
    ];
    const ticks = 6;
    for (let i = 0; i <= ticks; i++) {
      const tm = t0 + ((t1 - t0) * i) / ticks;
      nodes.push(svg('text', {x: x(tm), y: this.height - 5, 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle'},
        fmtT(tm)));
    }
    this.axis.replaceChildren(...nodes);
  }
}
