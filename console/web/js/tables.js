// Keyed table rows: each row is kept by its key and only rewritten when what
// it shows changed; rows are moved only when the order changed. A live
// refresh of a hundred rows is then a few string comparisons.
//
// A row is described by cell specs:
//   'text'                                   plain text
//   {text, cls, title}                       text with a class
//   {text, href, cls, target}                a link (tel:, downloads)
//   {buttons: [{label, action, cls}]}        buttons (clicks are delegated)
//   {badge: text, cls}                       a small coloured label

import {el} from './util.js';

function build(spec) {
  if (spec === null || spec === undefined) return [''];
  if (typeof spec !== 'object') return [String(spec)];
  if (spec.buttons) {
    return spec.buttons.map((b) => el('button', {type: 'button', class: b.cls || '', dataset: {action: b.action},
      disabled: b.disabled || false}, b.label));
  }
  if (spec.badge !== undefined) return [el('span', {class: `badge ${spec.cls || ''}`}, spec.badge)];
  if (spec.href) {
    return [el('a', {href: spec.href, class: spec.linkCls || '', target: spec.target || null}, spec.text ?? '')];
  }
  return [spec.text ?? ''];
}

export class KeyedRows {
  /**
   * @param tbody the <tbody>
   * @param cells (item) => [cell spec, ...]
   * @param opts.onAction (action, key, button) for delegated button clicks
   * @param opts.classes [per-column td class]
   * @param opts.rowClass (item) => the <tr>'s class
   */
  constructor(tbody, cells, {onAction, classes = [], rowClass} = {}) {
    this.tbody = tbody;
    this.cells = cells;
    this.classes = classes;
    this.rowClass = rowClass;
    this.rows = new Map(); // key -> {tr, sigs: [..], cls}
    this.order = [];
    if (onAction) {
      tbody.addEventListener('click', (ev) => {
        const button = ev.target.closest('button[data-action]');
        if (!button || !tbody.contains(button)) return;
        const tr = button.closest('tr');
        onAction(button.dataset.action, tr.dataset.key, button);
      });
    }
  }

  /** Show `items` (in order), keyed by `keyOf(item)`. */
  render(items, keyOf) {
    const keys = new Array(items.length);
    const seen = new Set();
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      const key = String(keyOf(item));
      keys[i] = key;
      seen.add(key);
      let row = this.rows.get(key);
      const specs = this.cells(item);
      if (!row) {
        const tr = el('tr', {dataset: {key}});
        row = {tr, sigs: [], cls: null};
        specs.forEach((_, c) => tr.append(el('td', {class: this.classes[c] || null})));
        this.rows.set(key, row);
      }
      const tds = row.tr.children;
      for (let c = 0; c < specs.length; c++) {
        const spec = specs[c];
        const sig = typeof spec === 'object' && spec !== null ? JSON.stringify(spec) : String(spec ?? '');
        if (row.sigs[c] !== sig) {
          row.sigs[c] = sig;
          const td = tds[c];
          td.replaceChildren(...build(spec));
          const extra = typeof spec === 'object' && spec !== null && spec.cls && !spec.badge && !spec.buttons
            ? spec.cls : '';
          td.className = [this.classes[c] || '', extra].filter(Boolean).join(' ');
          if (typeof spec === 'object' && spec !== null && spec.title) td.title = spec.title;
        }
      }
      if (this.rowClass) {
        const cls = this.rowClass(item) || '';
        if (row.cls !== cls) {
          row.cls = cls;
          row.tr.className = cls;
        }
      }
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        this.rows.delete(key);
      }
    }
    const same = keys.length === this.order.length && keys.every((k, i) => k === this.order[i]);
    if (!same) {
      // Re-append in order: moves only what is needed for the browser.
      const frag = document.createDocumentFragment();
      for (const key of keys) frag.append(this.rows.get(key).tr);
      this.tbody.append(frag);
      this.order = keys;
    }
  }

  /** Forget every row (the language changed: every label must be rebuilt). */
  clear() {
    this.rows.clear();
    this.order = [];
    this.tbody.replaceChildren();
  }
}
