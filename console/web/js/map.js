// The map that lights up: every point as a light, grouped by the event's
// group (docs/protocol.md#grouping), or placed by its coordinates.
//
// Grey: not connected; amber: online; green: checked in; red: an open
// incident. A point flashes when its report that its screen fired reaches the
// console (the point view's fired_ms, carried by the delta like any change):
// no frame of its own. Only the cells of the points a delta carries are
// touched, inside the live store's animation-frame batch (live.js).
//
// A wall of cells (one per point, a labelled block per group, groups by name)
// up to MAX_CELLS points and MAX_BLOCKS groups; above, one cell per group
// coloured by its share checked in, with a search and a click to zoom into a
// group. With coordinates (optional registry columns), dots placed by an
// equirectangular projection fitted to their bounding box: no tiles, no network.

import {levelName, num, onLangChange, pct, t} from './i18n.js';
import {grouping} from './points.js';
import {$, debounce, el, fold, setText} from './util.js';

const collator = new Intl.Collator('vi');
const NONE = '';
const MAX_CELLS = 12000; // points drawn as cells; above, one cell per group
const MAX_BLOCKS = 400; // groups drawn as blocks; above, one cell per group
const FLASH_MS = 1400;
const STATES = ['off', 'on', 'in', 'inc'];

/** A point's light: 'inc' (open incident), 'in' (checked in), 'on' (online), 'off'. */
export function lightOf(p) {
  if (p.incidents_open) return 'inc';
  if (p.checked_in) return 'in';
  if (p.online) return 'on';
  return 'off';
}

const hasCoords = (p) => typeof p.lat === 'number' && typeof p.lon === 'number';

