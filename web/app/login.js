// Login with an engine token: POST /v1/session; the engine answers with an HttpOnly cookie.
import {api} from './api.js';
import {h, alert, field, clear} from './dom.js';

export function loginPage(onDone) {
  const token = h('input', {type: 'password', autocomplete: 'current-password', required: true, name: 'token'});
  const msg = h('div', {class: 'hd-login-message', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'pf-v6-c-button pf-m-primary pf-m-block'}, 'Log in');
  const form = h('form', {class: 'pf-v6-c-form', novalidate: true, onsubmit: async (ev) => {
    ev.preventDefault();
    clear(msg);
    submit.disabled = true;
    try {
      const s = await api('POST', '/v1/session', {token: token.value});
      token.value = '';
      onDone(s);
    } catch (e) {
      msg.append(alert('danger', 'Login refused', e.message));
      submit.disabled = false;
      token.focus();
    }
  }},
  field('Engine token', h('span', {class: 'pf-v6-c-form-control'}, token)),
  h('div', {class: 'pf-v6-c-form__group pf-m-action'}, submit));
  const page = h('div', {class: 'pf-v6-c-login'},
    h('div', {class: 'pf-v6-c-login__container'},
      h('header', {class: 'pf-v6-c-login__header'}, h('p', {class: 'hd-login-brand'}, 'hostdev')),
      h('main', {class: 'pf-v6-c-login__main'},
        h('header', {class: 'pf-v6-c-login__main-header'},
          h('h1', {class: 'pf-v6-c-title pf-m-3xl'}, 'Log in to the hostdev engine'),
          h('p', {class: 'pf-v6-c-login__main-header-desc'},
            'Give an engine token (hostdev-engine token create NAME --role admin|viewer prints one).')),
        h('div', {class: 'pf-v6-c-login__main-body'}, msg, form))));
  setTimeout(() => token.focus(), 0);
  return page;
}
