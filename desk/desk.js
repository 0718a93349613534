// Shared by the desk's pages: GraphQL over fetch, the token (kept in
// sessionStorage, never in the URL), dates at their precision, and a small
// DOM builder that never parses strings as HTML.
'use strict';

const TOKEN_KEY = 'storyline-token';

const desk = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },

  setToken(token) {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  },

  /** The answer of a GraphQL request: {data, errors}. Network failures and
   *  refusals come back as errors too, with the contract's code. */
  async gql(query, variables = {}) {
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const token = desk.token();
    if (token) headers.authorization = 'Bearer ' + token;
    try {
      const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const answer = await response.json();
      return { data: answer.data || null, errors: answer.errors || [] };
    } catch (error) {
      return { data: null, errors: [{ message: 'The server could not be reached: ' + error.message, extensions: { code: 'UNAVAILABLE' } }] };
    }
  },

  /** Whether a URL may become a link: http or https only (never
   *  javascript:, data: or anything a click could run). */
  isWebUrl(url) {
    return typeof url === 'string' && /^https?:\/\/[^/\s]/i.test(url.trim());
  },

  /** The code of the first error, if any. */
  code(errors) {
    return errors.length ? (errors[0].extensions || {}).code || 'ERROR' : null;
  },

  /** Builds an element: h('p', {class: 'x'}, 'text', child, ...). */
  h(tag, attributes = {}, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
      else element.setAttribute(name, value === true ? '' : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  },

  /** A date shown at its precision: "July 2021" for MONTH. All in UTC, as
   *  stored, so that a date never moves with the reader's time zone. */
  when(iso, precision = 'INSTANT') {
    const date = new Date(iso);
    const options = { timeZone: 'UTC' };
    if (precision === 'YEAR') options.year = 'numeric';
    else if (precision === 'MONTH') Object.assign(options, { year: 'numeric', month: 'long' });
    else if (precision === 'DAY') Object.assign(options, { year: 'numeric', month: 'long', day: 'numeric' });
    else Object.assign(options, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
    const text = new Intl.DateTimeFormat('en-GB', options).format(date);
    return precision === 'INSTANT' ? text + ' UTC' : text;
  },

  /** A datetime-local input's value (read as UTC) as RFC 3339, or null. */
  fromInput(value) {
    if (!value) return null;
    const withSeconds = value.length === 16 ? value + ':00' : value;
    return withSeconds + 'Z';
  },

  /** RFC 3339 as a datetime-local input's value (UTC). */
  toInput(iso) {
    return iso ? new Date(iso).toISOString().slice(0, 19) : '';
  },

  /** The token box in the masthead: enter a token once for the session. */
  mountTokenPanel(onChange) {
    const panel = document.getElementById('token-panel');
    const render = () => {
      panel.replaceChildren();
      if (desk.token()) {
        panel.append(
          desk.h('span', { class: 'muted' }, 'Token in use for this tab'),
          desk.h('button', { type: 'button', class: 'secondary', id: 'forget-token', onclick: () => { desk.setToken(null); render(); onChange(); } }, 'Forget'));
      } else {
        const input = desk.h('input', { type: 'password', id: 'token-input', placeholder: 'API token (to see INTERNAL stories or write)', autocomplete: 'off' });
        const form = desk.h('form', { id: 'token-form', onsubmit: (event) => { event.preventDefault(); if (input.value.trim()) { desk.setToken(input.value.trim()); render(); onChange(); } } },
          input, desk.h('button', { type: 'submit' }, 'Use token'));
        panel.append(form);
      }
    };
    render();
  },
};