export class MapView {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-map');
    this.board = $('#map-board');
    this.tip = $('#map-tip');
    this.mode = 'auto'; // what the picker asks: auto | cells | groups | dots
    this.zoom = null; // one group's points, opened from the groups overview
    this.q = '';
    this.stale = true;
    this.cells = new Map(); // point code -> its <i>
    this.groupCells = new Map(); // group code -> its <i> (the overview)
    this.seen = new Map(); // point code -> {s, g, fired}
    this.groups = new Map(); // group code -> {code, name, points, off, on, in, inc, fired}
    this.flashing = new Set();
    this.searchKeys = new Map(); // point code or 'g:' + group code -> {text, folded}
    live.subscribe((ch) => this.onChange(ch));
    onLangChange(() => {
      this.stale = true;
      if (!this.root.hidden) this.build();
    });
    $('#map-mode').addEventListener('change', (ev) => {
      this.mode = ev.target.value;
      this.zoom = null;
      this.build();
    });
    $('#map-q').addEventListener('input', debounce((ev) => {
      this.q = fold(ev.target.value);
      this.build();
    }, 150));
    $('#map-back').addEventListener('click', () => {
      this.zoom = null;
      this.build();
    });
    this.board.addEventListener('mouseover', (ev) => this.hover(ev));
    this.board.addEventListener('mouseleave', () => {
      this.tip.hidden = true;
    });
    this.board.addEventListener('click', (ev) => this.click(ev));
  }

  shown() {
    if (this.stale) this.build();
  }

  onChange(ch) {
    if (ch.snapshot) this.stale = true;
    if (this.root.hidden) {
      if (ch.points.size || ch.removed.size) this.stale = true;
      return;
    }
    if (this.stale || ch.removed.size) {
      this.build();
      return;
    }
    if (!ch.points.size && !ch.totals) return;
    const field = grouping(this.live.totals).field;
    const touched = new Set();
    for (const code of ch.points) {
      const p = this.live.points.get(code);
      const old = this.seen.get(code);
      // A new point or one that moved group changes the wall's shape: redraw it.
      if (!p || !old || old.g !== (p[field] || NONE) || field !== this.field) {
        this.build();
        return;
      }
      this.update(p, old, touched);
    }
    for (const g of touched) this.drawGroupCell(g);
    this.drawLegend();
  }

  /** One point's light (and its group's counts) after a delta carried it. */
  update(p, old, touched) {
    const s = lightOf(p);
    const fired = p.fired_ms !== null && p.fired_ms !== undefined;
    if (s === old.s && fired === old.fired) return;
    const g = this.groups.get(old.g);
    g[old.s] -= 1;
    g[s] += 1;
    g.fired += (fired ? 1 : 0) - (old.fired ? 1 : 0);
    this.counts[old.s] -= 1;
    this.counts[s] += 1;
    this.counts.fired += (fired ? 1 : 0) - (old.fired ? 1 : 0);
    const flash = fired && !old.fired;
    old.s = s;
    old.fired = fired;
    const cell = this.cells.get(p.code);
    if (flash) this.flash(p.code, cell);
    else if (cell) cell.className = this.cls(p.code, old);
    if (flash && this.groupCells.has(old.g)) this.flash(`g:${old.g}`, this.groupCells.get(old.g));
    touched.add(old.g);
  }

  cls(key, st) {
    return `m-${st.s}${st.fired ? ' fired' : ''}${this.flashing.has(key) ? ' flash' : ''}`;
  }

  flash(key, cell) {
    this.flashing.add(key);
    const reset = () => {
      this.flashing.delete(key);
      const node = key.startsWith('g:') ? this.groupCells.get(key.slice(2)) : this.cells.get(key);
      if (node) node.classList.remove('flash');
    };
    if (cell) {
      if (key.startsWith('g:')) cell.classList.add('flash');
      else cell.className = this.cls(key, this.seen.get(key));
    }
    setTimeout(reset, FLASH_MS);
  }

  // -- drawing the whole wall --------------------------------------------------------

  build() {
    this.stale = false;
    const live = this.live;
    const g = grouping(live.totals);
    this.field = g.field;
    this.level = g.level;
    this.seen = new Map();
    this.groups = new Map();
    this.counts = {off: 0, on: 0, in: 0, inc: 0, fired: 0};
    let coords = 0;
    for (const p of live.points.values()) {
      const key = p[g.field] || NONE;
      let group = this.groups.get(key);
      if (!group) {
        const name = key === NONE ? t('points.no_group')
          : (g.field === 'group' && p.group_name) || (g.by[key] && g.by[key].name) || key;
        group = {code: key, name, points: [], off: 0, on: 0, in: 0, inc: 0, fired: 0};
        this.groups.set(key, group);
      }
      group.points.push(p);
      const st = {s: lightOf(p), g: key, fired: p.fired_ms !== null && p.fired_ms !== undefined};
      this.seen.set(p.code, st);
      group[st.s] += 1;
      this.counts[st.s] += 1;
      if (st.fired) {
        group.fired += 1;
        this.counts.fired += 1;
      }
      if (hasCoords(p)) coords += 1;
    }
    this.fillModes(coords > 0);
    let mode = this.mode === 'dots' && !coords ? 'auto' : this.mode;
    if (mode === 'auto') mode = live.points.size > MAX_CELLS || this.groups.size > MAX_BLOCKS ? 'groups' : 'cells';
    if (this.zoom !== null && !this.groups.has(this.zoom)) this.zoom = null;
    if (this.zoom !== null) mode = 'cells';
    this.root.dataset.mode = mode;
    this.cells = new Map();
    this.groupCells = new Map();
    const order = [...this.groups.values()].sort((a, b) => (a.code === NONE) - (b.code === NONE)
      || collator.compare(a.name, b.name) || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    const shown = this.zoom !== null ? [this.groups.get(this.zoom)] : order.filter((gr) => this.matches(gr));
    let body;
    if (mode === 'dots') body = this.drawDots(shown, coords);
    else if (mode === 'groups') body = this.drawGroups(shown);
    else body = this.drawBlocks(shown);
    this.board.replaceChildren(body);
    $('#map-back').hidden = this.zoom === null;
    setText($('#map-title'), this.zoom !== null ? this.groups.get(this.zoom).name
      : t('map.units', {n: num(shown.length), level: this.level ? levelName(this.level) : t('col.district')}));
    this.root.dataset.cells = String(this.cells.size);
    this.drawLegend();
  }

  matches(group) {
    if (!this.q) return true;
    if (this.folded(`g:${group.code}`, group.name).includes(this.q)) return true;
    return group.points.some((p) => this.folded(p.code, `${p.code} ${p.name}`).includes(this.q));
  }

  /** Folded search text, kept while the text stays the same (36,500 names per keystroke otherwise). */
  folded(key, text) {
    let k = this.searchKeys.get(key);
    if (!k || k.text !== text) this.searchKeys.set(key, (k = {text, folded: fold(text)}));
    return k.folded;
  }

  cell(p) {
    const node = document.createElement('i');
    node.dataset.code = p.code;
    node.className = this.cls(p.code, this.seen.get(p.code));
    this.cells.set(p.code, node);
    return node;
  }

  /** A labelled block of cells per group; a block is about as wide as it is tall. */
  drawBlocks(groups) {
    const frag = el('div', {class: 'map-blocks'});
    for (const group of groups) {
      const pts = [...group.points].sort((a, b) => (b.code === group.code) - (a.code === group.code)
        || collator.compare(a.name, b.name));
      const cols = Math.max(6, Math.ceil(Math.sqrt(pts.length * 3)));
      const cells = el('div', {class: 'map-cells'});
      for (const p of pts) cells.append(this.cell(p));
      const block = el('section', {class: 'map-block', dataset: {group: group.code}, title: group.name},
        el('h4', null, group.name), cells);
      block.style.setProperty('--cols', String(Math.min(cols, pts.length) || 1));
      frag.append(block);
    }
    if (!groups.length) frag.append(el('p', {class: 'muted'}, t('map.none')));
    return frag;
  }

  /** One cell per group, coloured by its share checked in (a labelled tile
   * with a bar while the groups are few); a click zooms in. */
  drawGroups(groups) {
    const tiles = groups.length <= MAX_BLOCKS;
    const frag = el('div', {class: `map-overview${tiles ? ' tiles' : ''}`});
    for (const group of groups) {
      const node = tiles
        ? el('div', {class: 'map-tile', dataset: {group: group.code}}, el('span', null, group.name), el('b'), el('i'))
        : el('i', {dataset: {group: group.code}});
      this.groupCells.set(group.code, node);
      this.drawGroupCell(group.code);
      frag.append(node);
    }
    if (!groups.length) frag.append(el('p', {class: 'muted'}, t('map.none')));
    return frag;
  }

  drawGroupCell(code) {
    const node = this.groupCells.get(code);
    const g = this.groups.get(code);
    if (!node || !g) return;
    const total = g.points.length;
    const share = total ? Math.round((100 * g.in) / total) : 0;
    const sig = `${share}|${g.inc > 0}|${g.fired > 0}`;
    if (node.dataset.sig === sig) return;
    node.dataset.sig = sig;
    node.style.setProperty('--share', `${share}%`);
    const count = node.querySelector('b');
    if (count) count.textContent = `${num(g.in)} / ${num(total)}`;
    node.classList.toggle('has-inc', g.inc > 0);
    node.classList.toggle('fired', g.fired > 0);
  }

  /** Dots placed by lat/lon: equirectangular, fitted to the points' bounding box. */
  drawDots(groups, coords) {
    const pts = groups.flatMap((g) => g.points).filter(hasCoords);
    const wrap = el('div', {class: 'map-dots-wrap'});
    const missing = this.live.points.size - coords;
    if (missing > 0) wrap.append(el('p', {class: 'muted'}, t('map.no_coords', {n: num(missing)})));
    if (!pts.length) return wrap;
    let [s, n, w, e] = [90, -90, 180, -180];
    for (const p of pts) {
      s = Math.min(s, p.lat);
      n = Math.max(n, p.lat);
      w = Math.min(w, p.lon);
      e = Math.max(e, p.lon);
    }
    const k = Math.cos((((s + n) / 2) * Math.PI) / 180); // a degree of longitude, in degrees of latitude
    const width = Math.max((e - w) * k, 1e-3);
    const height = Math.max(n - s, 1e-3);
    const box = el('div', {class: 'map-dots'});
    box.style.setProperty('--ar', String(Math.min(4, Math.max(0.25, width / height))));
    for (const p of pts) {
      const node = this.cell(p);
      node.style.left = `${(((p.lon - w) * k) / width) * 100}%`;
      node.style.top = `${((n - p.lat) / height) * 100}%`;
      box.append(node);
    }
    wrap.append(box);
    return wrap;
  }

  fillModes(coords) {
    const select = $('#map-mode');
    const modes = [['auto', t('map.mode_auto')], ['cells', t('map.mode_cells')], ['groups', t('map.mode_groups')]];
    if (coords) modes.push(['dots', t('map.mode_dots')]);
    const sig = modes.map((m) => m.join('=')).join('|');
    if (select.dataset.sig === sig) return;
    select.dataset.sig = sig;
    select.replaceChildren(...modes.map(([value, label]) => el('option', {value, selected: value === this.mode}, label)));
  }

  drawLegend() {
    const c = this.counts;
    const items = [['off', 'map.off'], ['on', 'map.on'], ['in', 'map.in'], ['inc', 'map.inc']]
      .map(([s, key]) => el('li', null, el('i', {class: `m-${s}`}), `${t(key)} `, el('b', null, num(c[s]))));
    items.push(el('li', null, el('i', {class: 'm-in fired'}), `${t('map.fired')} `, el('b', null, num(c.fired))));
    const sig = `${STATES.map((s) => c[s]).join(',')},${c.fired}|${t('map.off')}`;
    const legend = $('#map-legend');
    if (legend.dataset.sig === sig) return;
    legend.dataset.sig = sig;
    legend.replaceChildren(...items);
  }

  // -- hover and click ---------------------------------------------------------------

  hover(ev) {
    const node = ev.target.closest('i[data-code], .map-overview [data-group]');
    if (!node || !this.board.contains(node)) {
      this.tip.hidden = true;
      return;
    }
    this.showTip(node);
  }

  showTip(node) {
    let lines;
    if (node.dataset.code) {
      const p = this.live.points.get(node.dataset.code);
      if (!p) return;
      const st = this.seen.get(p.code);
      const group = st ? this.groups.get(st.g) : null;
      lines = [el('b', null, p.name), el('span', null, `${p.code} · ${levelName(p.level)}`),
        group ? el('span', null, group.name) : null,
        el('span', null, `${t(`status.${p.status}`)} · ${t(p.online ? 'status.online' : 'status.offline')}`),
        st && st.fired ? el('span', null, t('map.fired')) : null];
    } else {
      const g = this.groups.get(node.dataset.group);
      if (!g) return;
      const total = g.points.length;
      lines = [el('b', null, g.name), el('span', null, t('map.share', {checked: num(g.in), total: num(total),
        pct: pct(g.in, total)})), g.inc ? el('span', null, `${t('map.inc')}: ${num(g.inc)}`) : null,
      el('small', null, t('map.zoom_hint'))];
    }
    this.tip.replaceChildren(...lines.filter(Boolean));
    const r = node.getBoundingClientRect();
    this.tip.style.left = `${Math.min(window.innerWidth - 260, r.right + 6)}px`;
    this.tip.style.top = `${r.bottom + 6}px`;
    this.tip.hidden = false;
  }

  click(ev) {
    const node = ev.target.closest('i[data-code], .map-overview [data-group]');
    if (!node) return;
    if (node.dataset.group !== undefined && !node.dataset.code) {
      this.zoom = node.dataset.group;
      this.tip.hidden = true;
      this.build();
      return;
    }
    this.showTip(node);
  }
}
