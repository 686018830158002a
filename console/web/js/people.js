// People: the launch's key holders (operators add and revoke them; each gets
// a personal press link and QR code, shown once) and the organizers' access
// tokens (admins issue them with a log-in link and QR code for a tablet,
// shown once; listed with their last use; revoked with one click), and the
// units' desks (docs/protocol.md#desks): "Giao bàn cho …" gives one unit a
// token scoped to its subtree (log-in link and QR code shown once); the bulk
// action gives every unit of a level its desk and offers the log-in sheets
// (CSV, printable QR sheet) from that one answer.

import {api} from './api.js';
import {dateTime, levelName, num, onLangChange, t, time} from './i18n.js';
import {$, el, fold, openDialog, setText, toast} from './util.js';

export class People {
  constructor(live, ctx) {
    this.live = live;
    this.ctx = ctx;
    this.root = $('#view-people');
    this.holders = [];
    this.tokens = [];
    $('#kh-form').addEventListener('submit', (ev) => this.addHolder(ev));
    $('#org-form').addEventListener('submit', (ev) => this.addToken(ev));
    $('#desk-form').addEventListener('submit', (ev) => this.addDesk(ev));
    $('#desk-point').addEventListener('input', () => this.deskLabel());
    $('#desk-bulk').addEventListener('submit', (ev) => this.addDesks(ev));
    this.sheetUrls = [];
    $('#kh-table').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action=revoke]');
      if (b) this.revokeHolder(b.dataset.id);
    });
    $('#org-table').addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-action=revoke]');
      if (b) this.revokeToken(b.dataset.id);
    });
    $('#secret-copy').addEventListener('click', () => {
      navigator.clipboard.writeText($('#secret-link').href).then(() => toast(t('secret.copied')), () => {});
    });
    $('#secret-print').addEventListener('click', () => window.print());
    live.subscribe((ch) => {
      if (ch.keyholders) {
        this.holders = ch.keyholders;
        if (!this.root.hidden) this.renderHolders();
      }
    });
    onLangChange(() => this.render());
  }

  shown() {
    this.load().catch((err) => this.ctx.fail(err));
  }

  async load() {
    const [holders, tokens, audit] = await Promise.all([
      api('GET', `${this.ctx.base()}/keyholders`),
      this.ctx.can('admin') ? api('GET', '/api/tokens') : Promise.resolve([]),
      this.ctx.can('admin') ? api('GET', '/api/tokens/audit') : Promise.resolve({items: []}),
    ]);
    this.holders = holders;
    this.tokens = tokens;
    this.audit = audit.items;
    this.render();
  }

  render() {
    this.renderHolders();
    this.renderTokens();
    if (this.ctx.can('admin')) this.renderDeskPickers();
  }

  status(revoked) {
    return el('span', {class: revoked ? 'status-revoked' : ''}, t(revoked ? 'people.revoked' : 'people.active'));
  }

  renderHolders() {
    const canAct = this.ctx.can('operator');
    $('#kh-table tbody').replaceChildren(...this.holders.map((h) => el('tr', {dataset: {key: h.id}},
      el('td', null, h.name), el('td', null, time(h.added_ms)), el('td', null, this.status(h.revoked)),
      el('td', {class: 'actions'}, canAct && !h.revoked ? el('button', {type: 'button', class: 'small danger',
        dataset: {action: 'revoke', id: h.id}}, t('people.revoke')) : null))));
    $('#kh-empty').hidden = this.holders.length > 0;
  }

  renderTokens() {
    const rows = [...this.tokens].sort((a, b) => b.issued_ms - a.issued_ms);
    $('#org-table tbody').replaceChildren(...rows.map((o) => el('tr', {dataset: {key: o.id}},
      el('td', null, o.name), el('td', null, t(`role.${o.role}`)), el('td', null, dateTime(o.issued_ms)),
      el('td', null, o.last_used_ms ? dateTime(o.last_used_ms) : t('org.never')), el('td', null, this.status(o.revoked)),
      el('td', {class: 'actions'}, o.revoked ? null : el('button', {type: 'button', class: 'small danger',
        dataset: {action: 'revoke', id: o.id}}, t('people.revoke'))))));
    $('#org-audit').replaceChildren(...(this.audit || []).map((e) => el('li', null,
      `${dateTime(e.at_ms)} · ${e.actor || t('audit.system')}: ${document.documentElement.lang === 'en' ? e.summary_en : e.summary}`)));
  }

  // -- desks -------------------------------------------------------------------

  renderDeskPickers() {
    const points = [...this.live.points.values()];
    $('#desk-points').replaceChildren(...points.map((p) => el('option', {value: p.code},
      `${p.name} · ${levelName(p.level)}`)));
    const counts = new Map();
    for (const p of points) counts.set(p.level, (counts.get(p.level) || 0) + 1);
    const select = $('#desk-bulk-level');
    const value = select.value;
    select.replaceChildren(...[...counts].map(([level, n]) => el('option', {value: level},
      t('desk.bulk_level', {level: levelName(level), n: num(n)}))));
    if (counts.has(value)) select.value = value;
    else if (counts.has('commune')) select.value = 'commune';
    this.deskLabel();
  }

  /** The point the picker names: its code, or a name that only one point has. */
  pickedPoint() {
    const typed = $('#desk-point').value.trim();
    if (!typed) return null;
    const byCode = this.live.points.get(typed);
    if (byCode) return byCode;
    const key = fold(typed);
    const named = [...this.live.points.values()].filter((p) => fold(p.name) === key);
    return named.length === 1 ? named[0] : null;
  }

  deskLabel() {
    const p = this.pickedPoint();
    setText($('#desk-give'), p ? t('desk.give_for', {name: p.name}) : t('desk.give'));
  }

  async addDesk(ev) {
    ev.preventDefault();
    setText($('#desk-error'), '');
    const p = this.pickedPoint();
    if (!p) {
      setText($('#desk-error'), t('desk.pick_first'));
      return;
    }
    const name = $('#desk-name').value.trim() || t('desk.default_name', {name: p.name}).slice(0, 100);
    const role = $('#desk-role').value;
    try {
      const made = await api('POST', '/api/tokens', {name, role,
        scope: {event: this.ctx.eventId(), point: p.code}});
      $('#desk-point').value = '';
      $('#desk-name').value = '';
      this.deskLabel();
      await this.load();
      await this.showSecret(t('desk.link_title', {name: made.name, unit: p.name}), t('desk.link_hint'),
        made.login_url, made.qr_svg);
    } catch (err) {
      setText($('#desk-error'), err.message);
    }
  }

  /** Every unit of a level gets its desk; the sheets come in the same answer (the links exist only there). */
  async addDesks(ev) {
    ev.preventDefault();
    const level = $('#desk-bulk-level').value;
    const role = $('#desk-bulk-role').value;
    try {
      const out = await api('POST', `${this.ctx.base()}/desks?format=json&sheets=1`, {level, role});
      for (const url of this.sheetUrls) URL.revokeObjectURL(url);
      const eid = this.ctx.eventId();
      const csv = URL.createObjectURL(new Blob([out.csv], {type: 'text/csv;charset=utf-8'}));
      const sheet = URL.createObjectURL(new Blob([out.html], {type: 'text/html;charset=utf-8'}));
      this.sheetUrls = [csv, sheet];
      Object.assign($('#desk-bulk-csv'), {href: csv, download: `desks-${eid}.csv`});
      Object.assign($('#desk-bulk-sheet'), {href: sheet, download: `desks-${eid}.html`});
      setText($('#desk-bulk-summary'), t('desk.bulk_done', {n: num(out.created.length), m: num(out.existing.length)}));
      for (const node of [$('#desk-bulk-csv'), $('#desk-bulk-sheet'), $('#desk-bulk-result .banner')]) {
        node.hidden = !out.created.length;
      }
      $('#desk-bulk-result').hidden = false;
      await this.load();
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  /** The link (and its QR code, an SVG made by the server) shown once. */
  showSecret(title, hint, url, qrSvg) {
    setText($('#secret-title'), title);
    setText($('#secret-hint'), hint);
    const link = $('#secret-link');
    link.href = url;
    setText(link, url);
    // The SVG comes from our own server (segno), made from the link alone.
    $('#secret-qr').innerHTML = qrSvg;
    return openDialog($('#secret-dialog')).then(() => {
      $('#secret-qr').replaceChildren();
      link.removeAttribute('href');
      setText(link, '');
    });
  }

  async addHolder(ev) {
    ev.preventDefault();
    const name = $('#kh-name').value.trim();
    try {
      const made = await api('POST', `${this.ctx.base()}/keyholders`, {name});
      $('#kh-name').value = '';
      this.holders = [...this.holders.filter((h) => h.id !== made.id), made];
      this.renderHolders();
      await this.showSecret(t('kh.link_title', {name: made.name}), t('kh.link_hint'), made.url, made.qr_svg);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async revokeHolder(id) {
    const h = this.holders.find((x) => x.id === id);
    try {
      await api('DELETE', `${this.ctx.base()}/keyholders/${encodeURIComponent(id)}`);
      toast(t('kh.revoked', {name: h ? h.name : id}));
      await this.load();
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async addToken(ev) {
    ev.preventDefault();
    const name = $('#org-name').value.trim();
    const role = $('#org-role').value;
    try {
      const made = await api('POST', '/api/tokens', {name, role});
      $('#org-name').value = '';
      await this.load();
      await this.showSecret(t('org.link_title', {name: made.name, role: t(`role.${made.role}`)}), t('org.link_hint'),
        made.login_url, made.qr_svg);
    } catch (err) {
      this.ctx.fail(err);
    }
  }

  async revokeToken(id) {
    const o = this.tokens.find((x) => x.id === id);
    try {
      await api('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
      toast(t('org.revoked', {name: o ? o.name : id}));
      await this.load();
    } catch (err) {
      this.ctx.fail(err);
    }
  }
}
