// A PatternFly modal dialog: focus moves into it, Tab stays inside, Escape closes it, focus
// returns to what opened it (or, when the page re-rendered meanwhile, to the button of the same
// name that replaced it).
import {h} from './dom.js';

export function openModal(title, body, actions, {wide = false} = {}) {
  const opener = document.activeElement;
  const openerLabel = opener && opener.getAttribute ? opener.getAttribute('aria-label') : null;
  const titleId = `hd-modal-title-${Date.now()}`;
  let backdrop;
  const close = () => {
    document.removeEventListener('keydown', onKey, true);
    backdrop.remove();
    if (opener && opener.isConnected && opener.focus) opener.focus();
    else if (openerLabel) {
      const again = [...document.querySelectorAll('button[aria-label]')].find((b) => b.getAttribute('aria-label') === openerLabel);
      if (again) again.focus();
    }
  };
  const closeBtn = h('button', {type: 'button', class: 'pf-v6-c-button pf-m-plain', 'aria-label': 'Close', onclick: close},
    h('span', {class: 'pf-v6-c-button__icon', 'aria-hidden': 'true'}, '×'));
  const box = h('div', {class: `pf-v6-c-modal-box ${wide ? 'pf-m-md' : 'pf-m-sm'}`, role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': titleId},
    h('div', {class: 'pf-v6-c-modal-box__close'}, closeBtn),
    h('header', {class: 'pf-v6-c-modal-box__header'},
      h('h1', {class: 'pf-v6-c-modal-box__title', id: titleId}, title)),
    h('div', {class: 'pf-v6-c-modal-box__body'}, body),
    h('footer', {class: 'pf-v6-c-modal-box__footer'}, actions(close)));
  backdrop = h('div', {class: 'pf-v6-c-backdrop'}, h('div', {class: 'pf-v6-l-bullseye'}, box));
  // on the document: a button that disables itself while its call runs drops the focus to <body>
  const onKey = (ev) => {
    if (ev.key === 'Escape') { ev.preventDefault(); close(); return; }
    if (ev.key !== 'Tab') return;
    const f = [...box.querySelectorAll('button, input, select, a[href]')].filter((e) => !e.disabled);
    if (!f.length) return;
    if (ev.shiftKey && document.activeElement === f[0]) { ev.preventDefault(); f[f.length - 1].focus(); }
    else if (!ev.shiftKey && document.activeElement === f[f.length - 1]) { ev.preventDefault(); f[0].focus(); }
    else if (!box.contains(document.activeElement)) { ev.preventDefault(); f[0].focus(); }
  };
  document.addEventListener('keydown', onKey, true);
  document.body.append(backdrop);
  const first = box.querySelector('input, select') || closeBtn;
  first.focus();
  return close;
}
