// The story list: filters in the URL, most recently updated first, paged by
// the API's cursors.
'use strict';

const PAGE = 20;
const LIST = `query List($first: Int, $after: String, $search: String, $actor: String, $status: StoryStatus) {
  stories(first: $first, after: $after, search: $search, actor: $actor, status: $status) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { slug version updatedAt visibility embargoUntil
      snapshot { title summary status developments { id } } }
  }
}`;

const { h } = desk;
const form = document.getElementById('filters');
const list = document.getElementById('stories');
const count = document.getElementById('count');
const next = document.getElementById('next');
const previous = document.getElementById('previous');
/** Cursors of the pages before this one (null: the first page). */
let cursors = [];
let current = null;

function filters() {
  const params = new URLSearchParams(location.search);
  return {
    search: params.get('search') || null,
    actor: params.get('actor') || null,
    status: params.get('status') || null,
  };
}

function fillForm() {
  const f = filters();
  form.search.value = f.search || '';
  form.actor.value = f.actor || '';
  form.status.value = f.status || '';
}

function storyItem(story) {
  const state = story.snapshot;
  return h('li', { 'data-slug': story.slug },
    h('h3', {}, h('a', { href: '/stories/' + encodeURIComponent(story.slug) }, state.title)),
    state.summary ? h('p', {}, state.summary) : null,
    h('p', { class: 'muted' },
      h('span', { class: 'badge status' }, state.status), ' ',
      story.visibility === 'INTERNAL' ? h('span', { class: 'badge internal' }, story.embargoUntil ? 'embargoed' : 'internal') : null, ' ',
      `${state.developments.length} developments · updated ${desk.when(story.updatedAt)} · version ${story.version}`));
}

async function load(after) {
  const f = filters();
  const { data, errors } = await desk.gql(LIST, { first: PAGE, after, ...f });
  list.replaceChildren();
  if (errors.length) {
    count.textContent = `${errors[0].message} (${desk.code(errors)})`;
    next.disabled = previous.disabled = true;
    return;
  }
  const stories = data.stories;
  count.textContent = stories.totalCount === 1 ? '1 story' : `${stories.totalCount} stories`;
  list.append(...stories.nodes.map(storyItem));
  if (!stories.nodes.length) list.append(h('li', { class: 'muted' }, 'No story matches.'));
  current = after;
  next.disabled = !stories.pageInfo.hasNextPage;
  next.onclick = () => { cursors.push(current); load(stories.pageInfo.endCursor); };
  previous.disabled = cursors.length === 0;
}

previous.onclick = () => load(cursors.pop() || null);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const name of ['search', 'actor', 'status']) {
    const value = form[name].value.trim();
    if (value) params.set(name, value);
  }
  history.pushState(null, '', params.toString() ? '?' + params : location.pathname);
  cursors = [];
  load(null);
});

window.addEventListener('popstate', () => { fillForm(); cursors = []; load(null); });
desk.mountTokenPanel(() => { cursors = []; load(null); });
fillForm();
load(null);
