// Shared by the desk's pages: GraphQL over fetch, the token (kept in
// sessionStorage, never in the URL), dates at their precision, and a small
// DOM builder that never parses strings as HTML.
'use strict';

const TOKEN_KEY = 'storyline-token';
const READ_AFTER_KEY = 'storyline-read-after';

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
    // After a write of this tab, reads wait for a replica that has it.
    const readAfter = sessionStorage.getItem(READ_AFTER_KEY);
    if (readAfter) headers['storyline-read-after'] = readAfter;
    try {
      const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const answer = await response.json();
      return { data: answer.data || null, errors: answer.errors || [] };
    } catch (error) {
      return { data: null, errors: [{ message: 'The server could not be reached: ' + error.message, extensions: { code: 'UNAVAILABLE' } }] };
    }
  },

  /** Keeps a write's readAfter for this tab's next reads. */
  rememberWrite(readAfter) {
    if (typeof readAfter === 'string' && /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i.test(readAfter)) {
      sessionStorage.setItem(READ_AFTER_KEY, readAfter);
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

  /** Builds an SVG element as `h` builds an HTML one. */
  svg(tag, attributes = {}, ...children) {
    const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value !== null && value !== undefined) element.setAttribute(name, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) element.append(child instanceof Node ? child : String(child));
    }
    return element;
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

  /** A time typed as "2021-07-10 00:00" (UTC; a T, seconds, a trailing Z
   *  or UTC, or the date alone are accepted too) as RFC 3339; null when
   *  empty, undefined when it is not a time. */
  fromInput(value) {
    const text = (value || '').trim();
    if (!text) return null;
    const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?\s*(?:Z|UTC)?$/i.exec(text);
    if (!m) return undefined;
    const iso = `${m[1]}T${m[2] || '00'}:${m[3] || '00'}:${m[4] || '00'}Z`;
    return Number.isNaN(Date.parse(iso)) ? undefined : iso;
  },

  /** RFC 3339 as the inputs show it: "2021-07-10 00:00" (UTC), seconds
   *  only when there are some. */
  toInput(iso) {
    if (!iso) return '';
    const text = new Date(iso).toISOString();
    const seconds = text.slice(17, 19);
    return text.slice(0, 10) + ' ' + text.slice(11, 16) + (seconds === '00' ? '' : ':' + seconds);
  },

  /** Reads a time input; marks it invalid (and returns undefined) when it
   *  holds no time. */
  readTime(input) {
    const value = desk.fromInput(input.value);
    input.setCustomValidity(value === undefined ? 'a time such as 2021-07-10 00:00 (UTC)' : '');
    if (value === undefined) input.reportValidity();
    return value;
  },

  /** The event types as an editor says them. */
  eventName(type) {
    const names = {
      StoryOpened: 'Story opened',
      DevelopmentReported: 'Development reported',
      DevelopmentCorrected: 'Development corrected',
      DevelopmentRetracted: 'Development retracted',
      DevelopmentVerificationChanged: 'Verdict given',
      StoryStatusChanged: 'Status changed',
      StoryVisibilityChanged: 'Visibility changed',
    };
    return names[type] || type;
  },

  /** "Kabul, Afghanistan"; "Qatar" once when the place is the country. */
  placeName(location) {
    const sameAsCountry = location.country && location.country.trim().toLowerCase() === location.name.trim().toLowerCase();
    return location.country && !sameAsCountry ? `${location.name}, ${location.country}` : location.name;
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
        const input = desk.h('input', { type: 'password', id: 'token-input', placeholder: 'API token', autocomplete: 'off',
          title: 'A token from `storyline token create`: write to see INTERNAL stories and write, read to see them only' });
        const form = desk.h('form', { id: 'token-form', onsubmit: (event) => { event.preventDefault(); if (input.value.trim()) { desk.setToken(input.value.trim()); render(); onChange(); } } },
          input, desk.h('button', { type: 'submit' }, 'Use token'),
          desk.h('small', { class: 'token-hint' }, 'from ', desk.h('code', {}, 'storyline token create'), ', to write or see INTERNAL stories'));
        panel.append(form);
      }
    };
    render();
  },
};
