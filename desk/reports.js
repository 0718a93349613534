// The inbox: reports newest first with their status, publisher, feed,
// drafts and best suggested story; filters in the URL; pages by cursor;
// new reports live (the `reports` subscription); a form to keep a report
// pasted or read from a file. Reports are newsroom material: a token is
// needed.
'use strict';

const PAGE = 25;
const REPORTS = `query Inbox($first: Int, $after: String, $status: ReportStatus, $publisher: String, $search: String) {
  reports(first: $first, after: $after, status: $status, publisher: $publisher, search: $search) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id title publisher publishedAt receivedAt feed status
      drafts { headline }
      suggestedStories(first: 1) { score story { slug snapshot { title } } } }
  }
}`;
const SUBMIT = `mutation($input: ReportInput!) { submitReport(input: $input) { deduplicated readAfter report { id } } }`;

const { h } = desk;
const inbox = document.getElementById('inbox');
const status = document.getElementById('status');
const body = document.querySelector('#reports tbody');
const count = document.getElementById('report-count');
const filters = document.getElementById('report-filters');
let after = null;
let live = null;

function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  for (const name of ['status', 'publisher', 'search']) filters[name].value = params.get(name) || '';
}

function variables() {
  const value = (name) => filters[name].value.trim() || null;
  return { first: PAGE, after, status: value('status'), publisher: value('publisher'), search: value('search') };
}

/** The first words of a report with no title. */
function titleOf(report) {
  return report.title || (report.publisher ? `Report from ${report.publisher}` : 'Untitled report');
}

async function load() {
  if (!desk.token()) {
    inbox.hidden = true;
    status.textContent = 'Enter a token to see the reports.';
    return;
  }
  inbox.hidden = false;
  const { data, errors } = await desk.gql(REPORTS, variables());
  if (errors.length) {
    status.textContent = `${desk.code(errors)}: ${errors[0].message}`;
    return;
  }
  status.textContent = '';
  const page = data.reports;
  count.textContent = `${page.totalCount} report${page.totalCount === 1 ? '' : 's'}`;
  body.replaceChildren(...page.nodes.map((r) => {
    const best = r.suggestedStories[0];
    return h('tr', { 'data-report': r.id, class: `status-${r.status.toLowerCase()}` },
      h('td', {}, desk.when(r.receivedAt)),
      h('td', {}, h('a', { href: `/reports/${r.id}` }, titleOf(r)), r.publisher ? h('div', { class: 'muted' }, r.publisher) : null),
      h('td', {}, h('span', { class: `badge report-${r.status.toLowerCase()}` }, r.status.toLowerCase())),
      h('td', {}, r.publishedAt ? desk.when(r.publishedAt) : '—'),
      h('td', {}, r.feed || '—'),
      h('td', { class: 'number' }, String(r.drafts.length)),
      h('td', {}, best ? [h('a', { href: `/stories/${encodeURIComponent(best.story.slug)}` }, best.story.snapshot.title),
        h('span', { class: 'muted' }, ` ${Math.round(best.score * 100)} %`)] : '—'));
  }));
  if (!page.nodes.length) body.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No report matches.')));
  const next = document.getElementById('reports-next');
  const first = document.getElementById('reports-first');
  next.disabled = !page.pageInfo.hasNextPage;
  first.disabled = after === null;
  next.onclick = () => { after = page.pageInfo.endCursor; load(); };
  first.onclick = () => { after = null; load(); };
}

filters.addEventListener('submit', (event) => {
  event.preventDefault();
  const params = new URLSearchParams();
  for (const name of ['status', 'publisher', 'search']) if (filters[name].value.trim()) params.set(name, filters[name].value.trim());
  history.pushState(null, '', location.pathname + (params.toString() ? '?' + params : ''));
  after = null;
  load();
});
window.addEventListener('popstate', () => { filtersFromUrl(); after = null; load(); });

/** A file's format from its name: .html/.htm, .json/.ninjs, else text. */
function formatOfFile(name) {
  if (/\.html?$/i.test(name)) return 'HTML';
  if (/\.(json|ninjs)$/i.test(name)) return 'NINJS';
  return 'TEXT';
}

const form = document.getElementById('submit-form');
form.file.addEventListener('change', async () => {
  const file = form.file.files[0];
  if (!file) return;
  form.body.value = await file.text();
  form.format.value = formatOfFile(file.name);
});
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = document.getElementById('submit-error');
  error.hidden = true;
  const publishedAt = desk.readTime(form.publishedAt);
  if (publishedAt === undefined) return;
  const optional = (value) => (value && value.trim()) || undefined;
  const input = {
    body: form.body.value,
    format: form.format.value,
    title: optional(form.title.value),
    publisher: optional(form.publisher.value),
    sourceKind: form.sourceKind.value || undefined,
    publishedAt: publishedAt || undefined,
  };
  const { data, errors } = await desk.gql(SUBMIT, { input });
  if (errors.length) {
    error.textContent = `${errors[0].message} (${desk.code(errors)})`;
    error.hidden = false;
    return;
  }
  desk.rememberWrite(data.submitReport.readAfter);
  location.href = `/reports/${data.submitReport.report.id}`;
});

/** New reports appear as they are kept, wherever they came from. */
function follow() {
  if (live) live.dispose();
  if (!desk.token() || typeof graphqlWs === 'undefined') return;
  const url = location.origin.replace(/^http/, 'ws') + '/graphql';
  live = graphqlWs.createClient({ url, connectionParams: { token: desk.token() }, retryAttempts: Infinity });
  live.subscribe({ query: 'subscription { reports { id } }' }, {
    next: () => { if (after === null) load(); },
    error: () => {},
    complete: () => {},
  });
}

desk.mountTokenPanel(() => { load(); follow(); });
filtersFromUrl();
load();
follow();
