// Small DOM and text helpers shared by the console's modules.

/** Create an element: el('td', {class: 'n', title: 'x'}, 'text', childNode). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
      else if (value === true) node.setAttribute(key, '');
      else node.setAttribute(key, String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Set text only when it changed (cheap to call every frame). */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Fold for search like the server (server/core/text.py): NFD, strip marks, đ→d, lowercase. */
const MARKS = /[\u0300-\u036f]/g;
export function fold(text) {
  return String(text ?? '')
    .replace(/[đĐ]/g, 'd')
    .normalize('NFD')
    .replace(MARKS, '')
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .join(' ');
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Run fn at most once per `ms`, the last call always landing. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return (...args) => {
    const wait = last + ms - performance.now();
    clearTimeout(timer);
    if (wait <= 0) {
      last = performance.now();
      fn(...args);
    } else {
      timer = setTimeout(() => {
        last = performance.now();
        fn(...args);
      }, wait);
    }
  };
}

/** A short-lived message in the corner. */
export function toast(text, kind = 'info', ms = 6000) {
  let box = $('#toasts');
  if (!box) {
    box = el('div', {id: 'toasts', role: 'status', 'aria-live': 'polite'});
    document.body.append(box);
  }
  const item = el('div', {class: `toast ${kind}`}, text);
  box.append(item);
  setTimeout(() => item.remove(), ms);
}

/** Open a <dialog> and resolve with its returnValue when it closes. */
export function openDialog(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), {once: true});
    dialog.returnValue = '';
    dialog.showModal();
  });
}
