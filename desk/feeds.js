// The feeds page: every feed followed and the state of its polling, read
// through the `feeds` query (a live token needed), refreshed every 10 s.
'use strict';

const FEEDS = `{ feeds { name url format publisher everySeconds lastPolledAt lastSuccessAt
  lastError nextPollAt reportsReceived } }`;

const { h } = desk;
const body = document.querySelector('#feeds tbody');
const status = document.getElementById('status');

function at(iso) {
  return iso ? desk.when(iso) : '—';
}

/** Only http(s) addresses become links. */
function link(url, text) {
  return desk.isWebUrl(url) ? h('a', { href: url, rel: 'noopener noreferrer' }, text) : text;
}

async function load() {
  if (!desk.token()) {
    body.replaceChildren();
    status.textContent = 'Enter a token to see the feeds.';
    return;
  }
  const { data, errors } = await desk.gql(FEEDS);
  if (errors.length) {
    status.textContent = `${desk.code(errors)}: ${errors[0].message}`;
    return;
  }
  const feeds = data.feeds;
  status.textContent = feeds.length ? `${feeds.length} feed${feeds.length === 1 ? '' : 's'}` : 'No feeds are followed yet.';
  body.replaceChildren(...feeds.map((feed) => h('tr', { class: feed.lastError ? 'failing' : null },
    h('td', {}, link(feed.url, feed.name), feed.publisher ? h('div', { class: 'muted' }, feed.publisher) : null),
    h('td', {}, feed.format || '—'),
    h('td', {}, `${feed.everySeconds} s`),
    h('td', {}, at(feed.lastPolledAt)),
    h('td', {}, at(feed.lastSuccessAt)),
    h('td', {}, at(feed.nextPollAt)),
    h('td', { class: 'number' }, String(feed.reportsReceived)),
    h('td', { class: 'error' }, feed.lastError || ''))));
}

desk.mountTokenPanel(load);
load();
setInterval(load, 10000);
