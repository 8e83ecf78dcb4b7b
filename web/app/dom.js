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

// Fill @el with @children only when they differ from what it shows (the same markup, the same
// attributes; handlers are not compared, so only for content whose handlers use nothing but
// what the markup shows). A page re-reads on every event: a button swapped for its copy between
// the pointer's press and its release loses the click, for nothing. TRUE when it changed.
export function replaceIfChanged(el, children) {
  const next = append(document.createElement(el.tagName), children);
  if (next.innerHTML === el.innerHTML) return false;
  append(clear(el), [...next.childNodes]);
  return true;
}

// Re-render @el with @render() (which fills it again) without losing the keyboard's place: a
// focused control inside it with an aria-label gets the focus back in its new copy (the pages
// re-read on every event; a keyboard user's Edit or Start button must not drop to <body>).
export function rerender(el, render) {
  const a = document.activeElement;
  const name = a && el.contains(a) ? a.getAttribute('aria-label') : null;
  render();
  if (!name) return;
  const again = [...el.querySelectorAll('[aria-label]')].find((x) => x.getAttribute('aria-label') === name);
  if (again) again.focus();
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
