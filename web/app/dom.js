// Building the DOM without markup strings: every text goes in as text (never parsed as HTML),
// so nothing an agent or a host name says can become script. No inline styles or handlers
// (the engine's Content-Security-Policy forbids them): classes from portal.css and
// addEventListener only.

// h('button', {class: 'pf-v6-c-button', onclick: f, 'aria-label': 'Refresh'}, 'Refresh')
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// A page re-reads what it shows on every server event (feed.js). Re-render @el with the
// children @build() returns (an array, a node, a text), built apart first: when they are the
// same DOM as @el shows (sameDom), @el is left as it is, its elements and their listeners in
// place. A button swapped for its copy between the pointer's press and its release loses the
// click (no click event when mousedown and mouseup land on different elements): a re-read that
// changes nothing must never do that. Handlers of what is kept were made by an earlier read
// that showed the same: they may use what the markup shows (an id, a name, a state that picks
// the buttons) and nothing else; anything else they read when they run (from a holder the page
// updates at every read, or the engine). When it does change, a focused control inside with an
// aria-label gets the focus back in its new copy (a keyboard user's Edit or Start button must
// not drop to <body>). TRUE when it changed.
export function rerender(el, build) {
  const next = append(el.cloneNode(false), build());
  if (sameDom(el, next)) return false;
  const a = document.activeElement;
  const name = a && el.contains(a) ? a.getAttribute('aria-label') : null;
  el.replaceChildren(...next.childNodes);
  if (name) {
    const again = [...el.querySelectorAll('[aria-label]')].find((x) => x.getAttribute('aria-label') === name);
    if (again) again.focus();
  }
  return true;
}

// Whether @live (shown) and @next (just built, detached) are the same DOM: the same tree, the
// same attributes, the same values of form controls (set as properties: not in the attributes).
// A button of @live showing its call's progress (button(): aria-busy) counts as the button at
// rest, so it stays and ends its progress itself.
export function sameDom(live, next) {
  const rest = live.cloneNode(true);
  for (const b of rest.querySelectorAll('[aria-busy="true"]')) {
    b.removeAttribute('aria-busy');
    b.removeAttribute('disabled');
    b.classList.remove('pf-m-in-progress', 'pf-m-progress');
  }
  if (!rest.isEqualNode(next)) return false;
  const controls = (el) => el.querySelectorAll('input, select, textarea, option');
  const a = controls(live), b = controls(next);
  for (let i = 0; i < a.length; i++)
    if (a[i].value !== b[i].value || a[i].checked !== b[i].checked || a[i].selected !== b[i].selected) return false;
  return true;
}

// A button; when its handler returns a promise (an API call), the button shows the progress:
// disabled, aria-busy and PatternFly's in-progress look until the call ends.
export function button(text, onclick, {variant = 'secondary', label, small = false, disabled = false} = {}) {
  const b = h('button', {
    type: 'button',
    class: `pf-v6-c-button pf-m-${variant}${small ? ' pf-m-small' : ''}`,
    'aria-label': label,
    disabled,
    onclick: (ev) => {
      const r = onclick(ev);
      if (!r || typeof r.then !== 'function') return;
      b.disabled = true;
      b.setAttribute('aria-busy', 'true');
      b.classList.add('pf-m-in-progress', 'pf-m-progress');
      const done = () => {
        b.disabled = false;
        b.removeAttribute('aria-busy');
        b.classList.remove('pf-m-in-progress', 'pf-m-progress');
        // disabling dropped the focus: give it back to the button (keyboard users stay put)
        if (document.activeElement === document.body && b.isConnected) b.focus();
      };
      r.then(done, done);
    },
  }, h('span', {class: 'pf-v6-c-button__text'}, text));
  return b;
}

export function label(text, color) {
  return h('span', {class: `pf-v6-c-label pf-m-compact${color ? ' pf-m-' + color : ''}`},
    h('span', {class: 'pf-v6-c-label__content'}, h('span', {class: 'pf-v6-c-label__text'}, text)));
}

// A PatternFly inline alert; variant: danger, warning, success, info.
export function alert(variant, title, description) {
  return h('div', {class: `pf-v6-c-alert pf-m-inline pf-m-${variant}`, role: variant === 'danger' ? 'alert' : 'status'},
    h('p', {class: 'pf-v6-c-alert__title'}, h('span', {class: 'pf-v6-screen-reader'}, `${variant} alert: `), title),
    description ? h('div', {class: 'pf-v6-c-alert__description'}, h('p', {}, description)) : null);
}

// A labelled text input (the label is visible; the input gets its accessible name from it).
let ids = 0;
export function field(labelText, input) {
  const id = `hd-field-${++ids}`;
  const control = input.matches('input, select, textarea') ? input : input.querySelector('input, select, textarea');
  control.id = id;
  return h('div', {class: 'pf-v6-c-form__group'},
    h('div', {class: 'pf-v6-c-form__group-label'},
      h('label', {class: 'pf-v6-c-form__label', for: id}, h('span', {class: 'pf-v6-c-form__label-text'}, labelText))),
    h('div', {class: 'pf-v6-c-form__group-control'}, input));
}

export function textInput(props) {
  const input = h('input', {type: 'text', ...props});
  return {input, wrap: h('span', {class: 'pf-v6-c-form-control'}, input)};
}

export function select(labelText, options, value, onchange) {
  const sel = h('select', {'aria-label': labelText, onchange: () => onchange(sel.value)},
    options.map(([v, t]) => h('option', {value: v, selected: v === value}, t)));
  return h('span', {class: 'pf-v6-c-form-control'}, sel);
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}
